/**
 * Per-socket back-pressure with a drain timeout: a frozen subscriber never stalls anyone else.
 *
 * A subscriber that stops reading fills its TCP buffers; from then on the engine's sink returns
 * false, the core queues further deliveries for that session only (bounded by max_mqueue_len,
 * overflow dropped with `queue_full`), and once the socket has not drained for `send_timeout`
 * the connection is closed with `backpressure_timeout`. Meanwhile everybody else keeps going.
 * A subscriber that is slow but keeps draining is never closed.
 *
 * Everything runs in one process: broker, a raw TCP client (node:net + mqtt-packet) that stops
 * reading, MQTT.js clients. The broker is built like `tcpFixture` but keeps its StreamListener so
 * the tests can look at the server side of each socket (buffered bytes, drain events).
 *
 * Sizes: on Linux loopback a paused reader lets the kernel absorb about 4 MB (receive + send
 * buffers), so the scenarios send far more than that in 16 KiB messages. The broker's inflight
 * window is raised (max_inflight) so that, at QoS 1, the socket and not the inflight window is
 * what fills.
 */
import type { Socket } from 'node:net';
import { BrokerCore, createAdapterContext, type BrokerConfig, type CloseReason, type DropReason } from '@junction/broker-core';
import mqtt, { type MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultMqttOptions, type MqttOptions } from '../src/config.js';
import type { MqttConnection } from '../src/engine/connection.js';
import type { StreamListener } from '../src/transport/listener.js';
import { createTcpListener } from '../src/transport/tcp.js';
import { RawClient, uid } from './packets/raw-client.js';

const PAYLOAD = 16 * 1024;
const SEND_TIMEOUT = 500;
const MQUEUE = 100;
const BROKER_CONFIG: Partial<BrokerConfig> = { max_mqueue_len: MQUEUE, mqueue_drop_policy: 'drop_oldest', max_inflight: 4000 };
/** Bytes a PUBLISH of PAYLOAD bytes takes at most on the wire (topic, packet id, properties). */
const FRAME = PAYLOAD + 64;

// ------------------------------------------------------------------ rig

interface Rig {
  readonly broker: BrokerCore;
  readonly listener: StreamListener;
  readonly url: string;
  readonly port: number;
  readonly drops: { clientId: string | undefined; reason: DropReason; seq: number }[];
  readonly disconnects: { clientId: string; reason: CloseReason; at: number }[];
  /** The server side of a client's connection. */
  serverConn(clientId: string): MqttConnection;
  stop(): Promise<void>;
}

async function startRig(config: Partial<BrokerConfig>, mqttOptions: Partial<MqttOptions>): Promise<Rig> {
  const broker = new BrokerCore({ config });
  const ctx = createAdapterContext(broker, { sections: { mqtt: { ...defaultMqttOptions, ...mqttOptions } } });
  const listener = createTcpListener('default', { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 10_000, mountpoint: '' }, ctx);
  const { port } = await listener.start();
  const drops: Rig['drops'] = [];
  const disconnects: Rig['disconnects'] = [];
  broker.hooks.on('message.dropped', (msg, reason, clientId) => drops.push({ clientId, reason, seq: seqOf(msg.payload) }));
  broker.hooks.on('client.disconnected', (client, reason) => disconnects.push({ clientId: client.clientId, reason, at: performance.now() }));
  let stopped: Promise<void> | undefined;
  return {
    broker,
    listener,
    url: `mqtt://127.0.0.1:${port}`,
    port,
    drops,
    disconnects,
    serverConn(clientId) {
      const c = [...listener.connections].find((x) => x.clientId === clientId);
      if (!c) throw new Error(`no server connection for ${clientId}`);
      return c;
    },
    stop: () =>
      (stopped ??= (async () => {
        await listener.stop(500);
        await broker.close();
      })()),
  };
}

/** Resolves conditions as soon as they hold, re-checked whenever `changed()` is called. */
class Progress {
  private readonly waiters = new Set<() => void>();
  changed(): void {
    for (const w of [...this.waiters]) w();
  }
  /** True once `cond` holds, false after `timeoutMs`. */
  until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      const check = () => {
        if (cond()) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.add(check);
    });
  }
}

