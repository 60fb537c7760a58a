import { describe, expect, it } from 'vitest';
import { BrokerCore, MemoryRetainedStore, MemorySessionStore, type SessionStore } from '../src/index.js';
import { ManualClock, RecordingSink } from '../src/testing/index.js';
import { connect, msg } from './helpers.js';

/** A broker on a given store and clock: a "restart" is a new broker on the same stores. */
function boot(store: SessionStore, clock = new ManualClock(), retained = new MemoryRetainedStore()) {
  return { broker: new BrokerCore({ clock, sessionStore: store, retained }), clock, retained };
}

const persistent = { cleanStart: false, sessionExpiryInterval: 3600 } as const;

describe('durable sessions (write-through to the session store)', () => {
  it('keeps subscriptions and queued messages of an offline session across a restart', async () => {
    const store = new MemorySessionStore();
    const a = boot(store);
    const c = await connect(a.broker, 'dev', persistent);
    await c.handle.subscribe([{ filter: 'cmd/#', qos: 1 }]);
    c.handle.close('connection_lost');
    await a.broker.publish(msg('cmd/1', 'one', { qos: 1 }));
    await a.broker.publish(msg('cmd/2', 'two', { qos: 0 }));
    await a.broker.close();

    const b = boot(store, a.clock);
    expect(await b.broker.restore()).toBe(1);
    // Routed to the restored offline session before the client is back.
    b.broker.publish(msg('cmd/3', 'three', { qos: 1 }));
    const back = await connect(b.broker, 'dev', persistent);
    expect(back.handle.sessionPresent).toBe(true);
    expect(back.sink.messages).toEqual([
      ['cmd/1', 'one'],
      ['cmd/2', 'two'],
      ['cmd/3', 'three'],
    ]);
  });

  // The store's writes become durable only when the test opens the gate: with `append` (writes
  // pipelined, the core does not wait between them) and without (each write waits for the last).
  for (const mode of ['pipelined', 'chained'] as const) {
    it(`acknowledges a QoS 1 publish only once every persistent target has it stored (${mode})`, async () => {
      const writes: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      class SlowStore extends MemorySessionStore {
        constructor() {
          super();
          // A store without `append`: the core chains its writes.
          if (mode === 'chained') Object.defineProperty(this, 'append', { value: undefined });
        }
        override async enqueue(clientId: string, d: Parameters<MemorySessionStore['enqueue']>[1]) {
          await gate;
          writes.push(`${clientId}:${d.message.payload}`);
          return super.enqueue(clientId, d);
        }
        override append(clientId: string, d: Parameters<MemorySessionStore['enqueue']>[1]) {
          const { seq } = super.append(clientId, d);
          return { seq, durable: gate.then(() => void writes.push(`${clientId}:${d.message.payload}`)) };
        }
      }
      const { broker } = boot(new SlowStore());
      const sub = await connect(broker, 'sub', persistent);
      await sub.handle.subscribe([{ filter: 't', qos: 1 }]);
      sub.handle.close('connection_lost');
      const pub = await connect(broker, 'pub');
      const r = pub.handle.publish(msg('t', 'm', { qos: 1 }));
      expect(r).toBeInstanceOf(Promise);
      let acked = false;
      void (r as Promise<unknown>).then(() => (acked = true));
      // Pipelined: the outcome comes at once, with the durability to wait for.
      const piped = pub.handle.publish(msg('t', 'p', { qos: 1 }), { pipeline: true });
      expect(piped).not.toBeInstanceOf(Promise);
      const durable = (piped as { durable?: Promise<void> }).durable;
      expect(durable).toBeInstanceOf(Promise);
      let pipedDurable = false;
      void durable!.then(() => (pipedDurable = true));
      await new Promise((res) => setImmediate(res));
      expect(acked).toBe(false);
      expect(pipedDurable).toBe(false);
      release();
      await r;
      await durable;
      expect(writes).toEqual(['sub:m', 'sub:p']);
      // QoS 0 and clean sessions never wait.
      expect(pub.handle.publish(msg('t', 'q0'))).toEqual({ matched: 1 });
    });
  }

  it('resends in-flight messages with DUP and PUBRELs after a restart, and keeps QoS 2 receive state', async () => {
    const store = new MemorySessionStore();
    const a = boot(store);
    const c = await connect(a.broker, 'dev', persistent);
    await c.handle.subscribe([{ filter: 't', qos: 2 }]);
    await a.broker.publish(msg('t', 'q1', { qos: 1 }));
    await a.broker.publish(msg('t', 'q2', { qos: 2 }));
    const [d1, d2] = c.sink.deliveries;
    c.handle.ack(d2!.packetId, 'pubrec');
    // The same client also sent us a QoS 2 message that is not released yet.
    await c.handle.publish(msg('in', 'x', { qos: 2, packetId: 42 }));
    await a.broker.close();

    const b = boot(store, a.clock);
    await b.broker.restore();
    const sink = new RecordingSink();
    const h = await b.broker.open({ clientId: 'dev', protocol: 'test', peer: '127.0.0.1:1', keepalive: 0, ...persistent }, sink);
    h.ready();
    expect(sink.deliveries.map((d) => [d.packetId, d.dup, d.message.payload.toString()])).toEqual([[d1!.packetId, true, 'q1']]);
    expect(sink.pubrels).toEqual([d2!.packetId]);
    expect(h.publish(msg('in', 'x', { qos: 2, packetId: 42 }))).toMatchObject({ duplicate: true });
    expect(h.release(42)).toBe(true);
    // New deliveries do not reuse packet ids still in flight.
    await b.broker.publish(msg('t', 'next', { qos: 1 }));
    const next = sink.deliveries.at(-1)!;
    expect([d1!.packetId, d2!.packetId]).not.toContain(next.packetId);
    // Acknowledged deliveries leave the store.
    h.ack(d1!.packetId, 'puback');
    h.ack(d2!.packetId, 'pubcomp');
    h.ack(next.packetId, 'puback');
    await new Promise((r) => setImmediate(r));
    expect(await store.deliveries('dev')).toEqual([]);
  });

  it('ends sessions whose expiry passed while the broker was down, publishing a pending will', async () => {
    const store = new MemorySessionStore();
    const a = boot(store);
    const c = await connect(a.broker, 'dev', {
      cleanStart: false,
      sessionExpiryInterval: 60,
      will: { topic: 'will/dev', payload: Buffer.from('gone'), qos: 1, retain: true, delayInterval: 30 },
    });
    c.handle.close('connection_lost');
    await a.broker.close();

    a.clock.advance(120_000);
    const b = boot(store, a.clock, a.retained);
    await b.broker.restore();
    a.clock.advance(1);
    expect(b.broker.session('dev')).toBeUndefined();
    await new Promise((r) => setImmediate(r));
    expect(await store.get('dev')).toBeUndefined();
    expect((await b.retained.get('will/dev'))?.payload.toString()).toBe('gone');
  });

  it('clean sessions never touch the store; ending a persistent one removes it', async () => {
    const store = new MemorySessionStore();
    const { broker } = boot(store);
    const clean = await connect(broker, 'clean');
    await clean.handle.subscribe([{ filter: 'x', qos: 1 }]);
    clean.handle.close('normal');
    expect(store.size).toBe(0);
    const p = await connect(broker, 'p', persistent);
    await p.handle.subscribe([{ filter: 'x', qos: 1 }]);
    await new Promise((r) => setImmediate(r));
    expect((await store.get('p'))?.subscriptions.map((s) => s.filter)).toEqual(['x']);
    p.handle.setSessionExpiry(0);
    p.handle.close('normal');
    await new Promise((r) => setImmediate(r));
    expect(await store.get('p')).toBeUndefined();
  });
});
