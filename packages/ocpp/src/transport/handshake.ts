/**
 * The WebSocket handshake of a charger, as pure functions: the charge point id in the path, HTTP
 * Basic credentials (OCPP security profiles 1 and 2), the subprotocol, the Origin check.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { SUBPROTOCOLS, type Subprotocol, type WebsocketOptions } from '../config.js';

/** A refusal: the HTTP status and a short reason for the body. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
}

export type Checked<T> = ({ ok: true } & T) | ({ ok: false } & Refusal);

/** Characters a charge point id may not hold: topic separators, wildcards, control characters. */
const BAD_ID = /[/#+\u0000-\u001f\u007f]/;

/**
 * The charge point id of `{path}/{id}`: percent-decoded, non-empty, without `/`, `#`, `+` or
 * control characters (it becomes a topic level and the client id). The URL is read as ocpp-rpc
 * reads it (WHATWG URL), so both agree on the id.
 */
export function identityFromUrl(rawUrl: string | undefined, basePath: string): Checked<{ identity: string }> {
  let pathname: string;
  try {
    pathname = new URL(`http://localhost${rawUrl ?? '/'}`).pathname;
  } catch {
    return { ok: false, status: 400, message: 'malformed URL' };
  }
  const prefix = basePath.endsWith('/') ? basePath : `${basePath}/`;
  if (!pathname.startsWith(prefix)) return { ok: false, status: 404, message: `charge points connect to ${prefix}{chargePointId}` };
  const raw = pathname.slice(prefix.length);
  if (raw.includes('/')) return { ok: false, status: 400, message: 'the charge point id may not contain "/"' };
  let identity: string;
  try {
    identity = decodeURIComponent(raw);
  } catch {
    return { ok: false, status: 400, message: 'the charge point id is not valid percent-encoding' };
  }
  if (identity === '') return { ok: false, status: 400, message: 'the charge point id is empty' };
  if (BAD_ID.test(identity)) return { ok: false, status: 400, message: 'the charge point id may not contain /, #, + or control characters' };
  return { ok: true, identity };
}

/**
 * HTTP Basic credentials. The user name must be the charge point id (OCPP 1.6 security
 * whitepaper §2, 2.0.1 A00.FR.205); as in ocpp-rpc an id may itself contain colons. The
 * password stays bytes: OCPP allows binary keys.
 */
export function basicCredentials(header: string | undefined, identity: string): Checked<{ username?: string; password?: Buffer }> {
  if (header === undefined) return { ok: true };
  const m = /^\s*basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!m) return { ok: false, status: 401, message: 'only HTTP Basic authorization is supported' };
  const decoded = Buffer.from(m[1]!, 'base64');
  const own = Buffer.from(`${identity}:`);
  if (decoded.length >= own.length && decoded.subarray(0, own.length).equals(own)) {
    return { ok: true, username: identity, password: decoded.subarray(own.length) };
  }
  const colon = decoded.indexOf(0x3a);
  const username = (colon < 0 ? decoded : decoded.subarray(0, colon)).toString('utf8');
  return { ok: false, status: 401, message: `the Basic user name ${JSON.stringify(username)} is not the charge point id` };
}

/** `"ocpp1.6, ocpp2.0.1"` -> the list; anything but those two is a config error (thrown). */
export function parseSubprotocols(list: string): Subprotocol[] {
  const out: Subprotocol[] = [];
  for (const p of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(SUBPROTOCOLS as readonly string[]).includes(p)) throw new Error(`unsupported subprotocol ${JSON.stringify(p)}; supported: ${SUBPROTOCOLS.join(', ')}`);
    if (!out.includes(p as Subprotocol)) out.push(p as Subprotocol);
  }
  if (out.length === 0) throw new Error('no subprotocol configured');
  return out;
}

/**
 * The subprotocol: the first the charger offers that the listener supports (as EMQX picks it).
 * `chosen: false` means none was offered and none is required: the handshake answers without one
 * and the charger is treated as `fallback`.
 */
export function pickSubprotocol(offered: Iterable<string>, supported: readonly Subprotocol[], failIfNone: boolean): Checked<{ chosen: Subprotocol | false; version: Subprotocol }> {
  const list = [...offered];
  if (list.length === 0) {
    if (failIfNone) return { ok: false, status: 400, message: `no subprotocol offered; use one of ${supported.join(', ')}` };
    return { ok: true, chosen: false, version: supported[0]! };
  }
  const match = list.find((p) => (supported as readonly string[]).includes(p)) as Subprotocol | undefined;
  if (!match) return { ok: false, status: 400, message: `none of the subprotocols ${list.join(', ')} is supported; use one of ${supported.join(', ')}` };
  return { ok: true, chosen: match, version: match };
}

/** EMQX's Origin check (`check_origin_enable`, `allow_origin_absence`, `check_origins`). */
export function checkOrigin(headers: IncomingHttpHeaders, ws: WebsocketOptions): Checked<object> {
  if (!ws.check_origin_enable) return { ok: true };
  const origin = headers.origin;
  if (origin === undefined) return ws.allow_origin_absence ? { ok: true } : { ok: false, status: 403, message: 'an Origin header is required' };
  const allowed = ws.check_origins.split(',').map((s) => s.trim()).filter(Boolean);
  return allowed.includes(origin) ? { ok: true } : { ok: false, status: 403, message: `origin ${origin} is not allowed` };
}
