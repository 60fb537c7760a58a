/**
 * The built-in function table: one entry per name, with the argument counts it accepts (checked
 * when a rule is created), its family and a one-line summary (docs/rules.md is generated from it).
 */
import { RuleEvalError, isInt, isMap, textOf, typeName, type Value, type ValueMap } from '../runtime/values.js';

export type FunctionFamily =
  | 'math'
  | 'type'
  | 'conversion'
  | 'string'
  | 'map'
  | 'array'
  | 'hash'
  | 'compression'
  | 'encoding'
  | 'bits'
  | 'time'
  | 'random'
  | 'message'
  | 'conditional'
  | 'kv';

/** What a function may read besides its arguments. */
export interface FunctionContext {
  /** The event's columns (with what SELECT computed so far). */
  readonly columns: ValueMap;
  /** Milliseconds since the epoch. */
  now(): number;
  /** The engine-wide store of `kv_store_*`. */
  readonly kv: Map<string, Value>;
}

export interface FunctionDef {
  readonly name: string;
  readonly family: FunctionFamily;
  /** Accepted argument counts; `max` undefined means any number from `min`. */
  readonly arity: { readonly min: number; readonly max?: number };
  /** Signature as the docs show it, e.g. `substr(s, start[, length])`. */
  readonly signature: string;
  readonly summary: string;
  call(args: Value[], ctx: FunctionContext): Value;
}

export class FunctionRegistry {
  private readonly byName = new Map<string, FunctionDef>();

  constructor(defs: Iterable<FunctionDef> = []) {
    for (const d of defs) this.add(d);
  }

  add(def: FunctionDef): void {
    if (this.byName.has(def.name)) throw new Error(`function ${def.name} is defined twice`);
    this.byName.set(def.name, def);
  }

  get(name: string): FunctionDef | undefined {
    return this.byName.get(name);
  }

  /** Why `name` cannot be called with `count` arguments, or undefined when it can. */
  check(name: string, count: number): string | undefined {
    const d = this.byName.get(name);
    if (!d) return `unknown function ${name}()`;
    const { min, max } = d.arity;
    if (count >= min && (max === undefined || count <= max)) return undefined;
    const expected = max === undefined ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`;
    return `${name}() takes ${expected} argument${max === 1 && min === 1 ? '' : 's'}, got ${count}: ${d.signature}`;
  }

  list(): FunctionDef[] {
    return [...this.byName.values()];
  }
}

/** Shorthand for a table entry. `arity` is exact (n), a range ([min, max]) or open ([min]). */
export function def(
  name: string,
  family: FunctionFamily,
  arity: number | [number, number?],
  signature: string,
  summary: string,
  call: (args: Value[], ctx: FunctionContext) => Value,
): FunctionDef {
  const a = typeof arity === 'number' ? { min: arity, max: arity } : { min: arity[0], max: arity[1] };
  return { name, family, arity: a, signature, summary, call };
}

// ------------------------------------------------------------------ argument checks

export function badarg(fn: string, v: Value, want: string): never {
  throw new RuleEvalError(`${fn}(): expected ${want}, got ${typeName(v)}${v === undefined || v === null || typeof v === 'object' ? '' : ` ${JSON.stringify(typeof v === 'string' ? v : String(v))}`}`);
}

export function text(fn: string, v: Value): string {
  const t = textOf(v);
  if (t === undefined) badarg(fn, v, 'a string');
  return t;
}

export function num(fn: string, v: Value): number {
  if (typeof v !== 'number') badarg(fn, v, 'a number');
  return v;
}

export function int(fn: string, v: Value): number {
  if (!isInt(v)) badarg(fn, v, 'an integer');
  return v;
}

export function list(fn: string, v: Value): Value[] {
  if (!Array.isArray(v)) badarg(fn, v, 'an array');
  return v;
}

export function map(fn: string, v: Value): ValueMap {
  if (!isMap(v)) badarg(fn, v, 'a map');
  return v;
}

/** One of the given option strings. */
export function option<T extends string>(fn: string, v: Value, options: readonly T[]): T {
  const t = textOf(v);
  if (t === undefined || !(options as readonly string[]).includes(t)) badarg(fn, v, options.map((o) => `'${o}'`).join(' or '));
  return t as T;
}

/** A finite number result; Erlang raises on what JavaScript turns into NaN or Infinity. */
export function finite(fn: string, n: number): number {
  if (!Number.isFinite(n)) throw new RuleEvalError(`${fn}(): result is not a finite number`);
  return n;
}
