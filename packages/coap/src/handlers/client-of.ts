/**
 * Which client a `/ps` request belongs to. Connection mode (and any request carrying a token):
 * the `clientid` and `token` query parameters must name an open connection. Connectionless: the
 * peer and its `clientid`, opened on first use (authenticating `clientid`, `username` and
 * `password` from the query through the broker's chain).
 */
import { replyForError } from '../errors.js';
import { Rsp } from '../message/codes.js';
import { reply, type CoapRequest, type Reply } from '../server/request.js';
import type { CoapClient } from '../session/client.js';
import type { Gateway } from './gateway.js';

export type ClientLookup = { readonly client: CoapClient | undefined; readonly reply?: undefined } | { readonly client?: undefined; readonly reply: Reply };

/** `open`: a connectionless client is opened if it is not yet; else `client` may be undefined. */
export async function clientOf(req: CoapRequest, gw: Gateway, open: boolean): Promise<ClientLookup> {
  if (gw.config.connection_required || req.query.has('token')) return connectedClient(req, gw);
  if (!open) {
    const client = gw.registry.findConnectionless(req.link, req.query);
    if (client) gw.registry.seen(client, req.link);
    return { client };
  }
  try {
    return { client: await gw.registry.connectionless(req.link, req.query) };
  } catch (err) {
    return { reply: replyForError(err) };
  }
}

/** The connection-mode client named by the `clientid` and `token` query parameters. */
export function connectedClient(req: CoapRequest, gw: Gateway): ClientLookup {
  const token = req.query.get('token');
  const clientId = req.query.get('clientid');
  if (token === undefined || clientId === undefined) return { reply: reply(Rsp.BAD_REQUEST, 'Missing token or clientid in connection mode') };
  const client = gw.registry.connection(clientId);
  if (!client || client.token !== token) return { reply: reply(Rsp.UNAUTHORIZED, 'Invalid token or clientid in connection mode') };
  gw.registry.seen(client, req.link);
  return { client };
}