const payload = (seq: number) => {
  const b = Buffer.alloc(PAYLOAD, seq & 0xff);
  b.writeUInt32BE(seq, 0);
  return b;
};
const seqOf = (b: Buffer) => (b.length >= 4 ? b.readUInt32BE(0) : -1);
const topicOf = (seq: number) => `load/${seq % 8}/x`;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Count, and the first index where `got` departs from 0, 1, 2, ... (-1: none). */
function sequence(got: readonly number[]): { count: number; firstMismatch: number } {
  const i = got.findIndex((s, k) => s !== k);
  return { count: got.length, firstMismatch: i };
}
const strictlyIncreasing = (xs: readonly number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

async function mqttClient(rig: Rig, version: 4 | 5, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(rig.url, { protocolVersion: version, clientId, clean: true, reconnectPeriod: 0, keepalive: 0 });
}

async function cleanup(rig: Rig | undefined, clients: (MqttClient | undefined)[], raws: (RawClient | undefined)[]): Promise<void> {
  for (const r of raws) r?.destroy();
  await Promise.all(clients.map((c) => c?.endAsync(true).catch(() => {})));
  await rig?.stop();
}

// ------------------------------------------------------------------ 1, 2, 3, 5: a frozen subscriber

/** Messages published through the frozen scenario: 32 MB, eight times what the kernel absorbs. */
const N = 2000;
/** The publisher keeps at most this many messages ahead of the healthy subscriber (below MQUEUE). */
const WINDOW = 50;

interface FrozenRun {
  frozenId: string;
  healthyId: string;
  publisherId: string;
  /** Sequence numbers the healthy subscriber received, in arrival order. */
  healthy: number[];
  healthyBadTopics: string[];
  /** Index of the message the publisher could not send because the healthy subscriber stalled. */
  stalledAt: number | undefined;
  pubacks: number;
  pubackErrors: string[];
  elapsedMs: number;
  maxFrozenQueued: number;
  maxHealthyQueued: number;
  queueFullCounterDelta: number;
  connectionsBefore: number;
  connectionsAfter: number;
  listenerBefore: number;
  listenerAfter: number;
  lastFrozenDrainAt: number;
  /** The server side of the frozen socket: highest buffered byte count seen, high-water mark. */
  maxFrozenBuffered: number;
  frozenBufferedAtClose: number;
  frozenBytesWrittenAtClose: number;
  hwm: number;
  frozenClosed: boolean;
  frozenBytesRead: number;
  /** Packets the frozen client got once resumed. */
  frozenPackets: { cmd: string; seq: number; malformed?: string }[];
  drops: Rig['drops'];
  disconnects: Rig['disconnects'];
}

async function runFrozen(version: 4 | 5, qos: 0 | 1): Promise<FrozenRun> {
  const rig = await startRig(BROKER_CONFIG, { send_timeout: SEND_TIMEOUT });
  let healthy: MqttClient | undefined;
  let publisher: MqttClient | undefined;
  let frozen: RawClient | undefined;
  try {
    const { broker } = rig;
    const frozenId = uid('frozen');
    const healthyId = uid('healthy');
    const publisherId = uid('pub');
    const progress = new Progress();

    // The frozen subscriber: subscribes, then never reads again.
    frozen = await RawClient.connected(rig.port, frozenId, { version });
    frozen.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'load/#', qos }] });
    const suback = await frozen.next('suback');
    expect(suback.granted, 'frozen SUBACK').toEqual([qos]);
    const frozenSocket = frozen.stream as Socket;
    frozenSocket.pause();
    const frozenPackets: FrozenRun['frozenPackets'] = [];
    frozen.onPacket = (p) => frozenPackets.push({ cmd: p.cmd, seq: p.cmd === 'publish' ? seqOf(p.payload as Buffer) : -1, malformed: p.malformed });
    let frozenBytesRead = 0;
    frozenSocket.on('data', (chunk: Buffer) => (frozenBytesRead += chunk.length));

    const fConn = rig.serverConn(frozenId);
    const fStream = fConn.stream as Socket;
    let lastFrozenDrainAt = performance.now();
    fStream.on('drain', () => (lastFrozenDrainAt = performance.now()));

    // Broker-side state sampled after every delivery and every drop.
    let maxFrozenQueued = 0;
    let maxHealthyQueued = 0;
    let maxFrozenBuffered = 0;
    let frozenBufferedAtClose = -1;
    let frozenBytesWrittenAtClose = -1;
    const sample = () => {
      maxFrozenQueued = Math.max(maxFrozenQueued, broker.session(frozenId)?.queued ?? 0);
      maxHealthyQueued = Math.max(maxHealthyQueued, broker.session(healthyId)?.queued ?? 0);
      if (!fStream.destroyed) maxFrozenBuffered = Math.max(maxFrozenBuffered, fStream.writableLength);
    };
    broker.hooks.on('message.delivered', sample);
    broker.hooks.on('message.dropped', sample);
    broker.hooks.on('client.disconnected', (client) => {
      if (client.clientId !== frozenId) return;
      // Synchronous with the close: the socket is not destroyed yet.
      frozenBufferedAtClose = fStream.writableLength;
      frozenBytesWrittenAtClose = fStream.bytesWritten;
    });

    // The healthy subscriber and the publisher, both MQTT.js.
    healthy = await mqttClient(rig, version, healthyId);
    await healthy.subscribeAsync('load/#', { qos });
    const got: number[] = [];
    const badTopics: string[] = [];
    healthy.on('message', (topic, p) => {
      const seq = seqOf(p);
      if (topic !== topicOf(seq) && badTopics.length < 10) badTopics.push(`${seq}:${topic}`);
      got.push(seq);
      progress.changed();
    });
    publisher = await mqttClient(rig, version, publisherId);

    const connectionsBefore = broker.stats().connections;
    const listenerBefore = rig.listener.connections.size;
    const queueFullBefore = broker.metrics.counters['messages.dropped.queue_full'];

    // Publish N x 16 KiB at QoS 1, never more than WINDOW ahead of the healthy subscriber.
    const started = performance.now();
    let pubacks = 0;
    const pubackErrors: string[] = [];
    const acks: Promise<unknown>[] = [];
    let stalledAt: number | undefined;
    for (let i = 0; i < N; i++) {
      if (!(await progress.until(() => got.length > i - WINDOW, 5000))) {
        stalledAt = i;
        break;
      }
      acks.push(
        publisher.publishAsync(topicOf(i), payload(i), { qos: 1 }).then(
          () => pubacks++,
          (err: Error) => pubackErrors.push(`${i}: ${err.message}`),
        ),
      );
    }
    await progress.until(() => got.length >= N, 5000);
    await Promise.race([Promise.all(acks), sleep(5000)]);
    const elapsedMs = performance.now() - started;

    // The frozen connection is closed send_timeout after its socket stopped draining.
    const closedInTime = () => rig.disconnects.some((d) => d.clientId === frozenId);
    for (let t = 0; t < 3000 && !closedInTime(); t += 10) await sleep(10);
    for (let t = 0; t < 2000 && rig.listener.connections.has(fConn); t += 10) await sleep(10);
    const connectionsAfter = broker.stats().connections;
    const listenerAfter = rig.listener.connections.size;

    // Resumed, the frozen client reads what the kernel still held, then sees the close.
    frozenSocket.resume();
    const frozenClosed = await frozen.closed(5000).then(
      () => true,
      () => false,
    );

    return {
      frozenId,
      healthyId,
      publisherId,
      healthy: got,
      healthyBadTopics: badTopics,
      stalledAt,
      pubacks,
      pubackErrors,
      elapsedMs,
      maxFrozenQueued,
      maxHealthyQueued,
      queueFullCounterDelta: broker.metrics.counters['messages.dropped.queue_full'] - queueFullBefore,
      connectionsBefore,
      connectionsAfter,
      listenerBefore,
      listenerAfter,
      lastFrozenDrainAt,
      maxFrozenBuffered,
      frozenBufferedAtClose,
      frozenBytesWrittenAtClose,
      hwm: fStream.writableHighWaterMark,
      frozenClosed,
      frozenBytesRead,
      frozenPackets,
      // Copies: closing the other clients below adds more.
      drops: [...rig.drops],
      disconnects: [...rig.disconnects],
    };
  } finally {
    await cleanup(rig, [healthy, publisher], [frozen]);
  }
}

