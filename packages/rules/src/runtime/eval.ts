/**
 * Expression evaluation over an event's columns, with EMQX's semantics:
 *
 * - `payload.x` decodes the payload as JSON (once per evaluation); a payload that is not JSON
 *   is an error (the rule counts `failed.exception`);
 * - comparisons with no value on one side are false (both sides without value: equal); a number
 *   compared with text converts the text to a number (an error when it is not numeric);
 *   booleans compare with text by name; otherwise Erlang's term order;
 * - `+` adds numbers or, when either side is text, concatenates (the other side converted as
 *   by `str()`); `div` and `mod` need integers; `/` by zero is an error;
 * - conditions (WHERE, INCASE, CASE WHEN, and/or/not) are true only for the boolean `true`.
 */
import { topicMatches } from '@junction/broker-core';
import type { FunctionContext, FunctionRegistry } from '../functions/registry.js';
import type { BinaryOp, Expr } from '../sql/ast.js';
import { getStep, sliceList } from './paths.js';
import { RuleEvalError, compareValues, isText, jsonDecode, textOf, toStr, typeName, valuesEqual, type Value, type ValueMap } from './values.js';
import { parseNumber } from '../functions/types.js';

/** What evaluation needs besides the expression: functions, the clock, the kv store. */
export interface EvalServices {
  readonly functions: FunctionRegistry;
  now(): number;
  readonly kv: Map<string, Value>;
}

/** One evaluation of a rule: the services and the decoded-payload cache. */
export class Evaluation {
  private rawPayload: Value = undefined;
  private decoded: Value = undefined;

  constructor(readonly services: EvalServices) {}

  /** The payload as JSON data; decoded once per raw payload. */
  payload(cols: ValueMap): Value {
    const p = cols.payload;
    if (!isText(p)) return p;
    if (p !== this.rawPayload || this.decoded === undefined) {
      try {
        this.decoded = jsonDecode(p);
      } catch (err) {
        throw new RuleEvalError(`payload is not valid JSON (decode_json_failed): ${(err as Error).message}`, { cause: err });
      }
      this.rawPayload = p;
    }
    return this.decoded;
  }

  eval(e: Expr, cols: ValueMap): Value {
    switch (e.kind) {
      case 'const':
        return e.value === null ? undefined : e.value;
      case 'path': {
        let v: Value = e.root === 'payload' && e.segments.length > 0 ? this.payload(cols) : Object.hasOwn(cols, e.root) ? cols[e.root] : undefined;
        for (const s of e.segments) {
          if (v === undefined) return undefined;
          if (s.kind === 'key') v = getStep(v, s.key);
          else {
            const i = this.eval(s.index, cols);
            v = typeof i === 'number' ? getStep(v, i) : undefined;
          }
        }
        return v;
      }
      case 'slice':
        return sliceList(this.eval(e.target, cols), e.from, e.to);
      case 'list':
        return e.items.map((x) => this.eval(x, cols));
      case 'range': {
        const out: number[] = [];
        for (let i = e.from; i <= e.to; i++) out.push(i);
        return out;
      }
      case 'unary': {
        const v = this.eval(e.operand, cols);
        // `not x` is false when x is not a boolean, as in EMQX.
        if (e.op === 'not') return typeof v === 'boolean' ? !v : false;
        if (typeof v !== 'number') throw new RuleEvalError(`unary ${e.op} needs a number, got ${typeName(v)}`);
        return e.op === '-' ? -v : v;
      }
      case 'binary':
        if (e.op === 'and') return this.condition(e.left, cols) && this.condition(e.right, cols);
        if (e.op === 'or') return this.condition(e.left, cols) || this.condition(e.right, cols);
        return binary(e.op, this.eval(e.left, cols), this.eval(e.right, cols));
      case 'in': {
        const v = this.eval(e.value, cols);
        const found = e.list.some((x) => valuesEqual(v, this.eval(x, cols)));
        return e.negated ? !found : found;
      }
      case 'call': {
        const f = this.services.functions.get(e.name);
        if (!f) throw new RuleEvalError(`unknown function ${e.name}()`);
        const args = e.args.map((a) => this.eval(a, cols));
        const ctx: FunctionContext = { columns: cols, now: () => this.services.now(), kv: this.services.kv };
        return f.call(args, ctx);
      }
      case 'case':
        if (e.on) {
          const on = this.eval(e.on, cols);
          for (const w of e.whens) if (valuesEqual(this.eval(w.when, cols), on)) return this.eval(w.then, cols);
        } else {
          for (const w of e.whens) if (this.condition(w.when, cols)) return this.eval(w.then, cols);
        }
        return e.else ? this.eval(e.else, cols) : undefined;
    }
  }

