/**
 * `${name}` placeholders, as EMQX writes them in commands, URLs, bodies, claims and ACL topics.
 * A template is parsed once; rendering is a single pass over the parsed parts, so a value that
 * itself contains `${username}` is inserted as text and never substituted again.
 */

export type TemplatePart = string | { readonly name: string };

/** Where rendering finds values; undefined means the value is missing. */
export type VarLookup = (name: string) => string | undefined;

const PLACEHOLDER = /\$\{([A-Za-z0-9_.]+)\}/g;

export class Template {
  private constructor(
    readonly source: string,
    readonly parts: readonly TemplatePart[],
  ) {}

  /**
   * Parse `text`. With `allowed`, a placeholder outside the list throws (the caller wraps it in
   * a config error); names starting with `client_attrs.` are allowed when `client_attrs` is.
   */
  static parse(text: string, allowed?: readonly string[]): Template {
    const parts: TemplatePart[] = [];
    let last = 0;
    for (const m of text.matchAll(PLACEHOLDER)) {
      const name = m[1]!;
      if (allowed && !isAllowed(name, allowed)) {
        throw new Error(`unknown placeholder \${${name}} in ${JSON.stringify(text)}; allowed: ${allowed.map((a) => `\${${a}}`).join(', ')}`);
      }
      if (m.index > last) parts.push(text.slice(last, m.index));
      parts.push({ name });
      last = m.index + m[0].length;
    }
    if (last < text.length) parts.push(text.slice(last));
    return new Template(text, parts);
  }

  /** Names of the placeholders used, in order. */
  get names(): string[] {
    return this.parts.filter((p): p is { name: string } => typeof p !== 'string').map((p) => p.name);
  }

  get isConstant(): boolean {
    return this.parts.every((p) => typeof p === 'string');
  }

  /** Render, with a missing value as the empty string. */
  render(lookup: VarLookup, encode?: (value: string) => string): string {
    let out = '';
    for (const p of this.parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = lookup(p.name) ?? '';
        out += encode ? encode(v) : v;
      }
    }
    return out;
  }

  /** Render, or undefined when any value is missing. */
  renderStrict(lookup: VarLookup): string | undefined {
    let out = '';
    for (const p of this.parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = lookup(p.name);
        if (v === undefined) return undefined;
        out += v;
      }
    }
    return out;
  }
}

function isAllowed(name: string, allowed: readonly string[]): boolean {
  if (allowed.includes(name)) return true;
  return name.startsWith('client_attrs.') && name.length > 13 && allowed.includes('client_attrs');
}

/** A JSON-like value with every string parsed as a template (HTTP bodies, Redis commands). */
export type DeepTemplate = Template | number | boolean | null | readonly DeepTemplate[] | { readonly [k: string]: DeepTemplate };

export function parseDeep(value: unknown, allowed?: readonly string[]): DeepTemplate {
  if (typeof value === 'string') return Template.parse(value, allowed);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => parseDeep(v, allowed));
  if (typeof value === 'object' && value !== undefined) {
    const out: Record<string, DeepTemplate> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = parseDeep(v, allowed);
    return out;
  }
  return null;
}

export function renderDeep(t: DeepTemplate, lookup: VarLookup): unknown {
  if (t instanceof Template) return t.render(lookup);
  if (Array.isArray(t)) return t.map((v) => renderDeep(v, lookup));
  if (t !== null && typeof t === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(t as Record<string, DeepTemplate>)) out[k] = renderDeep(v, lookup);
    return out;
  }
  return t;
}

/** Placeholders of a connecting client (authentication requests). */
export const AUTHN_VARS = ['clientid', 'username', 'password', 'peerhost', 'peerport', 'protocol', 'cert_subject', 'cert_common_name'] as const;

/** Placeholders of an authorization request. */
export const AUTHZ_VARS = ['clientid', 'username', 'peerhost', 'peerport', 'proto_name', 'protocol', 'mountpoint', 'topic', 'action', 'qos', 'retain', 'cert_subject', 'cert_common_name', 'client_attrs'] as const;