const VARIANTS = [
  { label: 'MQTT 5.0', version: 5, qos: 0 },
  { label: 'MQTT 5.0', version: 5, qos: 1 },
  { label: 'MQTT 3.1.1', version: 4, qos: 0 },
  { label: 'MQTT 3.1.1', version: 4, qos: 1 },
] as const;

describe.each(VARIANTS)('a frozen subscriber ($label, QoS $qos) never stalls anyone else', ({ version, qos }) => {
  let run: FrozenRun;
  beforeAll(async () => {
    run = await runFrozen(version, qos);
  }, 40_000);

  it('the healthy MQTT.js subscriber receives every message in order and the publisher gets every PUBACK, in bounded time', () => {
    expect(run.stalledAt, 'publisher had to stop: the healthy subscriber received nothing for 5 s').toBeUndefined();
    expect(sequence(run.healthy), 'healthy subscriber: messages received, first out-of-order index').toEqual({ count: N, firstMismatch: -1 });
    expect(run.healthyBadTopics).toEqual([]);
    expect(run.pubackErrors).toEqual([]);
    expect(run.pubacks, 'PUBACKs received by the publisher').toBe(N);
    expect(run.elapsedMs, 'time to move 32 MB through the broker').toBeLessThan(10_000);
    // Nobody but the frozen client was disconnected, and nobody else lost anything.
    expect(run.disconnects.filter((d) => d.clientId !== run.frozenId)).toEqual([]);
    expect(run.drops.filter((d) => d.clientId === run.healthyId)).toEqual([]);
    expect(run.maxHealthyQueued).toBeLessThanOrEqual(MQUEUE);
  });

  it('the frozen session queue never exceeds max_mqueue_len; the overflow is dropped as queue_full for the frozen client', () => {
    expect(run.maxFrozenQueued, 'largest queue seen for the frozen session').toBeLessThanOrEqual(MQUEUE);
    // The bound was actually reached: the core queued for the paused sink instead of writing.
    expect(run.maxFrozenQueued).toBe(MQUEUE);
    const queueFull = run.drops.filter((d) => d.reason === 'queue_full');
    expect(queueFull.length, 'queue_full drops reported by message.dropped').toBeGreaterThan(0);
    expect(new Set(queueFull.map((d) => d.clientId))).toEqual(new Set([run.frozenId]));
    expect(run.queueFullCounterDelta, 'messages.dropped.queue_full counter').toBe(queueFull.length);
    // drop_oldest: the queue drops its oldest message, so the dropped sequence numbers increase.
    expect(strictlyIncreasing(queueFull.map((d) => d.seq))).toBe(true);
  });

  it('after send_timeout without draining, the frozen connection is closed with backpressure_timeout', () => {
    const mine = run.disconnects.filter((d) => d.clientId === run.frozenId);
    expect(mine.map((d) => d.reason), 'client.disconnected for the frozen client').toEqual(['backpressure_timeout']);
    // Not before send_timeout had passed since the socket last drained (timer slack: 20 ms).
    expect(mine[0]!.at - run.lastFrozenDrainAt).toBeGreaterThanOrEqual(SEND_TIMEOUT - 20);
    expect(mine[0]!.at - run.lastFrozenDrainAt).toBeLessThan(SEND_TIMEOUT + 1500);
    expect([run.connectionsBefore, run.connectionsAfter], 'broker.stats().connections before/after').toEqual([3, 2]);
    expect([run.listenerBefore, run.listenerAfter], 'server sockets open before/after').toEqual([3, 2]);
    expect(run.frozenClosed, 'the resumed frozen client sees the connection end').toBe(true);
    // What it still reads are whole PUBLISHes of the stream, in order, nothing else.
    const publishes = run.frozenPackets.filter((p) => p.cmd === 'publish');
    expect(publishes.length, 'PUBLISHes the kernel held for the frozen client').toBeGreaterThan(0);
    expect(run.frozenPackets.filter((p) => p.cmd !== 'publish' || p.malformed)).toEqual([]);
    expect(strictlyIncreasing(publishes.map((p) => p.seq))).toBe(true);
  });

  it('memory is bounded: the server-side socket buffers at most one packet over its high-water mark', () => {
    const bound = run.hwm + FRAME + 1024;
    expect(run.maxFrozenBuffered, `largest server-side writableLength (high-water mark ${run.hwm})`).toBeLessThanOrEqual(bound);
    expect(run.frozenBufferedAtClose, 'server-side writableLength when closed').toBeGreaterThan(0);
    expect(run.frozenBufferedAtClose).toBeLessThanOrEqual(bound);
    // Every byte the broker wrote for the frozen client is either what the kernel held for it
    // (read once resumed) or in that bounded buffer: nothing else piled up.
    expect(run.frozenBytesWrittenAtClose - run.frozenBytesRead, 'bytes written but never received').toBeLessThanOrEqual(bound);
  });
});

