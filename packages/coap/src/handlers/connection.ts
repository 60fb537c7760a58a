/**
 * `/mqtt/connection` (EMQX connection mode):
 * - `POST ?clientid&username&password` opens a connection through the broker's authentication
 *   chain and answers 2.01 Created with the token as payload;
 * - `PUT ?clientid&token` is the heartbeat: 2.04 Changed;
 * - `DELETE ?clientid&token` closes the connection: 2.02 Deleted.
 */
import { AuthenticationError } from '@junction/broker-core';
import { replyForError } from '../errors.js';
import { Rsp } from '../message/codes.js';
import { reply, type CoapRequest, type Reply } from '../server/request.js';
import { connectedClient } from './client-of.js';
import type { Gateway } from './gateway.js';

export function connection(req: CoapRequest, gw: Gateway): Reply | Promise<Reply> {
  switch (req.method) {
    case 'POST':
      return open(req, gw);
    case 'PUT':
      return heartbeat(req, gw);
    case 'DELETE':
      return close(req, gw);
    default:
      return reply(Rsp.METHOD_NOT_ALLOWED);
  }
}

async function open(req: CoapRequest, gw: Gateway): Promise<Reply> {
  const clientId = req.query.get('clientid');
  if (!clientId) return reply(Rsp.BAD_REQUEST, 'Login Failed: clientid is required');
  const existing = gw.registry.connection(clientId);
  // EMQX: a second connect of a connected client from the same address is refused; from another
  // address it takes the connection over (the old token stops working).
  if (existing && existing.link.peer.key === req.peer.key) return reply(Rsp.BAD_REQUEST, 'Bad Request: client has connected');
  try {
    const client = await gw.registry.connect(req.link, req.query);
    return { code: Rsp.CREATED, payload: client.token };
  } catch (err) {
    const r = replyForError(err);
    // EMQX's documented codes: 4.01 for refused credentials, 4.00 for other failures.
    if (err instanceof AuthenticationError && r.code === Rsp.UNAUTHORIZED) return { code: Rsp.UNAUTHORIZED, payload: `Login Failed: ${err.code}` };
    return r;
  }
}

/** Any request of the client resets its keepalive; this one exists for nothing else. */
function heartbeat(req: CoapRequest, gw: Gateway): Reply {
  return connectedClient(req, gw).reply ?? { code: Rsp.CHANGED };
}

function close(req: CoapRequest, gw: Gateway): Reply {
  const { client, reply: refused } = connectedClient(req, gw);
  if (refused) return refused;
  gw.registry.close(client!, 'normal');
  return { code: Rsp.DELETED };
}
