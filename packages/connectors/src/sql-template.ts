/**
 * EMQX-style SQL templates made into parameterised statements: every `${path}` becomes a `$n`
 * parameter (a quoted `'${path}'` too: the quotes are dropped), so values are never spliced into
 * SQL text. An `INSERT ... VALUES (...)` whose tuple ends the statement can be batched as one
 * multi-row insert.
 */
import { lookup, type SinkOutput } from './template.js';

/** Most parameters PostgreSQL's protocol allows in one statement. */
export const MAX_PARAMS = 65_535;

export class SqlTemplate {
  /** The statement with `$1..$n`. */
  readonly text: string;
  /** The placeholder paths, in parameter order. */
  readonly params: readonly string[][];
  /** For a batchable INSERT: the text before the VALUES tuple and the tuple with `$n`. */
  private readonly insert: { head: string; tuple: string } | undefined;

  constructor(readonly source: string) {
    const params: string[][] = [];
    this.text = source.replace(/'\$\{([^}]*)\}'|\$\{([^}]*)\}/g, (_m, quoted: string | undefined, bare: string | undefined) => {
      params.push((quoted ?? bare)!.trim().split('.'));
      return `$${params.length}`;
    });
    this.params = params;
    const m = /^([\s\S]*\bvalues\s*)(\([^()]*(?:\([^()]*\)[^()]*)*\))\s*;?\s*$/i.exec(this.text);
    this.insert = /^\s*insert\s+into\b/i.test(this.text) && m && params.length > 0 ? { head: m[1]!, tuple: m[2]! } : undefined;
  }

  /** Whether a batch can be one multi-row `INSERT ... VALUES (...), (...)`. */
  get batchable(): boolean {
    return this.insert !== undefined;
  }

  /** The parameter values of one output. */
  values(out: SinkOutput): unknown[] {
    return this.params.map((p) => toParam(lookup(p, out)));
  }

  /** One multi-row insert for `rows` (each `values(...)`); only when `batchable`. */
  multiRow(rows: readonly unknown[][]): { text: string; values: unknown[] } {
    const ins = this.insert!;
    const n = this.params.length;
    const tuples = rows.map((_r, i) => ins.tuple.replace(/\$(\d+)/g, (_m, d: string) => `$${Number(d) + i * n}`));
    return { text: `${ins.head}${tuples.join(', ')}`, values: rows.flat() };
  }
}

/** A rule value as a pg parameter: text stays text, bytes decode as UTF-8, maps and lists as JSON. */
export function toParam(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}