// ------------------------------------------------------------------ 4: a slow subscriber

/**
 * Published on a fixed schedule (16 MB/s for 3 s) to a subscriber reading about 10 MB/s.
 *
 * How slow a reader may be depends on send_timeout: Linux reports a TCP socket writable again
 * only once a good part of its send buffer (which grows to 4 MB) is free, so 'drain' comes every
 * (about 1.3 MB / read rate): every 150 ms at 10 MB/s, but every 600 ms at 2.5 MB/s, which a
 * 500 ms send_timeout treats as stuck. This reader drains every 150 to 400 ms (scheduling on a
 * loaded 2-core machine adds up to a few hundred ms), so the slow scenario uses a send_timeout
 * of 1 s: a margin of 2.5 on the longest stall, while the socket is full for more than 1 s in
 * total.
 */
const SLOW_SEND_TIMEOUT = 1000;
const M = 3000;
/** Messages per second (x 16 KiB). */
const PUBLISH_RATE = 1000;
const PUBLISH_TICK = 5;
const READ_EVERY = 50;
const READ_BUDGET = 512 * 1024;

interface SlowRun {
  slowId: string;
  expected: number[];
  received: number[];
  dups: number;
  pubacks: number;
  pubackErrors: string[];
  pubDurationMs: number;
  dropReasons: DropReason[];
  drains: number;
  /** Total time the server side of the slow socket had a pending drain (sampled every 5 ms). */
  blockedMs: number;
  longestBlockedMs: number;
  connected: boolean | undefined;
  socketOpen: boolean;
  connections: number;
  disconnects: Rig['disconnects'];
  queueFullDrops: number;
  elapsedMs: number;
}

