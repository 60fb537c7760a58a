/**
 * MQTT-SN 1.2 messages as plain data with a `type` discriminator (MQTT-SN 1.2 §5).
 * Numeric constants follow the specification's tables; the codec (`decode.ts`, `encode.ts`)
 * is the only place that knows their bit layout.
 */

/** MsgType values, §5.2.2 Table 3. 0x03, 0x11, 0x19, 0x1E..0xFD and 0xFF are reserved. */
export const MSG_TYPE = {
  advertise: 0x00,
  searchgw: 0x01,
  gwinfo: 0x02,
  connect: 0x04,
  connack: 0x05,
  willtopicreq: 0x06,
  willtopic: 0x07,
  willmsgreq: 0x08,
  willmsg: 0x09,
  register: 0x0a,
  regack: 0x0b,
  publish: 0x0c,
  puback: 0x0d,
  pubcomp: 0x0e,
  pubrec: 0x0f,
  pubrel: 0x10,
  subscribe: 0x12,
  suback: 0x13,
  unsubscribe: 0x14,
  unsuback: 0x15,
  pingreq: 0x16,
  pingresp: 0x17,
  disconnect: 0x18,
  willtopicupd: 0x1a,
  willtopicresp: 0x1b,
  willmsgupd: 0x1c,
  willmsgresp: 0x1d,
  encapsulated: 0xfe,
} as const;

export type MessageType = keyof typeof MSG_TYPE;

/** ReturnCode values, §5.3.10 Table 5, and the codes EMQX adds above 0x7F. */
export const RETURN_CODE = {
  ACCEPTED: 0x00,
  CONGESTION: 0x01,
  INVALID_TOPIC_ID: 0x02,
  NOT_SUPPORTED: 0x03,
  /** EMQX: authentication or authorization refused. */
  NOT_AUTHORIZED: 0x80,
  /** EMQX: the session could not be opened. */
  FAILED_SESSION: 0x81,
  /** EMQX: the client was silent longer than its keepalive allows. */
  KEEPALIVE_TIMEOUT: 0x82,
  /** EMQX: a limit was reached (subscriptions, topic ids). */
  EXCEED_LIMITATION: 0x83,
  /** EMQX: a gateway-initiated message was not answered after Nretry retransmissions. */
  REACHED_MAX_RETRY: 0x84,
} as const;

/** The ProtocolId of MQTT-SN 1.2 in CONNECT, §5.3.8. */
export const PROTOCOL_ID = 0x01;

/** QoS as the Flags field carries it, §5.3.4: 0b11 is QoS -1, for PUBLISH sent by a client only. */
export type SnQoS = -1 | 0 | 1 | 2;

/**
 * The topic of a PUBLISH, SUBSCRIBE or UNSUBSCRIBE, by TopicIdType (§5.3.4, §5.3.11, §5.3.12):
 * `id` a normal topic id registered with REGISTER (0b00 in PUBLISH), `name` a full topic name
 * (0b00 in SUBSCRIBE and UNSUBSCRIBE only), `predefined` a pre-defined topic id (0b01),
 * `short` a two-byte short topic name (0b10).
 */
export type TopicRef =
  | { readonly kind: 'id'; readonly id: number }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'predefined'; readonly id: number }
  | { readonly kind: 'short'; readonly name: string };

/** Will topic as WILLTOPIC and WILLTOPICUPD carry it (§5.4.7, §5.4.22). */
export interface WillTopic {
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly topic: string;
}

