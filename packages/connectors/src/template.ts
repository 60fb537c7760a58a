/**
 * `${field}` placeholders (EMQX style) rendered from a rule output: a dotted path is looked up in
 * the rule's output (`data`) first, then in the event's columns. Text or bytes met along a path
 * are decoded as JSON (`${payload.temp}` on a JSON payload). Missing values render as the empty
 * string, objects and arrays as JSON.
 */

/** The shape of `RuleOutput` from @junction/rules, structurally (this package must not import it). */
export interface SinkOutput {
  readonly ruleId: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly event: Readonly<Record<string, unknown>>;
}

type Part = string | string[];

function decode(v: unknown): unknown {
  const text = Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'string' ? v : undefined;
  if (text === undefined) return v;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function walk(root: unknown, path: readonly string[]): unknown {
  let cur = root;
  for (const key of path) {
    if (typeof cur === 'string' || Buffer.isBuffer(cur)) cur = decode(cur);
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function lookup(path: readonly string[], out: SinkOutput): unknown {
  const v = walk(out.data, path);
  return v === undefined ? walk(out.event, path) : v;
}

export function stringify(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));
}

export class Template {
  private readonly parts: readonly Part[];

  constructor(readonly source: string) {
    const parts: Part[] = [];
    const re = /\$\{([^}]*)\}/g;
    let last = 0;
    for (let m = re.exec(source); m; m = re.exec(source)) {
      if (m.index > last) parts.push(source.slice(last, m.index));
      parts.push(m[1]!.trim().split('.'));
      last = m.index + m[0].length;
    }
    if (last < source.length) parts.push(source.slice(last));
    this.parts = parts;
  }

  get isEmpty(): boolean {
    return this.parts.length === 0;
  }

  render(out: SinkOutput): string {
    let s = '';
    for (const p of this.parts) s += typeof p === 'string' ? p : stringify(lookup(p, out));
    return s;
  }
}

/** The whole rule output as JSON: what a sink sends when no body/payload template is set. */
export function outputJson(out: SinkOutput): string {
  return stringify(out.data);
}