async function runSlow(version: 4 | 5): Promise<SlowRun> {
  const rig = await startRig(BROKER_CONFIG, { send_timeout: SLOW_SEND_TIMEOUT });
  let publisher: MqttClient | undefined;
  let slow: RawClient | undefined;
  let reader: NodeJS.Timeout | undefined;
  let blockedSampler: NodeJS.Timeout | undefined;
  try {
    const { broker } = rig;
    const slowId = uid('slow');
    const progress = new Progress();
    const persistent = version === 5 ? { clean: false, properties: { sessionExpiryInterval: 300 } } : { clean: false };
    slow = await RawClient.connected(rig.port, slowId, { version, connect: persistent });
    slow.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'load/#', qos: 1 }] });
    expect((await slow.next('suback')).granted).toEqual([1]);

    // Read at most READ_BUDGET bytes every READ_EVERY ms; acknowledge every PUBLISH.
    const socket = slow.stream as Socket;
    socket.pause();
    const received: number[] = [];
    let dups = 0;
    const s = slow;
    s.onPacket = (p) => {
      if (p.cmd !== 'publish') return;
      received.push(seqOf(p.payload as Buffer));
      if (p.dup) dups++;
      s.send({ cmd: 'puback', messageId: p.messageId! });
      progress.changed();
    };
    let budget = 0;
    socket.on('data', (chunk: Buffer) => {
      budget -= chunk.length;
      if (budget <= 0) socket.pause();
    });
    reader = setInterval(() => {
      budget = READ_BUDGET;
      socket.resume();
    }, READ_EVERY);

    const sConn = rig.serverConn(slowId);
    const sStream = sConn.stream as Socket;
    // Blocked stretches: from a sample that finds the socket full (a write returned false) to
    // the next 'drain' (sampled every 5 ms, so short stretches are missed or shortened).
    let drains = 0;
    let blockedMs = 0;
    let longestBlockedMs = 0;
    let blockedSince: number | undefined;
    const endStretch = (now: number) => {
      if (blockedSince === undefined) return;
      longestBlockedMs = Math.max(longestBlockedMs, now - blockedSince);
      blockedMs += now - blockedSince;
      blockedSince = undefined;
    };
    sStream.on('drain', () => {
      drains++;
      endStretch(performance.now());
    });
    blockedSampler = setInterval(() => {
      const now = performance.now();
      if (!sStream.writableNeedDrain) return;
      blockedSince ??= now;
      longestBlockedMs = Math.max(longestBlockedMs, now - blockedSince);
    }, 5);

    publisher = await mqttClient(rig, version, uid('pub'));
    const started = performance.now();
    let pubacks = 0;
    const pubackErrors: string[] = [];
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < M; i++) {
      // Keep to the schedule whatever the timer jitter: never behind PUBLISH_RATE on average.
      while (i >= ((performance.now() - started) / 1000) * PUBLISH_RATE) await sleep(PUBLISH_TICK);
      acks.push(
        publisher.publishAsync(topicOf(i), payload(i), { qos: 1 }).then(
          () => pubacks++,
          (err: Error) => pubackErrors.push(`${i}: ${err.message}`),
        ),
      );
    }
    const pubDurationMs = Math.round(performance.now() - started);
    await Promise.race([Promise.all(acks), sleep(10_000)]);
    // Routing happens before the PUBACK: the drops for the slow session are all known now.
    const slowDrops = rig.drops.filter((d) => d.clientId === slowId);
    const droppedForSlow = new Set(slowDrops.map((d) => d.seq));
    const expected = range(M).filter((i) => !droppedForSlow.has(i));
    await progress.until(() => received.length >= expected.length, 15_000);
    const elapsedMs = performance.now() - started;
    endStretch(performance.now());

    return {
      slowId,
      expected,
      received,
      dups,
      pubacks,
      pubackErrors,
      pubDurationMs,
      dropReasons: [...new Set(slowDrops.map((d) => d.reason))],
      drains,
      blockedMs,
      longestBlockedMs,
      connected: broker.session(slowId)?.connected,
      socketOpen: !slow.isClosed,
      connections: broker.stats().connections,
      disconnects: [...rig.disconnects],
      queueFullDrops: droppedForSlow.size,
      elapsedMs,
    };
  } finally {
    clearInterval(reader);
    clearInterval(blockedSampler);
    await cleanup(rig, [publisher], [slow]);
  }
}

