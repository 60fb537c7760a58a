/**
 * Shared plumbing for the behaviour files: a harness per `describe`, MQTT.js clients that record
 * everything they receive, raw clients, unique names, and a flush barrier that proves absence
 * without sleeping.
 */
import { randomBytes } from 'node:crypto';
import type { Hooks, NotificationMap } from '@junction/broker-core';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { IConnackPacket, IDisconnectPacket, IPublishPacket, Packet, QoS } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { BrokerHarness, HarnessOptions, TransportFixture } from '../harness.js';
import { RawClient } from '../raw-client.js';
import { brief, Waitable } from '../waitable.js';

export { sleep } from '../waitable.js';
export { RawClient } from '../raw-client.js';

/** MQTT protocol level: 3 (3.1), 4 (3.1.1), 5 (5.0). */
export type ProtocolVersion = 3 | 4 | 5;

/** A behaviour file: registers its tests for one transport and one protocol version. */
export type Behaviour = (fixture: TransportFixture, version: ProtocolVersion) => void;

let counter = 0;
/** A short unique name (at most 23 characters, so MQTT 3.1 accepts it as a client id). */
export function uid(prefix = 'c'): string {
  counter++;
  return `${prefix.slice(0, 6)}${counter.toString(36)}${randomBytes(4).toString('hex')}`;
}

/** A unique topic prefix for one test: `t/{uid}/{name}`. */
export function topicFor(name: string): string {
  return `t/${uid('')}/${name}`;
}

/** One application message as a client received it. */
export interface Received {
  topic: string;
  payload: Buffer;
  /** The payload as UTF-8. */
  text: string;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  properties: NonNullable<IPublishPacket['properties']> | undefined;
  packet: IPublishPacket;
}

/** An MQTT.js client that records messages, raw packets, DISCONNECT and close. */
export class TestClient extends Waitable {
  /** Application messages in MQTT.js 'message' order (a QoS 2 message counts at its PUBREL). */
  readonly messages: Received[] = [];
  /** Every packet received, in order (before MQTT.js resolves topic aliases). */
  readonly packets: Packet[] = [];
  readonly errors: Error[] = [];
  /** DISCONNECT received from the server (MQTT 5). */
  disconnectPacket: IDisconnectPacket | undefined;
  connack: IConnackPacket | undefined;
  isClosed = false;
  closedAt = 0;
  readonly connected: Promise<IConnackPacket>;

  constructor(
    readonly client: MqttClient,
    readonly clientId: string,
  ) {
    super();
    client.on('message', (topic, payload, packet) => {
      this.messages.push({
        topic,
        payload,
        text: payload.toString('utf8'),
        qos: packet.qos,
        retain: packet.retain,
        dup: packet.dup,
        properties: packet.properties,
        packet,
      });
      this.changed();
    });
    client.on('packetreceive', (p) => {
      this.packets.push(p);
      this.changed();
    });
    client.on('disconnect', (p) => {
      this.disconnectPacket = p;
      this.changed();
    });
    client.on('error', (err) => {
      this.errors.push(err);
      this.changed();
    });
    client.on('close', () => {
      if (!this.isClosed) this.closedAt = Date.now();
      this.isClosed = true;
      this.changed();
    });
    this.connected = new Promise((resolve, reject) => {
      client.once('connect', (ack) => {
        this.connack = ack;
        resolve(ack);
      });
      client.once('error', (err) => reject(err));
      client.once('close', () => reject(new Error(`connection of ${clientId} closed before CONNACK`)));
    });
    // A refused connection is awaited by the test; never report it as unhandled.
    this.connected.catch(() => {});
  }

  /** Messages on topics starting with `prefix` (all when omitted). */
  on(prefix = ''): Received[] {
    return this.messages.filter((m) => m.topic.startsWith(prefix));
  }

  /**
   * PUBLISH packets as they came off the wire (topic aliases unresolved), on topics starting with
   * `prefix`. Use for ordering across QoS levels: MQTT.js emits a QoS 2 'message' only on PUBREL.
   */
  wire(prefix = ''): IPublishPacket[] {
    return this.packets.filter((p): p is IPublishPacket => p.cmd === 'publish' && String(p.topic).startsWith(prefix));
  }

