/**
 * EMQX's CoAP URI mapping: `/ps/{+topic}` for publish and subscribe, `/mqtt/connection` for
 * connection mode, and query parameters with short aliases (`c`, `u`, `p`, `t`, `q`, `r`).
 * Uri-Path and Uri-Query arrive as separate option values (RFC 7252 §6.4, §6.5).
 */

/** EMQX's short query names and the names they stand for. */
export const SHORT_QUERY_NAMES: Readonly<Record<string, string>> = {
  c: 'clientid',
  u: 'username',
  p: 'password',
  t: 'token',
  q: 'qos',
  r: 'retain',
};

/** Query parameters by full name. */
export type Query = ReadonlyMap<string, string>;

/**
 * Parses Uri-Query values `name=value` (the value may contain `=`; a value without `=` is
 * ignored, as EMQX does). Short names are expanded and, as in EMQX, win over the long form.
 */
export function parseQuery(values: readonly string[]): Query {
  const long = new Map<string, string>();
  const short = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) continue;
    const name = v.slice(0, eq);
    const value = v.slice(eq + 1);
    const full = SHORT_QUERY_NAMES[name];
    if (full !== undefined) short.set(full, value);
    else long.set(name, value);
  }
  for (const [name, value] of short) long.set(name, value);
  return long;
}

export type Route =
  | { readonly kind: 'pubsub'; readonly topic: string | undefined }
  | { readonly kind: 'connection' }
  | { readonly kind: 'unknown' };

/**
 * Which resource a path names. The topic of `/ps/...` is the remaining segments joined with `/`
 * and percent-decoded once more (EMQX decodes it, so `%2F` and `%23` reach the topic as `/` and
 * `#`); it is undefined when empty or not decodable.
 */
export function route(path: readonly string[]): Route {
  if (path[0] === 'ps') return { kind: 'pubsub', topic: topicOf(path.slice(1)) };
  if (path.length === 2 && path[0] === 'mqtt' && path[1] === 'connection') return { kind: 'connection' };
  return { kind: 'unknown' };
}

function topicOf(segments: readonly string[]): string | undefined {
  if (segments.length === 0) return undefined;
  const joined = segments.join('/');
  if (joined === '') return undefined;
  try {
    return decodeURIComponent(joined);
  } catch {
    return undefined;
  }
}