describe.each([
  { label: 'MQTT 5.0', version: 5 },
  { label: 'MQTT 3.1.1', version: 4 },
] as const)('a slow subscriber that keeps draining ($label, QoS 1, persistent session)', ({ version }) => {
  let run: SlowRun;
  beforeAll(async () => {
    run = await runSlow(version);
  }, 40_000);

  it('was really back-pressured, for longer than send_timeout in total', () => {
    expect(run.drains, 'drain events on the server side of the slow socket').toBeGreaterThan(5);
    // Full for longer than send_timeout in total: only the drains in between kept it open.
    expect(run.blockedMs, 'time the slow socket was full').toBeGreaterThan(SLOW_SEND_TIMEOUT);
  });

  it('is not disconnected', () => {
    expect(run.disconnects).toEqual([]);
    expect(run.connected).toBe(true);
    expect(run.socketOpen).toBe(true);
    expect(run.connections).toBe(2);
    expect(run.longestBlockedMs, 'longest stretch without a drain').toBeLessThan(SLOW_SEND_TIMEOUT);
  });

  it('receives everything that was not dropped, in order, exactly once', () => {
    expect(run.pubackErrors).toEqual([]);
    expect(run.pubacks).toBe(M);
    // Only the bounded queue may drop: nothing sent (inflight) is ever lost.
    expect(run.dropReasons.filter((r) => r !== 'queue_full')).toEqual([]);
    expect(run.received.length, `received (dropped as queue_full: ${run.queueFullDrops})`).toBe(run.expected.length);
    expect(run.received).toEqual(run.expected);
    expect(run.dups).toBe(0);
  });
});
