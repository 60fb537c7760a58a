/**
 * From SQL text to a runnable statement: parse, check every function name and argument count,
 * and sort the FROM sources into topic filters, `$events/...` events and `$bridges/...` ids.
 * Every problem is a `RuleSqlError` with the position of the offending part.
 */
import { validateTopicFilter } from '@junction/broker-core';
import { eventForTopic, type EventName } from '../events/catalog.js';
import type { FunctionRegistry } from '../functions/registry.js';
import type { Expr, Field, Statement } from '../sql/ast.js';
import { RuleSqlError } from '../sql/errors.js';
import { parseSql } from '../sql/parser.js';

export interface CompiledSql {
  readonly sql: string;
  readonly statement: Statement;
  /** Topic filters of message.publish. */
  readonly topics: readonly string[];
  readonly events: readonly EventName[];
  /** `$bridges/<type>:<name>` ids, without the prefix. */
  readonly bridges: readonly string[];
}

export function compileSql(sql: string, functions: FunctionRegistry): CompiledSql {
  const statement = parseSql(sql);
  const check = (e: Expr | undefined) => e && walk(e, functions);
  const checkFields = (fs: readonly Field[] | undefined) => fs?.forEach((f) => f.kind === 'expr' && walk(f.expr, functions));
  checkFields(statement.fields);
  check(statement.where);
  if (statement.type === 'foreach') {
    checkFields(statement.do);
    check(statement.incase);
  }
  const topics: string[] = [];
  const events: EventName[] = [];
  const bridges: string[] = [];
  for (const { source, pos } of statement.from) {
    if (source.startsWith('$events/')) {
      const name = eventForTopic(source);
      if (!name) throw new RuleSqlError(`unknown event ${JSON.stringify(source)}`, pos);
      if (!events.includes(name)) events.push(name);
    } else if (source.startsWith('$bridges/')) {
      const id = source.slice('$bridges/'.length);
      if (!/^[^:/]+:[^/]+$/.test(id)) throw new RuleSqlError(`a bridge source is "$bridges/<type>:<name>", got ${JSON.stringify(source)}`, pos);
      bridges.push(id);
    } else {
      try {
        validateTopicFilter(source);
      } catch (err) {
        throw new RuleSqlError((err as Error).message, pos);
      }
      topics.push(source);
    }
  }
  return { sql, statement, topics, events, bridges };
}

function walk(e: Expr, functions: FunctionRegistry): void {
  switch (e.kind) {
    case 'call': {
      const problem = functions.check(e.name, e.args.length);
      if (problem) throw new RuleSqlError(problem, e.pos);
      e.args.forEach((a) => walk(a, functions));
      return;
    }
    case 'path':
      for (const s of e.segments) if (s.kind === 'index') walk(s.index, functions);
      return;
    case 'slice':
      return walk(e.target, functions);
    case 'list':
      return e.items.forEach((x) => walk(x, functions));
    case 'unary':
      return walk(e.operand, functions);
    case 'binary':
      walk(e.left, functions);
      return walk(e.right, functions);
    case 'in':
      walk(e.value, functions);
      return e.list.forEach((x) => walk(x, functions));
    case 'case':
      if (e.on) walk(e.on, functions);
      for (const w of e.whens) {
        walk(w.when, functions);
        walk(w.then, functions);
      }
      if (e.else) walk(e.else, functions);
      return;
    default:
      return;
  }
}
