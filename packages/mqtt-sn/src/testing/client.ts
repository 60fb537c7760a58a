import { decode, encode, MqttSnDecodeError, RETURN_CODE, type Connack, type MessageOf, type MessageType, type MqttSnMessage, type Publish, type SnQoS, type Suback, type TopicRef } from '../codec/index.js';
import { openUdpEndpoint, type UdpEndpoint } from '../transport/udp.js';

export interface TestWill {
  topic: string;
  payload: string | Buffer;
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

export interface TestConnectOptions {
  /** Keepalive, seconds. Default 60. */
  duration?: number;
  cleanSession?: boolean;
  will?: TestWill;
}

/** A topic as tests write it: a full name, a pre-defined id, or a short name. */
export type TestTopic = string | { predefined: number } | { short: string };

/**
 * An MQTT-SN client for tests, over a real UDP socket. Everything received is decoded into an
 * inbox; `next(type)` takes the first message of a type from it (waiting if needed), leaving
 * others. `dropIncoming` / `dropOutgoing` simulate lost datagrams. With `autoAck`, REGISTER,
 * PUBLISH and PUBREL from the gateway are answered as a well-behaved client would.
 */
export class MqttSnTestClient {
  /** Every message received, in order (also those taken from the inbox). */
  readonly received: MqttSnMessage[] = [];
  /** Datagrams that did not decode. */
  readonly undecodable: Buffer[] = [];
  /** Topic ids learnt from REGISTER and SUBACK, and REGACK of our own REGISTERs. */
  readonly topicIds = new Map<number, string>();
  /** Return true to lose a datagram from the gateway (it is not decoded into the inbox). */
  dropIncoming: ((m: MqttSnMessage) => boolean) | undefined;
  /** Return true to lose a datagram on its way to the gateway. */
  dropOutgoing: ((m: MqttSnMessage) => boolean) | undefined;
  /** Answer REGISTER, PUBLISH (QoS 1, 2) and PUBREL automatically. */
  autoAck = false;
  private readonly inbox: MqttSnMessage[] = [];
  private waiters: { accepts: (m: MqttSnMessage) => boolean; resolve: (m: MqttSnMessage) => void }[] = [];
  private nextMsgId = 1;

  private constructor(
    private readonly endpoint: UdpEndpoint,
    readonly gatewayHost: string,
    readonly gatewayPort: number,
  ) {
    endpoint.onMessage((data) => this.onDatagram(data));
  }

  /** A client bound to a free local port, talking to the gateway at `host:port`. */
  static async open(port: number, host = '127.0.0.1'): Promise<MqttSnTestClient> {
    const bindHost = host.includes(':') ? '::1' : '127.0.0.1';
    return new MqttSnTestClient(await openUdpEndpoint(bindHost), host, port);
  }

  /** Our local port (the gateway sees us as `127.0.0.1:port`). */
  get port(): number {
    return this.endpoint.port;
  }

  msgId(): number {
    const id = this.nextMsgId;
    this.nextMsgId = id === 0xffff ? 1 : id + 1;
    return id;
  }

  // ------------------------------------------------------------------ raw

  send(msg: MqttSnMessage): void {
    if (this.dropOutgoing?.(msg)) return;
    this.endpoint.send(encode(msg), this.gatewayHost, this.gatewayPort);
  }

  sendRaw(data: Buffer): void {
    this.endpoint.send(data, this.gatewayHost, this.gatewayPort);
  }

  private onDatagram(data: Buffer): void {
    let msg: MqttSnMessage;
    try {
      msg = decode(data);
    } catch (err) {
      if (err instanceof MqttSnDecodeError) this.undecodable.push(data);
      return;
    }
    if (this.dropIncoming?.(msg)) return;
    this.received.push(msg);
    this.learn(msg);
    if (this.autoAck) this.answer(msg);
    const i = this.waiters.findIndex((w) => w.accepts(msg));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w!.resolve(msg);
    } else {
      this.inbox.push(msg);
    }
  }

  private learn(msg: MqttSnMessage): void {
    if (msg.type === 'register') this.topicIds.set(msg.topicId, msg.topicName);
  }

  private answer(msg: MqttSnMessage): void {
    if (msg.type === 'register') this.send({ type: 'regack', topicId: msg.topicId, msgId: msg.msgId, returnCode: RETURN_CODE.ACCEPTED });
    else if (msg.type === 'publish' && msg.qos === 1) this.send({ type: 'puback', topicId: msg.topic.kind === 'short' ? 0 : msg.topic.id, msgId: msg.msgId, returnCode: RETURN_CODE.ACCEPTED });
    else if (msg.type === 'publish' && msg.qos === 2) this.send({ type: 'pubrec', msgId: msg.msgId });
    else if (msg.type === 'pubrel') this.send({ type: 'pubcomp', msgId: msg.msgId });
  }

  /** The next message (of `type`), from the inbox or the wire; rejects after `timeoutMs`. */
  next<T extends MessageType>(type?: T, timeoutMs = 3000): Promise<MessageOf<T>> {
    return this.nextOf(type === undefined ? undefined : [type], timeoutMs) as Promise<MessageOf<T>>;
  }

