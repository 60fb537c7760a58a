/**
 * Fuzzing the MQTT engine in memory: MqttConnection over in-memory Duplex pairs, all sharing ONE
 * BrokerCore, no sockets. Inputs come from fast-check (seeded: set FUZZ_SEED to replay; a failure
 * prints the seed, the path and the shrunk input as hex).
 *
 *   (a) random bytes after a valid CONNECT
 *   (b) valid MQTT 3.1 / 3.1.1 / 5 packet streams with bytes flipped, set, inserted, deleted,
 *       duplicated or cut off
 *   (c) valid streams cut into random fragments, which must give the same server output as the
 *       stream written whole
 *
 * For every run: no exception escapes, no unhandled rejection or uncaught exception, and once the
 * fuzzed connections are closed and their sessions expired, the broker's connection, session
 * and subscription counts are back where they were. Two well-behaved observers subscribed to '#'
 * stay connected throughout and must only ever receive well-formed packets; afterwards a fresh
 * publisher/subscriber pair still exchanges a QoS 1 message.
 */
import type { Duplex } from 'node:stream';
import fc from 'fast-check';
import mqtt, { type IConnectPacket, type Packet } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerCore, createTopicMapper, MemoryRetainedStore, type Clock, type Logger } from '@junction/broker-core';
import { defaultMqttOptions, MqttConnection, type EngineContext } from '../src/index.js';
import { memoryPair } from './memory-duplex.js';
import { frame, frameLength, describe as show, RawClient, str, varint, type Received } from './packets/raw-client.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x6a756e63);
/** FUZZ_SCALE=0.1 for a quick run; the default gives the 100,000+ inputs the suite promises. */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** Runs per property; (a) and (b) feed 1-3 connections per run, (c) one (plus its reference). */
const RUNS = { a: Math.ceil(21_000 * SCALE), b: Math.ceil(21_000 * SCALE), c: Math.ceil(20_000 * SCALE), d: Math.ceil(10_000 * SCALE) };
const MIN_INPUTS = Math.floor(100_000 * SCALE);
/** Per-property time budget (a run takes well under 1 ms on a laptop). */
const budget = (runs: number) => 30_000 + runs * 3;
/**
 * The property running now. A property left running after its test ended (a timeout) sees a
 * newer id and does nothing more, so it cannot disturb the next one's counts.
 */
let current = 0;
let inputs = 0;

// ---------------------------------------------------------------- the broker under test

/** Real `now()`; timers wait for `sweep()`, which fires them all (session expiry, will delay). */
class SweepClock implements Clock {
  private seq = 0;
  private readonly timers = new Map<number, () => void>();
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void): unknown {
    const id = ++this.seq;
    this.timers.set(id, fn);
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  sweep(): void {
    for (let round = 0; round < 5 && this.timers.size > 0; round++) {
      const due = [...this.timers.values()];
      this.timers.clear();
      for (const fn of due) fn();
    }
  }
}

/** Error-level log events (e.g. `connection_handler_failed`: an internal error, DISCONNECT 0x80). */
let errorEvents: string[] = [];
const log: Logger = {
  debug() {},
  info() {},
  warn() {},
  error: (obj, event) => {
    const err = (obj as { err?: unknown }).err;
    errorEvents.push(`${event}: ${err instanceof Error ? err.message : String(err ?? '')}`);
  },
  child: () => log,
};

const clock = new SweepClock();
const retained = new MemoryRetainedStore();
const broker = new BrokerCore({
  clock,
  log,
  retained,
  config: { max_session_expiry_interval: 3_600_000, max_inflight: 8, max_awaiting_rel: 8, max_mqueue_len: 50 },
});
const ctx: EngineContext = {
  broker,
  metrics: broker.metrics,
  log,
  options: { ...defaultMqttOptions, max_packet_size: 16 * 1024, max_topic_alias: 10 },
  topics: createTopicMapper(undefined),
  listener: 'fuzz',
};

// Sessions alive, by client id, for failure messages.
const liveSessions = new Map<string, number>();
broker.hooks.on('session.created', (c) => void liveSessions.set(c.clientId, (liveSessions.get(c.clientId) ?? 0) + 1));
broker.hooks.on('session.terminated', (id) => {
  const n = (liveSessions.get(id) ?? 0) - 1;
  if (n > 0) liveSessions.set(id, n);
  else liveSessions.delete(id);
});

