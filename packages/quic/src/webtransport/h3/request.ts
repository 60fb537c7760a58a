/**
 * The one request this HTTP/3 server serves: an extended CONNECT (RFC 9220) with
 * `:protocol webtransport`. Other requests get a status; a malformed one resets its stream with
 * H3_MESSAGE_ERROR (RFC 9114 §4.1.2).
 */
import { H3, H3Error } from './errors.js';
import type { HeaderList } from './qpack.js';

/** An extended CONNECT request, as the acceptor sees it. */
export interface ConnectRequest {
  readonly path: string;
  readonly authority: string;
  readonly origin: string | undefined;
  readonly headers: HeaderList;
}

/** A validated extended CONNECT for WebTransport, or the status to answer a request with. */
export function parseConnect(headers: HeaderList): ConnectRequest | number {
  const get = (name: string): string | undefined => headers.find(([n]) => n === name)?.[1];
  const method = get(':method');
  const protocol = get(':protocol');
  const path = get(':path');
  const authority = get(':authority');
  // §4.3.1: pseudo-headers come first, each once.
  const seen = new Set<string>();
  let regular = false;
  for (const [n] of headers) {
    if (n.startsWith(':')) {
      if (regular || seen.has(n)) throw new H3Error(H3.MESSAGE_ERROR, `malformed pseudo-header ${n}`, 'stream');
      seen.add(n);
    } else regular = true;
  }
  if (method === undefined) throw new H3Error(H3.MESSAGE_ERROR, 'request without :method', 'stream');
  if (method !== 'CONNECT' || protocol === undefined) {
    // A plain request: only the WebTransport endpoint is served here.
    return path === undefined ? 400 : 404;
  }
  if (protocol !== 'webtransport') return 400;
  if (path === undefined || authority === undefined || get(':scheme') === undefined) {
    throw new H3Error(H3.MESSAGE_ERROR, 'extended CONNECT without :scheme, :authority or :path', 'stream');
  }
  return { path: pathOf(path), authority, origin: get('origin'), headers };
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