  /** The next message of any of `types` (any message when undefined). */
  nextOf<T extends MessageType>(types: readonly T[] | undefined, timeoutMs = 3000): Promise<MessageOf<T>> {
    const accepts = (m: MqttSnMessage) => types === undefined || (types as readonly MessageType[]).includes(m.type);
    const i = this.inbox.findIndex(accepts);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as MessageOf<T>);
    return new Promise((resolve, reject) => {
      const w = { accepts, resolve: (m: MqttSnMessage) => (clearTimeout(t), resolve(m as MessageOf<T>)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no ${types?.join(' or ') ?? 'message'} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Resolves when no message (of `type`) arrives within `ms`; rejects with the one that did. */
  async nothing(type?: MessageType, ms = 300): Promise<void> {
    try {
      const m = await this.next(type, ms);
      throw new Error(`unexpected ${m.type}: ${JSON.stringify(m)}`);
    } catch (err) {
      if ((err as Error).message.startsWith('no ')) return;
      throw err;
    }
  }

  /** Messages waiting in the inbox. */
  pending(): MqttSnMessage[] {
    return [...this.inbox];
  }

  /** The topic name of a PUBLISH, as far as this client knows it. */
  topicOf(p: Publish): string | undefined {
    return p.topic.kind === 'short' ? p.topic.name : p.topic.kind === 'id' ? this.topicIds.get(p.topic.id) : `predefined:${p.topic.id}`;
  }

  // ------------------------------------------------------------------ flows

  /** CONNECT, answering the will prompts; resolves with CONNACK. */
  async connect(clientId: string, opts: TestConnectOptions = {}): Promise<Connack> {
    this.send({ type: 'connect', will: !!opts.will, cleanSession: opts.cleanSession ?? true, protocolId: 1, duration: opts.duration ?? 60, clientId });
    if (opts.will) {
      await this.next('willtopicreq');
      this.send({ type: 'willtopic', will: { topic: opts.will.topic, qos: opts.will.qos ?? 0, retain: opts.will.retain ?? false } });
      await this.next('willmsgreq');
      this.send({ type: 'willmsg', payload: Buffer.from(opts.will.payload) });
    }
    return this.next('connack');
  }

  /** REGISTER a topic name; resolves with the topic id (throws when refused). */
  async register(topicName: string): Promise<number> {
    const msgId = this.msgId();
    this.send({ type: 'register', topicId: 0, msgId, topicName });
    const ack = await this.next('regack');
    if (ack.msgId !== msgId) throw new Error(`REGACK for ${ack.msgId}, expected ${msgId}`);
    if (ack.returnCode !== RETURN_CODE.ACCEPTED) throw new Error(`REGISTER refused: ${ack.returnCode}`);
    this.topicIds.set(ack.topicId, topicName);
    return ack.topicId;
  }

  async subscribe(topic: TestTopic, qos: SnQoS = 0): Promise<Suback> {
    const msgId = this.msgId();
    const ref: Exclude<TopicRef, { kind: 'id' }> =
      typeof topic === 'string' ? { kind: 'name', name: topic } : 'predefined' in topic ? { kind: 'predefined', id: topic.predefined } : { kind: 'short', name: topic.short };
    this.send({ type: 'subscribe', dup: false, qos, msgId, topic: ref });
    const ack = await this.next('suback');
    if (ack.returnCode === RETURN_CODE.ACCEPTED && ack.topicId !== 0 && typeof topic === 'string') this.topicIds.set(ack.topicId, topic);
    return ack;
  }

  async unsubscribe(topic: TestTopic): Promise<void> {
    const msgId = this.msgId();
    const ref: Exclude<TopicRef, { kind: 'id' }> =
      typeof topic === 'string' ? { kind: 'name', name: topic } : 'predefined' in topic ? { kind: 'predefined', id: topic.predefined } : { kind: 'short', name: topic.short };
    this.send({ type: 'unsubscribe', msgId, topic: ref });
    await this.next('unsuback');
  }

  /**
   * PUBLISH and complete its flow: QoS 1 resolves with PUBACK, QoS 2 sends PUBREL after PUBREC
   * and resolves with PUBCOMP (or the refusing PUBACK); QoS 0 and -1 resolve at once.
   */
  async publish(topic: Publish['topic'], payload: string | Buffer, qos: SnQoS = 0, opts: { retain?: boolean; msgId?: number } = {}): Promise<MqttSnMessage | undefined> {
    const msgId = qos > 0 ? (opts.msgId ?? this.msgId()) : 0;
    this.send({ type: 'publish', dup: false, qos, retain: opts.retain ?? false, topic, msgId, payload: Buffer.from(payload) });
    if (qos === 1) return this.next('puback');
    if (qos !== 2) return undefined;
    const first = await this.nextOf(['pubrec', 'puback']);
    if (first.type === 'puback') return first;
    this.send({ type: 'pubrel', msgId });
    return this.next('pubcomp');
  }

  async ping(clientId?: string): Promise<void> {
    this.send(clientId ? { type: 'pingreq', clientId } : { type: 'pingreq' });
    await this.next('pingresp');
  }

  /** DISCONNECT with a Duration: go to sleep (§6.14). */
  async sleep(duration: number): Promise<void> {
    this.send({ type: 'disconnect', duration });
    await this.next('disconnect');
  }

  async disconnect(): Promise<void> {
    this.send({ type: 'disconnect' });
    await this.next('disconnect');
  }

  close(): Promise<void> {
    for (const w of this.waiters) w.resolve = () => {};
    this.waiters = [];
    return this.endpoint.close();
  }
}
