import type { CloseReason, ErrorCode } from '@junction/broker-core';

/** MQTT 5 reason codes used by the engine (MQTT 5.0 §2.4). */
export const RC = {
  SUCCESS: 0x00,
  NO_MATCHING_SUBSCRIBERS: 0x10,
  NO_SUBSCRIPTION_EXISTED: 0x11,
  DISCONNECT_WITH_WILL: 0x04,
  UNSPECIFIED: 0x80,
  MALFORMED_PACKET: 0x81,
  PROTOCOL_ERROR: 0x82,
  IMPLEMENTATION_SPECIFIC: 0x83,
  UNSUPPORTED_PROTOCOL_VERSION: 0x84,
  CLIENT_ID_NOT_VALID: 0x85,
  BAD_USERNAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
  SERVER_BUSY: 0x89,
  BANNED: 0x8a,
  SERVER_SHUTTING_DOWN: 0x8b,
  BAD_AUTHENTICATION_METHOD: 0x8c,
  KEEPALIVE_TIMEOUT: 0x8d,
  SESSION_TAKEN_OVER: 0x8e,
  TOPIC_FILTER_INVALID: 0x8f,
  TOPIC_NAME_INVALID: 0x90,
  PACKET_ID_IN_USE: 0x91,
  PACKET_ID_NOT_FOUND: 0x92,
  RECEIVE_MAXIMUM_EXCEEDED: 0x93,
  TOPIC_ALIAS_INVALID: 0x94,
  PACKET_TOO_LARGE: 0x95,
  QUOTA_EXCEEDED: 0x97,
  ADMINISTRATIVE_ACTION: 0x98,
  PAYLOAD_FORMAT_INVALID: 0x99,
  RETAIN_NOT_SUPPORTED: 0x9a,
  QOS_NOT_SUPPORTED: 0x9b,
  SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: 0x9e,
  SUBSCRIPTION_IDS_NOT_SUPPORTED: 0xa1,
  WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: 0xa2,
} as const;

/** MQTT 3.1/3.1.1 CONNACK return codes (§3.2.2.3). */
export const V3_CONNACK = {
  ACCEPTED: 0,
  UNACCEPTABLE_PROTOCOL_VERSION: 1,
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

/** A core error as an MQTT 5 reason code. */
export function reasonCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'topic_name_invalid': return RC.TOPIC_NAME_INVALID;
    case 'topic_filter_invalid': return RC.TOPIC_FILTER_INVALID;
    case 'not_authorized': return RC.NOT_AUTHORIZED;
    case 'bad_credentials': return RC.BAD_USERNAME_OR_PASSWORD;
    case 'banned': return RC.BANNED;
    case 'client_id_invalid': return RC.CLIENT_ID_NOT_VALID;
    case 'quota_exceeded': return RC.QUOTA_EXCEEDED;
    case 'receive_maximum_exceeded': return RC.RECEIVE_MAXIMUM_EXCEEDED;
    case 'packet_id_in_use': return RC.PACKET_ID_IN_USE;
    case 'packet_id_not_found': return RC.PACKET_ID_NOT_FOUND;
    case 'shared_subscriptions_not_supported': return RC.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED;
    case 'wildcard_subscriptions_not_supported': return RC.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED;
    case 'server_unavailable': return RC.SERVER_UNAVAILABLE;
    case 'malformed_packet': return RC.MALFORMED_PACKET;
    case 'protocol_error': return RC.PROTOCOL_ERROR;
    default: return RC.UNSPECIFIED;
  }
}

/** A core error as an MQTT 3.1.1 CONNACK return code. */
export function v3ConnackCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'bad_credentials': return V3_CONNACK.BAD_USERNAME_OR_PASSWORD;
    case 'client_id_invalid': return V3_CONNACK.IDENTIFIER_REJECTED;
    case 'server_unavailable': return V3_CONNACK.SERVER_UNAVAILABLE;
    default: return V3_CONNACK.NOT_AUTHORIZED;
  }
}

/** Why the server ends a connection, as the MQTT 5 DISCONNECT reason code. */
export function disconnectCodeFor(reason: CloseReason): number {
  switch (reason) {
    case 'takeover': return RC.SESSION_TAKEN_OVER;
    case 'kicked': return RC.ADMINISTRATIVE_ACTION;
    case 'banned': return RC.ADMINISTRATIVE_ACTION; // 0x8A is not a DISCONNECT code (§3.14.2.1)
    case 'keepalive_timeout': return RC.KEEPALIVE_TIMEOUT;
    case 'server_shutdown': return RC.SERVER_SHUTTING_DOWN;
    case 'not_authorized': return RC.NOT_AUTHORIZED;
    case 'protocol_error': return RC.PROTOCOL_ERROR;
    default: return RC.UNSPECIFIED;
  }
}