// Retained messages published during a run are removed after it, so runs stay independent.
const retainedTopics = new Set<string>();
broker.hooks.intercept('message.publish', (m) => {
  if (m.retain) retainedTopics.add(m.topic);
  return m;
});

let peerSeq = 0;
interface Wired {
  client: Duplex;
  server: Duplex;
  conn: MqttConnection;
  closed: Promise<void>;
}
/** A new in-memory connection: an MqttConnection on the server end (loopback peer). */
function wire(): Wired {
  const [client, server] = memoryPair();
  const conn = new MqttConnection(server, ctx, { peer: `127.0.0.1:${++peerSeq}` });
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  client.on('error', () => {});
  return { client, server, conn, closed };
}

const tick = () => new Promise<void>((r) => setImmediate(r));
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await tick();
}

// ---------------------------------------------------------------- process-level failures

const escaped: string[] = [];
const onRejection = (reason: unknown) => void escaped.push(`unhandledRejection: ${(reason as Error)?.stack ?? String(reason)}`);
const onException = (err: Error) => void escaped.push(`uncaughtException: ${err?.stack ?? String(err)}`);

// ---------------------------------------------------------------- observers

interface Observer {
  client: RawClient;
  id: string;
  problems: string[];
  deliveries: number;
}
const observers: Observer[] = [];

/** A well-behaved client subscribed to '#' at QoS 2 that acknowledges everything and checks it. */
async function observer(version: 4 | 5): Promise<Observer> {
  const w = wire();
  const client = new RawClient(w.client, version);
  const id = `observer-v${version}-${'z'.repeat(24)}`;
  const maxSize = 8192;
  const ack = await client.handshake({
    clientId: id,
    properties: version === 5 ? { topicAliasMaximum: 10, receiveMaximum: 4, maximumPacketSize: maxSize } : undefined,
  });
  expect(ack.returnCode ?? ack.reasonCode).toBe(0);
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 2 }] });
  expect((await client.next('suback')).granted).toEqual([2]);
  const o: Observer = { client, id, problems: [], deliveries: 0 };
  const aliases = new Map<number, string>();
  client.onPacket = (p: Received) => {
    if (p.malformed) o.problems.push(`malformed packet from the server: ${show(p)}: ${p.malformed}`);
    if (p.raw.length > maxSize && version === 5) o.problems.push(`packet larger than our Maximum Packet Size: ${show(p)}`);
    switch (p.cmd) {
      case 'publish': {
        o.deliveries++;
        const alias = p.properties?.topicAlias;
        if (alias !== undefined) {
          if (alias < 1 || alias > 10) o.problems.push(`topic alias ${alias} outside 1..10`);
          if (p.topic !== '') aliases.set(alias, p.topic);
          else if (!aliases.has(alias)) o.problems.push(`empty topic with unknown alias ${alias}: ${show(p)}`);
        } else if (p.topic === '') o.problems.push(`empty topic without alias: ${show(p)}`);
        if (p.qos > 0 && !p.messageId) o.problems.push(`QoS ${p.qos} PUBLISH without packet id`);
        if (p.qos === 1) client.send({ cmd: 'puback', messageId: p.messageId });
        if (p.qos === 2) client.send({ cmd: 'pubrec', messageId: p.messageId });
        break;
      }
      case 'pubrel':
        client.send({ cmd: 'pubcomp', messageId: p.messageId });
        break;
      case 'pingresp':
        break;
      default:
        o.problems.push(`unexpected ${show(p)}`);
    }
  };
  w.server.once('close', () => o.problems.push('the observer was disconnected'));
  return o;
}

// ---------------------------------------------------------------- input generators

type Version = 3 | 4 | 5;
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const smallId = fc.integer({ min: 1, max: 4 });
const u32 = fc.oneof(fc.constantFrom(0, 1, 10, 0xffffffff), fc.nat());
const userProperties = fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 });

