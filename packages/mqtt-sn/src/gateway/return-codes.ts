import type { ErrorCode } from '@junction/broker-core';
import { RETURN_CODE } from '../codec/index.js';

/**
 * The core's error codes as MQTT-SN ReturnCodes (§5.3.10), with EMQX's codes above 0x7F where
 * the specification has none: 0x80 not authorized, 0x81 session failure, 0x83 limit exceeded.
 */
export function returnCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'not_authorized':
    case 'bad_credentials':
    case 'banned':
      return RETURN_CODE.NOT_AUTHORIZED;
    case 'quota_exceeded':
      return RETURN_CODE.EXCEED_LIMITATION;
    case 'receive_maximum_exceeded':
    case 'server_unavailable':
      return RETURN_CODE.CONGESTION;
    case 'topic_name_invalid':
    case 'topic_filter_invalid':
    case 'shared_subscriptions_not_supported':
    case 'wildcard_subscriptions_not_supported':
    case 'client_id_invalid':
    case 'protocol_error':
    case 'malformed_packet':
      return RETURN_CODE.NOT_SUPPORTED;
    case 'packet_id_in_use':
    case 'packet_id_not_found':
    case 'session_closed':
    case 'config_invalid':
      return RETURN_CODE.FAILED_SESSION;
  }
}
