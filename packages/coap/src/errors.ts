/**
 * Core errors as CoAP response codes, at the edge: 4.00 for what the client got wrong, 4.01 for
 * refused credentials and bans (as EMQX), 4.03 Forbidden for a publish or subscribe the
 * authorization refuses (RFC 7252 §5.9.2.4; EMQX answers 4.01 there too), 5.03 when the gateway
 * cannot take more.
 */
import { AuthenticationError, JunctionError } from '@junction/broker-core';
import { Rsp } from './message/codes.js';
import type { Reply } from './server/request.js';
import { ClientRefused } from './session/registry.js';

export function replyForError(err: unknown): Reply {
  if (err instanceof ClientRefused) return { code: Rsp.SERVICE_UNAVAILABLE, payload: err.message };
  if (!(err instanceof JunctionError)) return { code: Rsp.INTERNAL_SERVER_ERROR, payload: 'internal error' };
  // An authenticated client refused an action: forbidden, not unauthenticated.
  if (err.code === 'not_authorized' && !(err instanceof AuthenticationError)) return { code: Rsp.FORBIDDEN, payload: err.message };
  switch (err.code) {
    case 'not_authorized':
    case 'bad_credentials':
    case 'banned':
    case 'session_closed':
      return { code: Rsp.UNAUTHORIZED, payload: err.message };
    case 'server_unavailable':
      return { code: Rsp.SERVICE_UNAVAILABLE, payload: err.message };
    case 'config_invalid':
    case 'packet_id_in_use':
    case 'packet_id_not_found':
      return { code: Rsp.INTERNAL_SERVER_ERROR, payload: err.message };
    default:
      // Invalid topics and client ids, disabled wildcards or shared subscriptions, quotas.
      return { code: Rsp.BAD_REQUEST, payload: err.message };
  }
}