/** §5.4.1 */
export interface Advertise {
  readonly type: 'advertise';
  readonly gwId: number;
  /** Seconds until the next ADVERTISE. */
  readonly duration: number;
}
/** §5.4.2 */
export interface SearchGw {
  readonly type: 'searchgw';
  readonly radius: number;
}
/** §5.4.3: GwAdd is only present when a client answers on behalf of a gateway. */
export interface GwInfo {
  readonly type: 'gwinfo';
  readonly gwId: number;
  readonly gwAdd?: Buffer;
}
/** §5.4.4 */
export interface Connect {
  readonly type: 'connect';
  readonly will: boolean;
  readonly cleanSession: boolean;
  readonly protocolId: number;
  /** Keepalive, seconds. */
  readonly duration: number;
  readonly clientId: string;
}
/** §5.4.5 */
export interface Connack {
  readonly type: 'connack';
  readonly returnCode: number;
}
/** §5.4.6 */
export interface WillTopicReq {
  readonly type: 'willtopicreq';
}
/** §5.4.7: an empty WILLTOPIC (no Flags, no topic) deletes the will (§6.3). */
export interface WillTopicMsg {
  readonly type: 'willtopic';
  readonly will?: WillTopic;
}
/** §5.4.8 */
export interface WillMsgReq {
  readonly type: 'willmsgreq';
}
/** §5.4.9 */
export interface WillMsg {
  readonly type: 'willmsg';
  readonly payload: Buffer;
}
/** §5.4.10: TopicId is 0x0000 when a client sends it. */
export interface Register {
  readonly type: 'register';
  readonly topicId: number;
  readonly msgId: number;
  readonly topicName: string;
}
/** §5.4.11 */
export interface Regack {
  readonly type: 'regack';
  readonly topicId: number;
  readonly msgId: number;
  readonly returnCode: number;
}
/** §5.4.12: MsgId is 0x0000 for QoS 0 and -1. */
export interface Publish {
  readonly type: 'publish';
  readonly dup: boolean;
  readonly qos: SnQoS;
  readonly retain: boolean;
  /** `id`, `predefined` or `short`: a PUBLISH never carries a full topic name. */
  readonly topic: Exclude<TopicRef, { kind: 'name' }>;
  readonly msgId: number;
  readonly payload: Buffer;
}
/** §5.4.13 */
export interface Puback {
  readonly type: 'puback';
  readonly topicId: number;
  readonly msgId: number;
  readonly returnCode: number;
}
/** §5.4.14 */
export interface Pubrec {
  readonly type: 'pubrec';
  readonly msgId: number;
}
/** §5.4.14 */
export interface Pubrel {
  readonly type: 'pubrel';
  readonly msgId: number;
}
/** §5.4.14 */
export interface Pubcomp {
  readonly type: 'pubcomp';
  readonly msgId: number;
}
/** §5.4.15: the topic is a name (possibly with wildcards), a pre-defined id or a short name. */
export interface Subscribe {
  readonly type: 'subscribe';
  readonly dup: boolean;
  readonly qos: SnQoS;
  readonly msgId: number;
  readonly topic: Exclude<TopicRef, { kind: 'id' }>;
}
/** §5.4.16 */
export interface Suback {
  readonly type: 'suback';
  readonly qos: SnQoS;
  readonly topicId: number;
  readonly msgId: number;
  readonly returnCode: number;
}
/** §5.4.17 */
export interface Unsubscribe {
  readonly type: 'unsubscribe';
  readonly msgId: number;
  readonly topic: Exclude<TopicRef, { kind: 'id' }>;
}
/** §5.4.18 */
export interface Unsuback {
  readonly type: 'unsuback';
  readonly msgId: number;
}
/** §5.4.19: a sleeping client sends its ClientId to go awake (§6.14). */
export interface Pingreq {
  readonly type: 'pingreq';
  readonly clientId?: string;
}
/** §5.4.20 */
export interface Pingresp {
  readonly type: 'pingresp';
}
/** §5.4.21: with a Duration, the client goes to sleep (§6.14). */
export interface Disconnect {
  readonly type: 'disconnect';
  readonly duration?: number;
}
/** §5.4.22: an empty WILLTOPICUPD deletes the will. */
export interface WillTopicUpd {
  readonly type: 'willtopicupd';
  readonly will?: WillTopic;
}
/** §5.4.24 */
export interface WillTopicResp {
  readonly type: 'willtopicresp';
  readonly returnCode: number;
}
/** §5.4.23 */
export interface WillMsgUpd {
  readonly type: 'willmsgupd';
  readonly payload: Buffer;
}
/** §5.4.25 */
export interface WillMsgResp {
  readonly type: 'willmsgresp';
  readonly returnCode: number;
}
/** §5.5: a forwarder wraps a client's message with the client's wireless node id. */
export interface Encapsulated {
  readonly type: 'encapsulated';
  /** Ctrl bits 0..1: the broadcast radius (0 for unicast). */
  readonly radius: number;
  readonly wirelessNodeId: Buffer;
  readonly message: MqttSnMessage;
}

export type MqttSnMessage =
  | Advertise
  | SearchGw
  | GwInfo
  | Connect
  | Connack
  | WillTopicReq
  | WillTopicMsg
  | WillMsgReq
  | WillMsg
  | Register
  | Regack
  | Publish
  | Puback
  | Pubrec
  | Pubrel
  | Pubcomp
  | Subscribe
  | Suback
  | Unsubscribe
  | Unsuback
  | Pingreq
  | Pingresp
  | Disconnect
  | WillTopicUpd
  | WillTopicResp
  | WillMsgUpd
  | WillMsgResp
  | Encapsulated;

/** The message of a given type. */
export type MessageOf<T extends MessageType> = Extract<MqttSnMessage, { type: T }>;