const topicName = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('fz/a', 'fz/b/c', 'a', 'fz/a/b/c/d', 'x', '$fz/y') },
  { weight: 1, arbitrary: fc.constantFrom('', 'fz/+', '#', '$SYS/x', '$share/g/fz', 'fz/\u0000') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const topicFilter = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('#', 'fz/#', 'fz/+', '+/+', 'fz/a', '$share/g/fz/#', '$queue/fz/a', 'a', '$fz/#') },
  { weight: 1, arbitrary: fc.constantFrom('', 'fz/#/x', '$share//x', '$share/g', 'f+', '$share/g/') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

const publishProps = fc.record(
  {
    payloadFormatIndicator: fc.boolean(),
    messageExpiryInterval: u32,
    topicAlias: fc.integer({ min: 0, max: 12 }),
    responseTopic: topicName,
    correlationData: bytes(8),
    userProperties,
    contentType: fc.string({ maxLength: 8 }),
  },
  { requiredKeys: [] },
);

const publish = (retain: fc.Arbitrary<boolean>) =>
  fc.record({
    cmd: fc.constant('publish' as const),
    topic: topicName,
    payload: bytes(48),
    qos: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
    messageId: smallId,
    retain,
    dup: fc.boolean(),
    properties: fc.option(publishProps, { nil: undefined }),
  });

const subscribe = fc.record({
  cmd: fc.constant('subscribe' as const),
  messageId: smallId,
  subscriptions: fc.array(
    fc.record({
      topic: topicFilter,
      qos: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
      nl: fc.boolean(),
      rap: fc.boolean(),
      rh: fc.constantFrom(0, 1, 2),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  properties: fc.option(fc.record({ subscriptionIdentifier: fc.integer({ min: 1, max: 5 }), userProperties }, { requiredKeys: [] }), { nil: undefined }),
});

const unsubscribe = fc.record({
  cmd: fc.constant('unsubscribe' as const),
  messageId: smallId,
  unsubscriptions: fc.array(topicFilter, { minLength: 1, maxLength: 2 }),
});

/** PUBACK/PUBREC/PUBREL/PUBCOMP; `valid`: only reason codes §3.4-3.7 allow for each. */
const ack = (valid: boolean) =>
  fc.oneof(
    fc.record({
      cmd: fc.constantFrom('puback', 'pubrec') as fc.Arbitrary<'puback' | 'pubrec'>,
      messageId: smallId,
      reasonCode: valid ? fc.constantFrom(0x00, 0x10, 0x80) : fc.constantFrom(0x00, 0x10, 0x80, 0x92),
    }),
    fc.record({
      cmd: fc.constantFrom('pubrel', 'pubcomp') as fc.Arbitrary<'pubrel' | 'pubcomp'>,
      messageId: smallId,
      reasonCode: valid ? fc.constantFrom(0x00, 0x92) : fc.constantFrom(0x00, 0x10, 0x80, 0x92),
    }),
  );

const disconnect = fc.record({
  cmd: fc.constant('disconnect' as const),
  reasonCode: fc.constantFrom(0x00, 0x04, 0x80),
  properties: fc.option(fc.record({ sessionExpiryInterval: u32 }, { requiredKeys: [] }), { nil: undefined }),
});

const otherPackets = fc.constantFrom<Packet[]>(
  [{ cmd: 'pingreq' }],
  [{ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'x' } } as Packet],
);

const packet = (retain: fc.Arbitrary<boolean>, valid: boolean): fc.Arbitrary<Packet[]> =>
  fc.oneof(
    { weight: 6, arbitrary: publish(retain).map((p) => [p as Packet]) },
    { weight: 3, arbitrary: subscribe.map((p) => [p as Packet]) },
    { weight: 1, arbitrary: unsubscribe.map((p) => [p as Packet]) },
    { weight: 3, arbitrary: ack(valid).map((p) => [p as Packet]) },
    { weight: 1, arbitrary: disconnect.map((p) => [p as Packet]) },
    { weight: 1, arbitrary: otherPackets },
  );

const connect = (clientIds: fc.Arbitrary<string>) =>
  fc.record({
    clientId: clientIds,
    clean: fc.boolean(),
    keepalive: fc.constantFrom(0, 5, 60),
    username: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
    password: fc.option(bytes(6), { nil: undefined }),
    will: fc.option(
      fc.record({
        topic: topicName,
        payload: bytes(8),
        qos: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
        retain: fc.boolean(),
        properties: fc.option(fc.record({ willDelayInterval: fc.constantFrom(0, 5), contentType: fc.string({ maxLength: 4 }) }, { requiredKeys: [] }), { nil: undefined }),
      }),
      { nil: undefined },
    ),
    properties: fc.option(
      fc.record(
        {
          sessionExpiryInterval: u32,
          receiveMaximum: fc.integer({ min: 0, max: 5 }),
          maximumPacketSize: fc.integer({ min: 0, max: 4000 }),
          topicAliasMaximum: fc.integer({ min: 0, max: 5 }),
          requestResponseInformation: fc.boolean(),
          userProperties,
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
  });

const version = fc.constantFrom<Version>(3, 4, 5, 5);

/** Encode what mqtt-packet agrees to encode; packets it refuses are left out. */
function encode(v: Version, packets: Packet[]): Buffer {
  const opts = { protocolVersion: v };
  const out: Buffer[] = [];
  for (const p of packets) {
    try {
      out.push(mqtt.generate(p, opts));
    } catch {
      // e.g. empty client id with clean session 0 in 3.1.1: not a valid packet to start from
    }
  }
  return Buffer.concat(out);
}

function connectPacket(v: Version, c: Partial<IConnectPacket>): Packet {
  const clientId = v === 3 && !c.clientId ? 'fz3' : c.clientId;
  return { ...c, clientId, cmd: 'connect', protocolId: v === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: v } as Packet;
}

const fuzzClientIds = fc.constantFrom('fz1', 'fz2', 'fz3', '', 'fz4');

/** A valid CONNECT followed by 0-8 packets, encoded. */
const stream = (clientIds: fc.Arbitrary<string>, retain: fc.Arbitrary<boolean>, valid = false) =>
  fc
    .record({ v: version, c: connect(clientIds), rest: fc.array(packet(retain, valid), { maxLength: 8 }) })
    .map(({ v, c, rest }) => ({ v, bytes: encode(v, [connectPacket(v, c), ...rest.flat()]) }))
    .filter((s) => s.bytes.length > 0);

/** How the client side ends the connection after its bytes: FIN or abrupt destroy. */
const ending = fc.constantFrom<'end' | 'destroy'>('end', 'destroy');

// (a) random bytes after a valid CONNECT, sometimes behind a plausible first byte.
const firstBytes = [0x10, 0x30, 0x32, 0x34, 0x3a, 0x40, 0x50, 0x62, 0x70, 0x82, 0xa2, 0xc0, 0xe0, 0xf0];
const randomInput = fc
  .record({
    v: version,
    c: connect(fuzzClientIds),
    head: fc.option(fc.constantFrom(...firstBytes), { nil: undefined }),
    noise: fc.uint8Array({ minLength: 1, maxLength: 200 }),
    split: fc.boolean(),
    end: ending,
  })
  .map(({ v, c, head, noise, split, end }) => {
    const connectBytes = encode(v, [connectPacket(v, c)]);
    const tail = Buffer.from(head === undefined ? noise : [head, ...noise]);
    return { chunks: split ? [connectBytes, tail] : [Buffer.concat([connectBytes, tail])], end };
  });

// (b) mutations of valid streams.
const mutation = fc.record({
  kind: fc.constantFrom('flip', 'set', 'inc', 'dec', 'insert', 'delete', 'truncate', 'duplicate', 'overrun'),
  at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  byte: fc.integer({ min: 0, max: 255 }),
  len: fc.integer({ min: 1, max: 8 }),
});
type Mutation = { kind: string; at: number; byte: number; len: number };
function mutate(input: Buffer, ms: Mutation[]): Buffer {
  let b = input;
  for (const m of ms) {
    if (b.length === 0) break;
    const i = Math.floor(m.at * b.length);
    switch (m.kind) {
      case 'flip':
        b = Buffer.from(b);
        b[i] = b[i]! ^ (1 << m.byte % 8);
        break;
      case 'set':
        b = Buffer.from(b);
        b[i] = m.byte;
        break;
      case 'inc': // arithmetic on a byte: hits length fields and counters
        b = Buffer.from(b);
        b[i] = (b[i]! + m.len) & 0xff;
        break;
      case 'dec':
        b = Buffer.from(b);
        b[i] = (b[i]! - m.len) & 0xff;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, i), Buffer.alloc(m.len, m.byte), b.subarray(i)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, i), b.subarray(i + m.len)]);
        break;
      case 'truncate':
        b = b.subarray(0, i);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, i + m.len), b.subarray(i)]);
        break;
      case 'overrun': {
        // Structure-aware: inside the frame holding byte i, make the 16-bit big-endian field at i
        // (a string, binary or packet id) claim 1-8 bytes more than the frame has left.
        const end = frameEndAt(b, i);
        if (end === undefined || i + 2 > end) break;
        b = Buffer.from(b);
        b.writeUInt16BE(Math.min(0xffff, end - (i + 2) + m.len), i);
        break;
      }
    }
  }
  return b;
}
/** End (exclusive) of the frame that contains byte `i`, walking frames from the start. */
function frameEndAt(b: Buffer, i: number): number | undefined {
  let at = 0;
  while (at < b.length) {
    const len = frameLength(b.subarray(at));
    if (len === undefined || len < 0) return undefined;
    if (i < at + len) return Math.min(at + len, b.length);
    at += len;
  }
  return undefined;
}