  /** Wait until `n` messages on topics starting with `prefix` have arrived; returns them. */
  waitMessages(n: number, prefix = '', timeoutMs = 3000): Promise<Received[]> {
    return this.until(() => {
      const got = this.on(prefix);
      return got.length >= n ? got : undefined;
    }, `${n} message(s) on ${prefix || 'any topic'}`, timeoutMs);
  }

  /** Wait for the first message that satisfies `match`. */
  waitMessage(match: (m: Received) => boolean, what: string, timeoutMs = 3000): Promise<Received> {
    return this.until(() => this.messages.find(match), what, timeoutMs);
  }

  /** Wait for a received packet of this type (optionally matching). */
  waitPacket<C extends Packet['cmd']>(cmd: C, match: (p: Extract<Packet, { cmd: C }>) => boolean = () => true, timeoutMs = 3000): Promise<Extract<Packet, { cmd: C }>> {
    return this.until(() => this.packets.find((p): p is Extract<Packet, { cmd: C }> => p.cmd === cmd && match(p as Extract<Packet, { cmd: C }>)), `a ${cmd} packet`, timeoutMs);
  }

  waitClosed(timeoutMs = 3000): Promise<true> {
    return this.until(() => this.isClosed, 'the connection to close', timeoutMs);
  }

  /** Publish and resolve with the acknowledgement packet (PUBACK for QoS 1, PUBREC for QoS 2). */
  async publishAcked(topic: string, payload: string | Buffer, opts: IClientPublishOptions & { qos: 1 | 2 }): Promise<Packet> {
    const before = this.packets.length;
    await this.client.publishAsync(topic, payload, opts).catch((err: unknown) => {
      // A negative reason code rejects the promise; the packet is still recorded below.
      if (!(err instanceof Error) || !('code' in err)) throw err;
    });
    const cmd = opts.qos === 1 ? 'puback' : 'pubrec';
    return this.until(() => this.packets.slice(before).find((p) => p.cmd === cmd), `a ${cmd}`);
  }

  /** Normal DISCONNECT (optionally with an MQTT 5 reason code) and wait for the socket to close. */
  async disconnect(reasonCode?: number): Promise<void> {
    await this.client.endAsync(false, reasonCode === undefined ? {} : { reasonCode });
  }

  /** Drop the connection without DISCONNECT, as a network failure would. */
  kill(): void {
    this.client.stream.destroy();
  }

  protected describe(): string {
    const msgs = this.messages.map((m) => `${m.topic}=${m.text.slice(0, 20)}(q${m.qos}${m.retain ? ',r' : ''})`);
    return `messages [${msgs.join(', ')}]; packets [${this.packets.map((p) => brief(p as never)).join(', ')}]${this.isClosed ? ' (closed)' : ''}`;
  }
}

/** Options for `Scope.connect`: MQTT.js options plus a harness other than the scope's own. */
export type ConnectOptions = IClientOptions & { harness?: BrokerHarness };

/**
 * One broker for a `describe` block (started in beforeAll, stopped in afterAll), with clients
 * that are all ended after each test.
 */
export class Scope {
  private harness: BrokerHarness | undefined;
  private readonly clients = new Set<TestClient>();
  private readonly raws = new Set<RawClient>();
  private readonly cleanups: (() => unknown)[] = [];

  constructor(
    readonly fixture: TransportFixture,
    readonly version: ProtocolVersion,
    readonly harnessOptions?: HarnessOptions,
  ) {}

  get h(): BrokerHarness {
    if (!this.harness) throw new Error('the harness is not started');
    return this.harness;
  }

  get v5(): boolean {
    return this.version === 5;
  }

  /** Options for a client of this scope's protocol version. */
  options(over: ConnectOptions = {}, h: BrokerHarness = this.h): IClientOptions {
    const { harness: _ignored, ...rest } = over;
    return {
      ...h.clientOptions,
      protocolVersion: this.version,
      ...(this.version === 3 ? { protocolId: 'MQIsdp' as const } : {}),
      clientId: uid('c'),
      reconnectPeriod: 0,
      connectTimeout: 4000,
      // No client-side subscription bookkeeping: every subscribe goes on the wire.
      resubscribe: false,
      ...rest,
    };
  }

  /** Start connecting; the client is ended after the test. Await `client.connected` yourself. */
  open(over: ConnectOptions = {}): TestClient {
    const h = over.harness ?? this.h;
    const opts = this.options(over, h);
    const client = h.connectClient ? h.connectClient(opts) : mqtt.connect(h.url, opts);
    const c = new TestClient(client, opts.clientId!);
    // No Nagle delay on the client side either (TCP and TLS sockets; others have no such knob).
    const stream = c.client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
    stream?.setNoDelay?.(true);
    this.clients.add(c);
    return c;
  }

