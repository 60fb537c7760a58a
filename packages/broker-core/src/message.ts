/** A user property value as MQTT 5 carries it: one key may repeat. */
export type UserProperties = Record<string, string | string[]>;

/** The MQTT 5 application properties every protocol maps onto. */
export interface MessageProperties {
  payloadFormatIndicator?: boolean;
  /** Seconds, as published; deliveries carry the remaining lifetime. */
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: UserProperties;
}

/** Who published a message. */
export interface Publisher {
  readonly clientId: string;
  readonly username?: string;
  /** `mqtt`, `mqtt-sn`, `coap`, `ocpp`, or `$sys` / `$internal` for the broker itself. */
  readonly protocol: string;
  readonly peer?: string;
  readonly node: string;
}

export type QoS = 0 | 1 | 2;

/** A message on the bus. Treat as immutable once published: it is shared by all deliveries. */
export interface Message {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly properties?: MessageProperties;
  readonly from: Publisher;
  /** Milliseconds since the epoch, when the bus accepted the message. */
  readonly timestamp: number;
  /** Milliseconds since the epoch after which the message is dropped; set by the core from
   * `properties.messageExpiryInterval`. */
  readonly expiresAt?: number;
}

/** What an adapter hands to `SessionHandle.publish`. The core fills in timestamp and expiry. */
export interface PublishRequest {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: MessageProperties;
  /** Set for QoS 2 so that a repeated PUBLISH is routed only once. */
  packetId?: number;
}

/** Remaining expiry in whole seconds, or undefined when the message never expires. */
export function remainingExpiry(msg: Message, now: number): number | undefined {
  if (msg.expiresAt === undefined) return undefined;
  return Math.max(0, Math.ceil((msg.expiresAt - now) / 1000));
}