const mutatedInput = fc
  .record({ s: stream(fuzzClientIds, fc.boolean()), ms: fc.array(mutation, { minLength: 1, maxLength: 4 }), end: ending })
  .map(({ s, ms, end }) => ({ chunks: [mutate(s.bytes, ms)], end }));

// (d) v5 PUBLISH / SUBSCRIBE with property blocks built by hand from the property table
// (MQTT 5.0 §2.2.2.2), optionally corrupted: a string or binary length running past the block or
// the packet, a property repeated, a property not allowed in the packet, an unknown identifier.
type PropType = 'byte' | 'u16' | 'u32' | 'varint' | 'str' | 'bin' | 'pair';
const PROPERTIES: Record<number, PropType> = {
  0x01: 'byte', 0x02: 'u32', 0x03: 'str', 0x08: 'str', 0x09: 'bin', 0x0b: 'varint', 0x11: 'u32', 0x12: 'str',
  0x13: 'u16', 0x15: 'str', 0x16: 'bin', 0x17: 'byte', 0x18: 'u32', 0x19: 'byte', 0x1a: 'str', 0x1c: 'str',
  0x1f: 'str', 0x21: 'u16', 0x22: 'u16', 0x23: 'u16', 0x24: 'byte', 0x25: 'byte', 0x26: 'pair', 0x27: 'u32',
  0x28: 'byte', 0x29: 'byte', 0x2a: 'byte',
};
const PUBLISH_PROPS = [0x01, 0x02, 0x03, 0x08, 0x09, 0x23, 0x26];
const SUBSCRIBE_PROPS = [0x0b, 0x26];
const ALL_PROPS = Object.keys(PROPERTIES).map(Number);