  /** Connect and wait for a successful CONNACK. */
  async connect(over: ConnectOptions = {}): Promise<TestClient> {
    const c = this.open(over);
    await c.connected;
    return c;
  }

  /** Options for a persistent session in this protocol version (MQTT 5: expiry `expiry` s). */
  persistent(expiry = 300): IClientOptions {
    return this.v5 ? { clean: false, properties: { sessionExpiryInterval: expiry } } : { clean: false };
  }

  /** A raw byte-level client on this scope's harness (or another one). */
  async raw(h: BrokerHarness = this.h, version: ProtocolVersion = this.version): Promise<RawClient> {
    const r = new RawClient(await h.openStream(), version);
    this.raws.add(r);
    return r;
  }

  /** Start an extra harness (e.g. with other options), stopped after the test. */
  async startHarness(opts?: HarnessOptions): Promise<BrokerHarness> {
    const h = await this.fixture.start(opts);
    this.defer(() => h.stop());
    return h;
  }

  /** Run `fn` after the current test. */
  defer(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  /**
   * Barrier: once this returns, every message `via` published before, and every delivery the
   * broker made to `sub` before, has reached `sub` (deliveries to one client keep their order).
   * The barrier message itself is removed from `sub.messages`.
   */
  async flush(sub: TestClient, via: TestClient = sub): Promise<void> {
    const topic = `flush/${uid('f')}`;
    await sub.client.subscribeAsync(topic, { qos: 1 });
    await via.client.publishAsync(topic, 'flush', { qos: 1 });
    await sub.waitMessage((m) => m.topic === topic, `the flush message on ${topic}`);
    for (let i = sub.messages.length - 1; i >= 0; i--) if (sub.messages[i]!.topic === topic) sub.messages.splice(i, 1);
    await sub.client.unsubscribeAsync(topic);
  }

  /** Wait for a broker notification (register before causing it). */
  waitHook<K extends keyof NotificationMap>(name: K, match: (...args: Parameters<NotificationMap[K]>) => boolean = () => true, timeoutMs = 3000, hooks: Hooks = this.h.broker.hooks): Promise<Parameters<NotificationMap[K]>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for the ${name} hook`));
      }, timeoutMs);
      const off = hooks.on(name, ((...args: Parameters<NotificationMap[K]>) => {
        if (!match(...args)) return;
        clearTimeout(timer);
        off();
        resolve(args);
      }) as NotificationMap[K]);
    });
  }

  /** Ends every client and raw client and runs deferred cleanups. */
  async cleanup(): Promise<void> {
    const clients = [...this.clients];
    this.clients.clear();
    const raws = [...this.raws];
    this.raws.clear();
    for (const r of raws) r.destroy();
    await Promise.all(clients.map((c) => withTimeout(c.client.endAsync(true), 2000).catch(() => {})));
    const cleanups = this.cleanups.splice(0);
    for (const fn of cleanups.reverse()) await fn();
  }

  /** Register beforeAll / afterEach / afterAll in the current describe block. */
  register(): this {
    beforeAll(async () => {
      this.harness = await this.fixture.start(this.harnessOptions);
    });
    afterEach(() => this.cleanup());
    afterAll(async () => {
      await this.cleanup();
      await this.harness?.stop();
      this.harness = undefined;
    });
    return this;
  }
}

/** A started scope for the current describe block. */
export function useScope(fixture: TransportFixture, version: ProtocolVersion, harnessOptions?: HarnessOptions): Scope {
  return new Scope(fixture, version, harnessOptions).register();
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e as Error);
      },
    );
  });
}

/** The MQTT 5 reason code (or MQTT 3 return code) of an acknowledgement or CONNACK. */
export function codeOf(p: Packet | undefined): number | undefined {
  if (!p) return undefined;
  const r = p as { reasonCode?: number; returnCode?: number };
  return r.reasonCode ?? r.returnCode;
}

/** Name of the protocol version for describe titles. */
export function versionName(v: ProtocolVersion): string {
  return v === 3 ? 'MQTT 3.1' : v === 4 ? 'MQTT 3.1.1' : 'MQTT 5.0';
}
