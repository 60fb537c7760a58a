import type { Message, MessageProperties, PublishRequest, QoS } from './message.js';

/** The Last Will, as CONNECT (or its equivalent) carries it. */
export interface Will {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: MessageProperties;
  /** Seconds to wait after an abnormal disconnect before publishing (MQTT 5). */
  delayInterval?: number;
}

/** Everything the core needs to open a session for a client of any protocol. */
export interface ConnectInfo {
  /** Empty string: the core assigns one and reports it in `SessionHandle.assignedClientId`. */
  clientId: string;
  username?: string;
  password?: Buffer;
  /** `mqtt`, `mqtt-sn`, `coap`, `ocpp`, ... */
  protocol: string;
  /** Protocol version as the adapter knows it (3, 4, 5 for MQTT; `2.0.1` for OCPP). */
  protocolVersion?: number | string;
  /** Peer address as `host:port`. */
  peer: string;
  /** Name of the listener the client came through, e.g. `tcp:default`. */
  listener?: string;
  cleanStart: boolean;
  /** Seconds; 0 ends the session with the connection, 0xFFFFFFFF never expires. Undefined:
   * the broker's `session_expiry_interval` when `cleanStart` is false (MQTT 3.x), else 0. */
  sessionExpiryInterval?: number;
  /** Seconds; 0 disables keepalive checking. */
  keepalive: number;
  will?: Will;
  /** How many QoS 1/2 deliveries may be unacknowledged at once (MQTT 5 Receive Maximum). */
  receiveMaximum?: number;
  /** Verified TLS client certificate, when there is one. `subjectAltName` as Node prints it
   * (`DNS:a.example, email:b@example`); TLS adapters pass @junction/tls's `PeerCertInfo`. */
  peerCert?: { subject?: string; commonName?: string; subjectAltName?: string };
  /** MQTT 5 enhanced authentication. */
  authMethod?: string;
  authData?: Buffer;
  /** Set by an adapter that completed enhanced authentication: the authenticate chain is skipped. */
  authenticated?: { isSuperuser?: boolean; attrs?: Record<string, unknown> };
}

export interface SubscriptionOptions {
  qos: QoS;
  noLocal?: boolean;
  retainAsPublished?: boolean;
  /** 0: send retained on subscribe; 1: only if the subscription is new; 2: never. */
  retainHandling?: 0 | 1 | 2;
  subscriptionId?: number;
}

export interface Subscription extends SubscriptionOptions {
  /** As the client sent it, including any `$share/{group}/` or `$queue/` prefix. */
  filter: string;
}

/** Per filter: the granted QoS, or the error that refused it. */
export type SubscribeResult = { ok: true; qos: QoS } | { ok: false; error: import('./errors.js').JunctionError };

/** One message on its way to one client. */
export interface Delivery {
  readonly message: Message;
  /** Granted QoS: min(message QoS, subscription QoS). */
  readonly qos: QoS;
  /** Non-zero for QoS 1 and 2. */
  readonly packetId: number;
  readonly dup: boolean;
  readonly retain: boolean;
  readonly subscriptionIds?: readonly number[];
}

/** Why a session's connection ends. Adapters map these to their wire codes. */
export type CloseReason =
  | 'normal' //               client asked, no will
  | 'normal_with_will' //     client asked, publish the will (MQTT 5 0x04)
  | 'takeover' //             another connection took the session (0x8E)
  | 'kicked' //               administrative action (0x98)
  | 'banned' //               (0x8A)
  | 'keepalive_timeout' //    (0x8D)
  | 'protocol_error' //       (0x82 and friends, adapter decides the exact code)
  | 'server_shutdown' //      (0x8B)
  | 'connection_lost' //      socket closed or errored without DISCONNECT
  | 'backpressure_timeout' // the client did not drain its socket in time
  | 'not_authorized'; //      (0x87)

/** Implemented by each adapter; called synchronously by the core. */
export interface DeliverySink {
  /**
   * Send one message. Return false when the transport is full: the core then holds further
   * deliveries until `SessionHandle.ready()` is called. The delivery passed is always accepted.
   */
  deliver(d: Delivery): boolean;
  /** Resend a PUBREL for an outgoing QoS 2 message after a session resumes. */
  resendPubrel(packetId: number): void;
  /** The core closes this connection: takeover, kick, ban, keepalive expiry, shutdown. */
  closeBy(reason: CloseReason): void;
}