const propArb = (allowed: number[]) =>
  fc.record({
    id: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...allowed) }, { weight: 2, arbitrary: fc.constantFrom(...ALL_PROPS) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x7f }) }),
    num: fc.oneof(fc.constantFrom(0, 1, 2, 10, 0x7f, 0xff, 0xffff), fc.nat()),
    text: fc.oneof(fc.constantFrom('', 'a', 'fz/a', 'text/plain'), fc.string({ maxLength: 6 })),
    text2: fc.string({ maxLength: 4 }),
    // overrun: the 2-byte length claims `k` more bytes than the value has
    overrun: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined, freq: 3 }),
  });
type Prop = { id: number; num: number; text: string; text2: string; overrun: number | undefined };

function encodeProps(props: Prop[]): number[] {
  const out: number[] = [];
  const sized = (b: Buffer, overrun: number | undefined) => {
    const n = Math.min(0xffff, b.length + (overrun ?? 0));
    return [n >> 8, n & 0xff, ...b];
  };
  for (const p of props) {
    out.push(p.id);
    switch (PROPERTIES[p.id]) {
      case 'byte': out.push(p.num & 1); break;
      case 'u16': out.push((p.num >> 8) & 0xff, p.num & 0xff); break;
      case 'u32': out.push((p.num >>> 24) & 0xff, (p.num >> 16) & 0xff, (p.num >> 8) & 0xff, p.num & 0xff); break;
      case 'varint': out.push(...varint(p.num % 268_435_456)); break;
      case 'str': out.push(...sized(Buffer.from(p.text), p.overrun)); break;
      case 'bin': out.push(...sized(Buffer.from(p.text, 'latin1'), p.overrun)); break;
      case 'pair': out.push(...sized(Buffer.from(p.text), undefined), ...sized(Buffer.from(p.text2), p.overrun)); break;
      default: out.push(p.num & 0xff); // unknown identifier: some byte after it
    }
  }
  return out;
}

