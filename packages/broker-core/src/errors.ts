/**
 * One error taxonomy for the whole broker. Adapters map `code` to their wire codes (MQTT reason
 * codes, CoAP response codes, MQTT-SN return codes, OCPP CallErrors) at their edge.
 */
export type ErrorCode =
  | 'topic_name_invalid'
  | 'topic_filter_invalid'
  | 'not_authorized'
  | 'bad_credentials'
  | 'banned'
  | 'client_id_invalid'
  | 'quota_exceeded'
  | 'receive_maximum_exceeded'
  | 'packet_id_in_use'
  | 'packet_id_not_found'
  | 'shared_subscriptions_not_supported'
  | 'wildcard_subscriptions_not_supported'
  | 'server_unavailable'
  | 'session_closed'
  | 'config_invalid'
  | 'protocol_error'
  | 'malformed_packet';

export class JunctionError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'JunctionError';
  }
}

export class TopicNameInvalidError extends JunctionError {
  constructor(topic: string, why: string) {
    super('topic_name_invalid', `invalid topic name ${JSON.stringify(topic)}: ${why}`);
    this.name = 'TopicNameInvalidError';
  }
}

export class TopicFilterInvalidError extends JunctionError {
  constructor(filter: string, why: string) {
    super('topic_filter_invalid', `invalid topic filter ${JSON.stringify(filter)}: ${why}`);
    this.name = 'TopicFilterInvalidError';
  }
}

export class NotAuthorizedError extends JunctionError {
  constructor(message = 'not authorized') {
    super('not_authorized', message);
    this.name = 'NotAuthorizedError';
  }
}

export class AuthenticationError extends JunctionError {
  constructor(code: 'bad_credentials' | 'not_authorized' | 'banned' | 'client_id_invalid' | 'server_unavailable', message: string) {
    super(code, message);
    this.name = 'AuthenticationError';
  }
}

export class QuotaExceededError extends JunctionError {
  constructor(code: 'quota_exceeded' | 'receive_maximum_exceeded', message: string) {
    super(code, message);
    this.name = 'QuotaExceededError';
  }
}

export class PacketIdError extends JunctionError {
  constructor(code: 'packet_id_in_use' | 'packet_id_not_found', packetId: number) {
    super(code, `packet identifier ${packetId} ${code === 'packet_id_in_use' ? 'is in use' : 'not found'}`);
    this.name = 'PacketIdError';
  }
}

export class SessionClosedError extends JunctionError {
  constructor() {
    super('session_closed', 'session handle is closed');
    this.name = 'SessionClosedError';
  }
}

export class ConfigError extends JunctionError {
  /** Path of the offending key, e.g. `listeners.tcp.default.bind`. */
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('config_invalid', path ? `${path}: ${message}` : message, options);
    this.path = path;
    this.name = 'ConfigError';
  }
}
