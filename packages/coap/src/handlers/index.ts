/**
 * The resources of the gateway (EMQX's URI mapping), dispatched by path and method:
 *
 *   /ps/{topic}        GET (Observe 0|1, or Block2 for a later block)  -> observe.ts
 *                      POST, PUT                                       -> publish.ts
 *   /mqtt/connection   POST, PUT, DELETE                               -> connection.ts
 *
 * Anything else is 4.04 Not Found (RFC 7252 §5.9.2.5), a method a resource does not serve
 * 4.05 Method Not Allowed (§5.9.2.6), an empty topic 4.00.
 */
import { Rsp } from '../message/codes.js';
import { reply, type CoapRequest, type Reply } from '../server/request.js';
import { route } from '../uri.js';
import { connection } from './connection.js';
import type { Gateway } from './gateway.js';
import { get } from './observe.js';
import { publish } from './publish.js';

export type { Gateway } from './gateway.js';

export function handle(req: CoapRequest, gw: Gateway): Reply | Promise<Reply> {
  const r = route(req.path);
  switch (r.kind) {
    case 'connection':
      return connection(req, gw);
    case 'unknown':
      return reply(Rsp.NOT_FOUND);
    case 'pubsub':
      if (req.method === 'DELETE') return reply(Rsp.METHOD_NOT_ALLOWED);
      if (r.topic === undefined) return reply(Rsp.BAD_REQUEST, 'invalid topic');
      return req.method === 'GET' ? get(req, r.topic, gw) : publish(req, r.topic, gw);
  }
}