const propertyPacket = fc.oneof(
  fc.record({
    kind: fc.constant('publish' as const),
    topic: fc.constantFrom('fz/a', 'fz/b/c', 'x', ''),
    qos: fc.constantFrom(0, 1, 2),
    retain: fc.boolean(),
    props: fc.array(propArb(PUBLISH_PROPS), { maxLength: 4 }),
    payload: fc.oneof(fc.constant(''), fc.string({ maxLength: 6 })),
  }),
  fc.record({
    kind: fc.constant('subscribe' as const),
    topic: fc.constantFrom('#', 'fz/#', 'fz/+', 'x'),
    qos: fc.constantFrom(0, 1, 2),
    retain: fc.constant(false),
    props: fc.array(propArb(SUBSCRIBE_PROPS), { maxLength: 3 }),
    payload: fc.constant(''),
  }),
);

function encodePropertyPacket(p: { kind: 'publish' | 'subscribe'; topic: string; qos: number; retain: boolean; props: Prop[]; payload: string }, n: number): Buffer {
  const props = encodeProps(p.props);
  const id = [0, (n % 250) + 1];
  if (p.kind === 'subscribe') return frame(0x82, [...id, ...varint(props.length), ...props, ...str(p.topic), p.qos]);
  return frame(0x30 | (p.qos << 1) | (p.retain ? 1 : 0), [...str(p.topic), ...(p.qos > 0 ? id : []), ...varint(props.length), ...props, ...Buffer.from(p.payload)]);
}

const propertyInput = fc
  .record({ c: fc.constantFrom('pb1', 'pb2'), packets: fc.array(propertyPacket, { minLength: 1, maxLength: 4 }), end: ending })
  .map(({ c, packets, end }) => ({
    chunks: [Buffer.concat([encode(5, [connectPacket(5, { clientId: c, clean: true, keepalive: 0 })]), ...packets.map((p, i) => encodePropertyPacket(p, i))])],
    end,
  }));

// ---------------------------------------------------------------- running one case

interface Case {
  chunks: Buffer[];
  end: 'end' | 'destroy';
}
const hexOf = (cases: Case[]) => cases.map((c) => c.chunks.map((b) => b.toString('hex')).join(' | ')).join(' || ');

/** Internal errors seen, per distinct message, with the shortest input that caused each. */
const internalErrors = new Map<string, string>();

let baseline = { connections: 0, sessions: 0, subscriptions: 0 };

/**
 * Feed each case to its own fresh connection (all at once), let the broker settle, close the
 * client ends, wait for the server ends to close, expire the sessions, clear retained messages
 * and check the broker is back to the baseline.
 */
