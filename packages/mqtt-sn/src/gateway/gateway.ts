import type { Broker, Clock, Hooks, Logger, Metrics, TopicMapper } from '@junction/broker-core';
import { decode, encode, MqttSnDecodeError, RETURN_CODE, type Connect, type MqttSnMessage } from '../codec/index.js';
import { MqttSnChannel } from './channel.js';
import { GATEWAY_COUNTERS, type ChannelHost, type ClientMemory, type GatewayCounter, type GatewayDeps, type GatewayOptions, type Peer } from './context.js';
import { publishNegativeQos } from './negative-qos.js';
import type { PredefinedTopics } from './topic-registry.js';

/**
 * The MQTT-SN gateway of one listener: it decodes datagrams, keeps one channel per client
 * (peer address, or wireless node behind a forwarder), answers SEARCHGW, takes QoS -1 PUBLISH
 * from anyone, and drops (and counts) what it cannot decode. It never touches a socket: the
 * transport hands it datagrams (`receive`) and takes encoded ones (`deps.transmit`); time comes
 * from `deps.clock`, so tests drive it in memory.
 */
export class MqttSnGateway implements ChannelHost {
  readonly broker: Broker;
  readonly hooks: Hooks;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly clock: Clock;
  readonly topics: TopicMapper;
  readonly predefined: PredefinedTopics;
  readonly memory: Map<string, ClientMemory>;
  readonly transmit: (host: string, port: number, data: Buffer) => void;
  readonly allowPeer?: (host: string) => boolean;
  readonly opening = new Map<string, MqttSnChannel>();
  private readonly channels = new Map<string, MqttSnChannel>();
  private readonly byClientId = new Map<string, MqttSnChannel>();
  private readonly counters = Object.fromEntries(GATEWAY_COUNTERS.map((n) => [n, 0])) as Record<GatewayCounter, number>;
  private tokens: number;
  private refilledAt: number;
  private stopped = false;

  constructor(
    deps: GatewayDeps,
    readonly options: GatewayOptions,
  ) {
    this.broker = deps.broker;
    this.hooks = deps.hooks;
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.clock = deps.clock;
    this.topics = deps.topics;
    this.predefined = deps.predefined;
    this.memory = deps.memory;
    this.transmit = deps.transmit;
    this.allowPeer = deps.allowPeer;
    this.tokens = options.maxConnRate;
    this.refilledAt = deps.clock.now();
  }

  // ------------------------------------------------------------------ inbound

  /** One datagram from `host:port`. Never throws. */
  receive(host: string, port: number, data: Buffer): void {
    if (this.stopped) return;
    this.count('packets.received');
    this.count('bytes.received', data.length);
    const c = this.metrics.counters;
    c['packets.received']++;
    c['bytes.received'] += data.length;
    let msg: MqttSnMessage;
    try {
      msg = decode(data);
    } catch (err) {
      this.count('packets.malformed');
      this.log.debug({ peer: formatAddress(host, port), reason: err instanceof MqttSnDecodeError ? err.reason : String(err) }, 'malformed_packet');
      return;
    }
    const address = formatAddress(host, port);
    let peer: Peer = { host, port, address, key: address };
    if (msg.type === 'encapsulated') {
      // §5.5: a forwarder relays a client; replies go back through it, wrapped the same way.
      peer = { ...peer, key: `${address}/${msg.wirelessNodeId.toString('hex')}`, forwarder: { nodeId: msg.wirelessNodeId, radius: msg.radius } };
      msg = msg.message;
    }
    const ch = this.channels.get(peer.key);
    if (!ch && this.allowPeer && !this.allowPeer(host)) {
      this.log.debug({ peer: peer.key }, 'peer_denied_by_access_rules');
      return this.count('packets.dropped');
    }
    // §6.1: SEARCHGW is answered with GWINFO, connected or not.
    if (msg.type === 'searchgw') return this.send(peer, { type: 'gwinfo', gwId: this.options.gatewayId });
    if (ch) return ch.receive(msg);
    this.fromUnknownPeer(peer, msg);
  }