/** Result of publishing one message. */
export interface PublishOutcome {
  /** Number of subscriptions the message was routed to (0: "no matching subscribers"). */
  matched: number;
  /** True when a QoS 2 PUBLISH repeated a packet id already received: not routed again. */
  duplicate?: boolean;
  /**
   * Only with `{ pipeline: true }`: resolves once every store write this publish caused is
   * durable. A QoS 1/2 PUBLISH may be acknowledged only after it; absent: at once.
   */
  durable?: Promise<void>;
}

export interface PublishOptions {
  /**
   * Return as soon as the message is routed, with `durable` in the outcome, instead of a promise
   * that resolves once it is durable: the connection can go on reading (later messages join the
   * same group commit) while acknowledgements wait for `durable`, in order.
   */
  pipeline?: boolean;
}

export interface SessionHandle {
  readonly clientId: string;
  /** Set when the core assigned the client id. */
  readonly assignedClientId?: string;
  /** True when an existing session was resumed. */
  readonly sessionPresent: boolean;
  /** Subscribe; authorization is checked per filter. Retained messages follow as deliveries. */
  subscribe(subs: Subscription[]): Promise<SubscribeResult[]>;
  /** Unsubscribe; per filter, whether a subscription existed. */
  unsubscribe(filters: string[]): Promise<boolean[]>;
  /**
   * Publish. Synchronous (no promise) unless an interceptor is asynchronous or, without
   * `pipeline`, the message must first be durable; resolves once the bus accepted the message:
   * that is when QoS 1/2 may be acknowledged (with `pipeline`: once `outcome.durable` resolved).
   * Throws `JunctionError`.
   */
  publish(req: PublishRequest, opts?: PublishOptions): PublishOutcome | Promise<PublishOutcome>;
  /** QoS 2 inbound: PUBREL received; returns false if the packet id was unknown. */
  release(packetId: number): boolean;
  /** The client acknowledged a delivery (PUBACK, PUBREC or PUBCOMP). Returns false if unknown. */
  ack(packetId: number, kind: 'puback' | 'pubrec' | 'pubcomp'): boolean;
  /** The transport has room again after `deliver` returned false. */
  ready(): void;
  /** Any traffic from the client: resets the keepalive timer. */
  touch(): void;
  /** Change the keepalive (seconds), e.g. after a server override. */
  setKeepalive(seconds: number): void;
  /** Update the session expiry interval (MQTT 5 DISCONNECT may do so). */
  setSessionExpiry(seconds: number): void;
  /** End this connection. Idempotent. The will, if any, is handled according to `reason`. */
  close(reason: CloseReason): void;
  /** True once closed, by the client or the core. */
  readonly closed: boolean;
}

/** What the broker offers, for adapters to announce (MQTT 5 CONNACK properties and the like). */
export interface BrokerFeatures {
  readonly sharedSubscriptions: boolean;
  readonly wildcardSubscriptions: boolean;
  readonly retainAvailable: boolean;
  /** Outgoing QoS 1/2 window per client. */
  readonly maxInflight: number;
  /** Inbound QoS 2 messages awaiting PUBREL per client. */
  readonly maxAwaitingRel: number;
}

/** The broker as adapters see it. */
export interface Broker {
  readonly nodeName: string;
  readonly features: BrokerFeatures;
  /** Enhanced (challenge/response) authenticators by method. */
  readonly enhancedAuth: import('./enhanced-auth.js').EnhancedAuthRegistry;
  /** Authenticate, check bans, take over or resume, and attach the sink. Throws `JunctionError`. */
  open(info: ConnectInfo, sink: DeliverySink): Promise<SessionHandle>;
  /** `open()` without the promise when no hook answers asynchronously: the handle, or a promise
   * of it as soon as one does. Throws (or rejects with) `JunctionError` as `open()` does. */
  openNow?(info: ConnectInfo, sink: DeliverySink): SessionHandle | Promise<SessionHandle>;
  /** Publish on behalf of the broker or an integration (no session). */
  publish(req: PublishRequest, from?: Partial<import('./message.js').Publisher>): PublishOutcome | Promise<PublishOutcome>;
}