async function run(cases: Case[], id: number, strict = false): Promise<void> {
  if (id !== current) return;
  inputs += cases.length;
  errorEvents = [];
  const wires = cases.map(() => wire());
  for (const w of wires) w.client.on('data', () => {});
  const maxChunks = Math.max(...cases.map((c) => c.chunks.length));
  for (let k = 0; k < maxChunks; k++) {
    cases.forEach((c, i) => {
      const chunk = c.chunks[k];
      if (chunk && chunk.length > 0 && !wires[i]!.client.destroyed) wires[i]!.client.write(chunk); // throws if the engine throws
    });
    await tick();
  }
  await settle();
  cases.forEach((c, i) => (c.end === 'end' ? wires[i]!.client.end() : wires[i]!.client.destroy()));
  const closedAll = Promise.all(wires.map((w) => w.closed));
  const stuck = await Promise.race([closedAll.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 2000).unref())]);
  if (stuck) throw new Error('a server end did not close within 2 s after the client closed');
  for (let i = 0; i < 100 && broker.stats().connections !== baseline.connections; i++) await tick();
  clock.sweep();
  await settle();
  for (const t of retainedTopics) retained.deleteSync(t);
  retainedTopics.clear();
  for (const e of errorEvents) {
    const key = e.slice(0, 160);
    const input = hexOf(cases);
    const prev = internalErrors.get(key);
    if (prev === undefined || input.length < prev.length) internalErrors.set(key, input);
  }
  if (escaped.length > 0) {
    const msg = escaped.join('\n');
    escaped.length = 0; // reported once, by this run
    throw new Error(msg);
  }
  if (strict && errorEvents.length > 0) throw new Error(`internal error (DISCONNECT 0x80): ${errorEvents.join('; ')}`);
  const now = broker.stats();
  const survivors = [...liveSessions.keys()].filter((id) => !id.startsWith('observer-'));
  expect(
    { connections: now.connections, sessions: now.sessions, subscriptions: now.subscriptions },
    `broker counts after the run (sessions still alive: ${survivors.map((id) => JSON.stringify(id)).join(', ') || 'none'})`,
  ).toEqual(baseline);
  for (const w of wires) expect(w.conn.closed, 'every fuzzed connection is closed').toBe(true);
}

const fcOptions = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true, interruptAfterTimeLimit: budget(numRuns) - 5_000, markInterruptAsFailure: true });

// ---------------------------------------------------------------- the tests

