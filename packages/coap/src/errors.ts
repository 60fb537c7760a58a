/**
 * Core errors as CoAP response codes, at the edge (EMQX's codes: 4.00 for what the client got
 * wrong, 4.01 for authentication and authorization, 5.03 when the gateway cannot take more).
 */
import { JunctionError } from '@junction/broker-core';
import { Rsp } from './message/codes.js';
import type { Reply } from './server/request.js';
import { ClientRefused } from './session/registry.js';

export function replyForError(err: unknown): Reply {
  if (err instanceof ClientRefused) return { code: Rsp.SERVICE_UNAVAILABLE, payload: err.message };
  if (!(err instanceof JunctionError)) return { code: Rsp.INTERNAL_SERVER_ERROR, payload: 'internal error' };
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
