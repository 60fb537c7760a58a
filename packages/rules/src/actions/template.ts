/**
 * `${var}` templates (EMQX placeholders): `${clientid}`, `${payload.temp}`, `${pub_props.Content-Type}`.
 * A variable is a dotted path into the rule output (falling back to the event's columns); text
 * along the way is decoded as JSON. Missing values render as the empty string, maps and arrays as
 * JSON, numbers and booleans as by `str()`.
 */
import { getPath } from '../runtime/paths.js';
import { isText, toStr, type Value, type ValueMap } from '../runtime/values.js';

type Part = string | { path: string[] };

export class Template {
  readonly parts: readonly Part[];

  constructor(readonly source: string) {
    const parts: Part[] = [];
    const re = /\$\{([^}]*)\}/g;
    let last = 0;
    for (let m = re.exec(source); m; m = re.exec(source)) {
      if (m.index > last) parts.push(source.slice(last, m.index));
      parts.push({ path: m[1]!.trim().split('.') });
      last = m.index + m[0].length;
    }
    if (last < source.length) parts.push(source.slice(last));
    this.parts = parts;
  }

  get isEmpty(): boolean {
    return this.parts.length === 0;
  }

  /** The template is exactly one `${var}`: its value keeps its type. */
  get isSingleVar(): boolean {
    return this.parts.length === 1 && typeof this.parts[0] !== 'string';
  }

  /** The value of a single-variable template, or the rendered text. */
  value(data: ValueMap, fallback?: ValueMap): Value {
    if (this.isSingleVar) return lookup((this.parts[0] as { path: string[] }).path, data, fallback);
    return this.render(data, fallback);
  }

  render(data: ValueMap, fallback?: ValueMap): string {
    let out = '';
    for (const p of this.parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = lookup(p.path, data, fallback);
        out += v === undefined || v === null ? '' : toStr(v);
      }
    }
    return out;
  }

  /** Bytes: a single variable holding bytes keeps them as they are. */
  bytes(data: ValueMap, fallback?: ValueMap): Buffer {
    const v = this.isSingleVar ? this.value(data, fallback) : undefined;
    if (Buffer.isBuffer(v)) return v;
    if (isText(v)) return Buffer.from(v);
    return Buffer.from(this.render(data, fallback), 'utf8');
  }
}

function lookup(path: string[], data: ValueMap, fallback?: ValueMap): Value {
  const v = getPath(data, path);
  if (v !== undefined || !fallback || Object.hasOwn(data, path[0]!)) return v;
  return getPath(fallback, path);
}
