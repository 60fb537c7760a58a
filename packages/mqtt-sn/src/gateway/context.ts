import type { Broker, Clock, Hooks, Logger, Metrics, QoS, TopicMapper } from '@junction/broker-core';
import type { Connect, MqttSnMessage } from '../codec/index.js';
import type { MqttSnChannel } from './channel.js';
import type { PredefinedTopics, TopicRegistry } from './topic-registry.js';

/** Where a datagram came from: a client, or a client behind a forwarder (§5.5). */
export interface Peer {
  readonly host: string;
  readonly port: number;
  /** `host:port` (IPv6 in brackets), as `ConnectInfo.peer`. */
  readonly address: string;
  /** Unique per client: the address, plus the wireless node id behind a forwarder. */
  readonly key: string;
  readonly forwarder?: { readonly nodeId: Buffer; readonly radius: number };
}

/** The will as MQTT-SN carries it (§6.2, §6.4); the topic as the client wrote it. */
export interface WillData {
  topic?: string;
  qos: QoS;
  retain: boolean;
  payload: Buffer;
}

/**
 * What outlives a connection of a client with CleanSession 0: MQTT-SN extends the session to the
 * will (§6.3), and topic ids stay valid while the session lasts.
 */
export interface ClientMemory {
  readonly registry: TopicRegistry;
  will: WillData | undefined;
  /** Subscribed topic names as the client wrote them, for `subs_resume`. */
  readonly subscriptions: Map<string, QoS>;
}

/** The gateway's settings, resolved for one listener. */
export interface GatewayOptions {
  readonly gatewayId: number;
  readonly enableQos3: boolean;
  readonly subsResume: boolean;
  readonly idleTimeoutMs: number;
  /** Tretry. */
  readonly retryIntervalMs: number;
  /** Nretry. */
  readonly maxRetries: number;
  readonly maxConnections: number;
  readonly maxConnRate: number;
  readonly enableAuthn: boolean;
  readonly enableStats: boolean;
  readonly clientinfoOverride: { readonly username: string; readonly password: string; readonly clientid: string };
  /** `udp:default`. */
  readonly listener: string;
  /** Seconds announced in ADVERTISE. */
  readonly advertiseDuration: number;
}

/** What the gateway needs from its host (the adapter and the transport). */
export interface GatewayDeps {
  readonly broker: Broker;
  readonly hooks: Hooks;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly clock: Clock;
  readonly topics: TopicMapper;
  readonly predefined: PredefinedTopics;
  /** Sessions of CleanSession 0 clients, shared by the listeners of one gateway. */
  readonly memory: Map<string, ClientMemory>;
  /** Hand one encoded datagram to the transport. */
  readonly transmit: (host: string, port: number, data: Buffer) => void;
  /** Whether a new peer may talk to the gateway (access rules); default: every peer. */
  readonly allowPeer?: (host: string) => boolean;
}

/** What a channel sees of its gateway. */
export interface ChannelHost extends GatewayDeps {
  readonly options: GatewayOptions;
  /** Encode and send one message to a peer (wrapped for a forwarder). */
  send(peer: Peer, msg: MqttSnMessage): void;
  /** Count a gateway event (stats). */
  count(counter: GatewayCounter, by?: number): void;
  /** Channels of this gateway that are opening a session, by client id. */
  readonly opening: Map<string, MqttSnChannel>;
  /** The channel now speaks for `clientId`: index it. */
  claim(channel: MqttSnChannel): void;
  /** A connected client sent CONNECT again: end its channel quietly, start anew with `msg`. */
  reconnect(channel: MqttSnChannel, msg: Connect): void;
  /** The channel ended: forget it. */
  forget(channel: MqttSnChannel): void;
}

export const GATEWAY_COUNTERS = [
  'packets.received',
  'packets.sent',
  'packets.malformed',
  'packets.dropped',
  'bytes.received',
  'bytes.sent',
  'messages.qos_neg1.received',
  'retransmissions',
  'clients.lost',
] as const;
export type GatewayCounter = (typeof GATEWAY_COUNTERS)[number];