  /** A condition: true only when the expression is the boolean true. */
  condition(e: Expr, cols: ValueMap): boolean {
    return this.eval(e, cols) === true;
  }
}

function num(op: string, v: Value): number {
  if (typeof v !== 'number') throw new RuleEvalError(`${op} needs numbers, got ${typeName(v)}`);
  return v;
}

function integer(op: string, v: Value): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new RuleEvalError(`${op} needs integers, got ${typeName(v)}`);
  return v;
}

export function binary(op: BinaryOp, l: Value, r: Value): Value {
  switch (op) {
    case '+':
      if (typeof l === 'number' && typeof r === 'number') return l + r;
      if (isText(l) || isText(r)) return toStr(l) + toStr(r);
      throw new RuleEvalError(`+ needs two numbers or a string, got ${typeName(l)} and ${typeName(r)}`);
    case '-':
      return num('-', l) - num('-', r);
    case '*':
      return num('*', l) * num('*', r);
    case '/': {
      const d = num('/', r);
      if (d === 0) throw new RuleEvalError('division by zero');
      return num('/', l) / d;
    }
    case 'div': {
      const d = integer('div', r);
      if (d === 0) throw new RuleEvalError('division by zero');
      return Math.trunc(integer('div', l) / d);
    }
    case 'mod': {
      const d = integer('mod', r);
      if (d === 0) throw new RuleEvalError('division by zero');
      return integer('mod', l) % d;
    }
    case 'and':
      return l === true && r === true;
    case 'or':
      return l === true || r === true;
    default:
      return compare(op, l, r);
  }
}

type CompareOp = '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=' | '=~';

/** EMQX's comparison (emqx_rule_runtime:compare/3). */
export function compare(op: CompareOp, l: Value, r: Value): boolean {
  if (op === '=~') {
    const topic = textOf(l);
    const filter = textOf(r);
    return topic !== undefined && filter !== undefined && topicMatches(filter, topic);
  }
  if (l === undefined || r === undefined) {
    if (l !== r) return false;
    return op === '=' || op === '<=' || op === '>=';
  }
  let a = l;
  let b = r;
  if (typeof a === 'number' && isText(b)) b = textToNumber(b);
  else if (isText(a) && typeof b === 'number') a = textToNumber(a);
  else if ((typeof a === 'boolean' || a === null) && isText(b)) a = String(a);
  else if (isText(a) && (typeof b === 'boolean' || b === null)) b = String(b);
  switch (op) {
    case '=':
      return valuesEqual(a, b);
    case '!=':
    case '<>':
      return !valuesEqual(a, b);
    case '<':
      return compareValues(a, b) < 0;
    case '<=':
      return compareValues(a, b) <= 0 || valuesEqual(a, b);
    case '>':
      return compareValues(a, b) > 0;
    case '>=':
      return compareValues(a, b) >= 0 || valuesEqual(a, b);
  }
}

function textToNumber(v: string | Buffer): number {
  const t = textOf(v)!;
  const n = parseNumber(t);
  if (n === undefined) throw new RuleEvalError(`cannot compare a number with the non-numeric string ${JSON.stringify(t)}`);
  return n;
}

