import { eventually } from '@junction/test-servers';
import mqtt, { type IDisconnectPacket } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalHub } from '../src/index.js';
import { client, endClients, inbox, track, untilRouted } from './helpers.js';
import { startWorker, type TestWorker } from './local-helpers.js';

/** Three workers of one host, linked through one hub (in-memory ports, real MQTT over TCP). */
let hub: LocalHub;
let workers: TestWorker[];
let A: TestWorker, B: TestWorker, C: TestWorker;

beforeAll(async () => {
  hub = new LocalHub({ handoverTimeout: 1000 });
  workers = [await startWorker(hub), await startWorker(hub), await startWorker(hub)];
  [A, B, C] = workers as [TestWorker, TestWorker, TestWorker];
});

afterEach(endClients);

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.stop()));
  hub.close();
});

describe('workers of one host as one broker (LocalHub + LocalLink)', () => {
  it('routes a publish to subscribers on the other workers, once each, and only where it matches', async () => {
    const onB = await client(B.url, { clientId: 'x-b' });
    const onC = await client(C.url, { clientId: 'x-c' });
    await onB.subscribeAsync('cross/#', { qos: 1 });
    await onC.subscribeAsync(['cross/+/x', 'cross/#'], { qos: 1 });
    const gotB = inbox(onB);
    const gotC = inbox(onC);
    const pub = await client(A.url, { clientId: 'x-pub' });
    await untilRouted(pub, 'cross/probe', [onB, onC]);
    const receivedByA = A.link.stats.received;

    const topics = ['cross', 'cross/a/x', 'cross//x', 'cross/ü', 'other/a', '$app/x'];
    for (const t of topics) await pub.publishAsync(t, `m:${t}`, { qos: 1 });
    const want = ['cross', 'cross/a/x', 'cross//x', 'cross/ü'].map((t) => `${t} m:${t}`);
    await eventually(() => gotB.length >= want.length && gotC.length >= want.length, 5000, 'cross-worker deliveries');
    await new Promise((r) => setTimeout(r, 100));
    expect(gotB).toEqual(want);
    // Two overlapping filters on C: still one delivery per message [MQTT-3.3.4-2].
    expect(gotC).toEqual(want);
    // A subscribes nothing: the hub sent it nothing.
    expect(A.link.stats.received).toBe(receivedByA);
  });

  it('keeps $SYS subscriptions on their worker', async () => {
    const onB = await client(B.url, { clientId: 'sys-b' });
    await onB.subscribeAsync(['$SYS/#', 'sysprobe/#'], { qos: 0 });
    const got = inbox(onB);
    const pub = await client(A.url, { clientId: 'sys-pub' });
    await untilRouted(pub, 'sysprobe/x', [onB]);
    A.broker.publish({ topic: '$SYS/brokers/host/test', payload: Buffer.from('a'), qos: 0, retain: false });
    await pub.publishAsync('sysprobe/after', 'x', { qos: 1 });
    await eventually(() => got.includes('sysprobe/after x'), 5000, 'the later message');
    expect(got.filter((g) => g.startsWith('$SYS'))).toEqual([]);
  });

  it('gives each message of a shared subscription to one member across the workers', async () => {
    const members = [await client(A.url, { clientId: 'sh-a' }), await client(B.url, { clientId: 'sh-b1' }), await client(B.url, { clientId: 'sh-b2' }), await client(C.url, { clientId: 'sh-c' })];
    for (const m of members) await m.subscribeAsync('$share/g/jobs/#', { qos: 1 });
    const got = members.map(inbox);
    const pub = await client(A.url, { clientId: 'sh-pub' });
    await new Promise((r) => setTimeout(r, 50));
    const n = 60;
    for (let i = 0; i < n; i++) await pub.publishAsync(`jobs/${i}`, `job ${i}`, { qos: 1 });
    await eventually(() => got.flat().length >= n, 5000, 'every job');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.flat().sort()).toEqual(Array.from({ length: n }, (_, i) => `jobs/${i} job ${i}`).sort());
    // Round robin over the workers with members: every worker got work.
    expect(got[0]!.length).toBeGreaterThan(0);
    expect(got[1]!.length + got[2]!.length).toBeGreaterThan(0);
    expect(got[3]!.length).toBeGreaterThan(0);
  });

  it('moves a client id to the worker it connects to last: the old connection gets DISCONNECT 0x8E', async () => {
    const first = await client(A.url, { clientId: 'roamer' });
    const reason = new Promise<number | undefined>((r) => first.once('disconnect', (p: IDisconnectPacket) => r(p.reasonCode)));
    const second = await client(C.url, { clientId: 'roamer' });
    expect(await reason).toBe(0x8e);
    expect(A.broker.session('roamer')).toBeUndefined();
    expect(C.broker.session('roamer')?.connected).toBe(true);
    expect(second.connected).toBe(true);
  });

  it('resumes a persistent session on another worker with its subscriptions and queued messages', async () => {
    const opts = { clientId: 'persist-1', clean: false, properties: { sessionExpiryInterval: 300 } };
    const before = await client(A.url, opts);
    await before.subscribeAsync('persist/#', { qos: 1 });
    await before.endAsync();
    const pub = await client(C.url, { clientId: 'persist-pub' });
    await eventually(
      async () => {
        await pub.publishAsync('persist/1', 'queued on A', { qos: 1 });
        return (A.broker.session('persist-1')?.queued ?? 0) > 0;
      },
      5000,
      'a message queued on worker A',
    );
    const got: string[] = [];
    const after = track(mqtt.connect(B.url, { protocolVersion: 5, reconnectPeriod: 0, ...opts }));
    after.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    expect(await new Promise<boolean>((r) => after.once('connect', (p) => r(p.sessionPresent)))).toBe(true);
    await eventually(() => got.includes('persist/1 queued on A'), 5000, 'the moved queued message');
    expect(B.broker.session('persist-1')?.subscriptions).toEqual(['persist/#']);
    expect(A.broker.session('persist-1')).toBeUndefined();
  });

  it('shows a retained message on every worker, to a worker started later, and its removal', async () => {
    const pub = await client(A.url, { clientId: 'ret-pub' });
    await pub.publishAsync('ret/door', 'open', { qos: 1, retain: true });
    const retainedOn = async (w: TestWorker) => {
      const c = await client(w.url);
      const got = inbox(c);
      await c.subscribeAsync('ret/#', { qos: 1 });
      await new Promise((r) => setTimeout(r, 50));
      await c.endAsync();
      return got;
    };
    await eventually(async () => (await retainedOn(C)).includes('ret/door open'), 5000, 'the retained message on C');
    const D = await startWorker(hub);
    workers.push(D);
    expect(await retainedOn(D)).toEqual(['ret/door open']);
    const clear = await client(B.url, { clientId: 'ret-clear' });
    await clear.publishAsync('ret/door', '', { qos: 1, retain: true });
    await eventually(async () => (await retainedOn(A)).length === 0, 5000, 'the retained message gone on A');
    await eventually(async () => (await retainedOn(D)).length === 0, 5000, 'the retained message gone on D');
    await D.stop();
  });

  it('publishes the wills of a dead worker’s clients once, through another worker', async () => {
    const E = await startWorker(hub);
    workers.push(E);
    const watchers = [await client(A.url, { clientId: 'will-w-a' }), await client(B.url, { clientId: 'will-w-b' })];
    for (const w of watchers) await w.subscribeAsync('will/#', { qos: 1 });
    const got = watchers.map(inbox);
    await client(E.url, { clientId: 'doomed', will: { topic: 'will/doomed', payload: Buffer.from('gone'), qos: 1, retain: false } });
    await new Promise((r) => setTimeout(r, 50));
    await E.crash();
    await eventually(() => got.every((g) => g.length >= 1), 5000, 'the will on both watchers');
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual([['will/doomed gone'], ['will/doomed gone']]);
  });
});