describe('MQTT engine fuzzing (in memory, one broker)', () => {
  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    observers.push(await observer(5), await observer(4));
    await settle();
    const s = broker.stats();
    baseline = { connections: s.connections, sessions: s.sessions, subscriptions: s.subscriptions };
    expect(baseline).toEqual({ connections: 2, sessions: 2, subscriptions: 2 });
  });

  afterEach(() => {
    current++;
  });

  afterAll(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    for (const o of observers) o.client.destroy();
  });

  it('(a) random bytes after a valid CONNECT', async () => {
    const id = current;
    await fc.assert(
      fc.asyncProperty(fc.array(randomInput, { minLength: 1, maxLength: 3 }), (cases) => run(cases, id)),
      fcOptions(RUNS.a),
    );
  }, budget(RUNS.a));

  it('(b) mutated valid packet streams (MQTT 3.1, 3.1.1, 5)', async () => {
    const id = current;
    await fc.assert(
      fc.asyncProperty(fc.array(mutatedInput, { minLength: 1, maxLength: 3 }), (cases) => run(cases, id)),
      fcOptions(RUNS.b),
    );
  }, budget(RUNS.b));

  it('(c) valid streams in random fragments give the same server output as written whole', async () => {
    const id = current;
    const fragmentInput = fc.record({
      // Well-formed packets only: how a malformed one is handled relative to the asynchronous
      // CONNECT is checked by test/packets/connect.test.ts.
      s: stream(fc.constant('frag'), fc.constant(false), true),
      cuts: fc.array(fc.nat({ max: 4096 }), { maxLength: 12 }),
      yields: fc.array(fc.boolean(), { minLength: 13, maxLength: 13 }),
    });
    await fc.assert(
      fc.asyncProperty(fragmentInput, async ({ s, cuts, yields }) => {
        if (id !== current) return;
        const whole = s.bytes;
        const points = [...new Set(cuts.map((c) => c % whole.length))].sort((x, y) => x - y);
        const fragments: Buffer[] = [];
        let from = 0;
        for (const p of [...points, whole.length]) {
          if (p > from) fragments.push(whole.subarray(from, p));
          from = p;
        }
        const reference = await outputOf([whole], [], 'frag');
        const fragmented = await outputOf(fragments, yields, 'frag');
        inputs += 1;
        expect(fragmented.toString('hex'), `fragments: ${fragments.map((f) => f.toString('hex')).join(' | ')}`).toBe(reference.toString('hex'));
      }),
      fcOptions(RUNS.c),
    );
  }, budget(RUNS.c));

  it(`fed at least ${MIN_INPUTS} inputs`, () => {
    expect(inputs).toBeGreaterThanOrEqual(MIN_INPUTS);
  });

  it('the observers (v5 and v3.1.1 on "#") stayed connected, got only well-formed packets, and have nothing stuck in flight', async () => {
    await settle();
    for (const o of observers) {
      expect(o.problems.slice(0, 10), o.id).toEqual([]);
      expect(o.client.isClosed, o.id).toBe(false);
      o.client.send({ cmd: 'pingreq' });
    }
    await settle();
    for (const o of observers) {
      const s = broker.session(o.id);
      expect(s?.connected, o.id).toBe(true);
      expect({ inflight: s?.inflight, queued: s?.queued }, `${o.id} after ${o.deliveries} deliveries`).toEqual({ inflight: 0, queued: 0 });
    }
  });

  it('a well-behaved in-memory publisher and subscriber still exchange a QoS 1 message', async () => {
    const sw = wire();
    const sub = new RawClient(sw.client, 5);
    expect((await sub.handshake({ clientId: 'pair-sub' })).reasonCode).toBe(0);
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'pair/t', qos: 1 }] });
    expect((await sub.next('suback')).granted).toEqual([1]);
    const pw = wire();
    const pub = new RawClient(pw.client, 4);
    expect((await pub.handshake({ clientId: 'pair-pub' })).returnCode).toBe(0);
    pub.send({ cmd: 'publish', topic: 'pair/t', payload: Buffer.from('still alive'), qos: 1, messageId: 42, retain: false, dup: false });
    expect((await pub.next('puback')).messageId).toBe(42);
    const got = await sub.next('publish');
    expect([got.topic, got.payload.toString(), got.qos]).toEqual(['pair/t', 'still alive', 1]);
    sub.send({ cmd: 'puback', messageId: got.messageId });
    await sub.barrier();
    sub.destroy();
    pub.destroy();
  });

  it('no input of (a)-(c) caused an internal error (logged connection_handler_failed, DISCONNECT 0x80)', () => {
    const list = [...internalErrors].map(([err, input]) => `${err}\n    shortest input: ${input.slice(0, 600)}`);
    expect(list, list.join('\n')).toEqual([]);
  });

  // Last, because what it finds can leave the shared broker damaged for whatever runs after it.
  it('(d) hand-built v5 property blocks, valid and corrupted: no internal error, no unhandled rejection, counts restored (shrinks to a minimal counterexample)', async () => {
    const id = current;
    await fc.assert(
      fc.asyncProperty(fc.array(propertyInput, { minLength: 1, maxLength: 2 }), (cases) => run(cases, id, true)),
      { numRuns: RUNS.d, seed: SEED, interruptAfterTimeLimit: budget(RUNS.d) - 5_000, markInterruptAsFailure: true },
    );
  }, budget(RUNS.d) + 30_000);
});

/** Everything the server writes for `chunks` on a fresh connection, up to its close. */
async function outputOf(chunks: Buffer[], yields: boolean[], clientId: string): Promise<Buffer> {
  const w = wire();
  const out: Buffer[] = [];
  w.client.on('data', (b: Buffer) => out.push(b));
  for (let i = 0; i < chunks.length; i++) {
    if (w.client.destroyed) break;
    w.client.write(chunks[i]!);
    if (yields[i % yields.length]) await tick();
  }
  await settle();
  w.client.end();
  await w.closed;
  for (let i = 0; i < 100 && broker.stats().connections !== baseline.connections; i++) await tick();
  clock.sweep();
  // Discard whatever session the stream left (even one whose DISCONNECT escaped the expiry cap),
  // so the next run starts from nothing: CONNECT with clean start, then a normal close.
  if (liveSessions.has(clientId)) {
    const cw = wire();
    const c = new RawClient(cw.client, 4);
    await c.handshake({ clientId, clean: true });
    c.sendRaw([0xe0, 0x00]);
    await cw.closed;
    await settle();
  }
  await settle();
  for (const t of retainedTopics) retained.deleteSync(t);
  retainedTopics.clear();
  if (escaped.length > 0) throw new Error(escaped.join('\n'));
  return Buffer.concat(out);
}