  private fromUnknownPeer(peer: Peer, msg: MqttSnMessage): void {
    switch (msg.type) {
      case 'connect':
        return this.accept(peer, msg);
      case 'publish':
        if (msg.qos === -1) return publishNegativeQos(this, peer, msg);
        break;
      case 'pingreq': {
        // A sleeping client may wake from a new address (its NAT binding changed, say).
        const ch = msg.clientId ? this.byClientId.get(msg.clientId) : undefined;
        if (ch && (ch.state === 'asleep' || ch.state === 'awake')) {
          this.channels.delete(ch.peer.key);
          ch.peer = peer;
          this.channels.set(peer.key, ch);
          return ch.receive(msg);
        }
        // As EMQX: a PINGREQ without a connection is answered.
        return this.send(peer, { type: 'pingresp' });
      }
      case 'disconnect':
        // As EMQX: DISCONNECT is acknowledged even without a connection.
        return this.send(peer, { type: 'disconnect' });
      case 'advertise':
      case 'gwinfo':
        return; // other gateways' discovery traffic
    }
    this.log.debug({ peer: peer.key, type: msg.type }, 'packet_without_connection');
    this.count('packets.dropped');
  }

  /** A CONNECT from a new peer: admit it within `max_connections` and `max_conn_rate`. */
  private accept(peer: Peer, msg: Connect): void {
    if (this.channels.size >= this.options.maxConnections) {
      this.log.warn({ peer: peer.key, max: this.options.maxConnections }, 'max_connections_reached');
      this.send(peer, { type: 'connack', returnCode: RETURN_CODE.CONGESTION });
      this.metrics.counters['client.connack.failure']++;
      return;
    }
    if (!this.takeToken()) {
      this.log.debug({ peer: peer.key }, 'max_conn_rate_exceeded');
      return this.count('packets.dropped');
    }
    this.metrics.counters['connections.accepted']++;
    const ch = new MqttSnChannel(this, peer);
    this.channels.set(peer.key, ch);
    ch.receive(msg);
  }

  private takeToken(): boolean {
    const now = this.clock.now();
    const rate = this.options.maxConnRate;
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  // ------------------------------------------------------------------ ChannelHost

  send(peer: Peer, msg: MqttSnMessage): void {
    const out: MqttSnMessage = peer.forwarder ? { type: 'encapsulated', radius: 0, wirelessNodeId: peer.forwarder.nodeId, message: msg } : msg;
    let data: Buffer;
    try {
      data = encode(out);
    } catch (err) {
      this.log.warn({ err, peer: peer.key, type: msg.type }, 'encode_failed');
      return;
    }
    this.count('packets.sent');
    this.count('bytes.sent', data.length);
    const c = this.metrics.counters;
    c['packets.sent']++;
    c['bytes.sent'] += data.length;
    this.transmit(peer.host, peer.port, data);
  }

  count(counter: GatewayCounter, by = 1): void {
    this.counters[counter] += by;
  }

  claim(ch: MqttSnChannel): void {
    this.byClientId.set(ch.clientId, ch);
  }

  forget(ch: MqttSnChannel): void {
    if (this.channels.get(ch.peer.key) === ch) this.channels.delete(ch.peer.key);
    if (this.byClientId.get(ch.clientId) === ch) this.byClientId.delete(ch.clientId);
  }

  reconnect(ch: MqttSnChannel, msg: Connect): void {
    // The same device connecting again (it restarted, say): no will, no DISCONNECT.
    ch.end('normal', { reason: 'reconnect' });
    if (this.stopped) return;
    const next = new MqttSnChannel(this, ch.peer);
    this.channels.set(ch.peer.key, next);
    next.receive(msg);
  }

  // ------------------------------------------------------------------ lifecycle and stats

  /** ADVERTISE (§5.4.1, §6.1), with the time until the next one. */
  advertisement(): Buffer {
    return encode({ type: 'advertise', gwId: this.options.gatewayId, duration: this.options.advertiseDuration });
  }

  /** Clients connected, sleeping ones included. */
  get connections(): number {
    let n = 0;
    for (const ch of this.channels.values()) if (ch.connected) n++;
    return n;
  }

  /** The client of a client id, for tests and administration. */
  client(clientId: string): { state: string; peer: string } | undefined {
    const ch = this.byClientId.get(clientId);
    return ch ? { state: ch.state, peer: ch.peer.key } : undefined;
  }

  stats(): Record<string, number> {
    let sleeping = 0;
    for (const ch of this.channels.values()) if (ch.state === 'asleep' || ch.state === 'awake') sleeping++;
    return this.options.enableStats ? { connections: this.connections, sleeping, ...this.counters } : { connections: this.connections };
  }

  /** Tell every client the gateway is going away (DISCONNECT), publish wills, close sessions. */
  stop(): void {
    if (this.stopped) return;
    for (const ch of [...this.channels.values()]) ch.closeBy('server_shutdown');
    this.stopped = true;
  }
}

/** `host:port`, IPv6 hosts in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
