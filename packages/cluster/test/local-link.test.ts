import { eventually } from '@junction/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalHub } from '../src/index.js';
import { client, endClients, inbox, subscribeThenPublish, untilRouted } from './helpers.js';
import { clusterBehaviourSuite } from './link-suite.js';
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
  it('sends a worker nothing for messages none of its clients subscribed to, its own ones included', async () => {
    const onB = await client(B.url, { clientId: 'x-b' });
    await onB.subscribeAsync('quiet/#', { qos: 1 });
    const got = inbox(onB);
    const pubs = [await client(A.url, { clientId: 'x-pub-a' }), await client(C.url, { clientId: 'x-pub-c' })];
    for (const pub of pubs) await untilRouted(pub, 'quiet/probe', [onB]);
    const receivedByA = A.link.stats.received;
    for (const [i, pub] of pubs.entries()) for (const t of ['quiet/a', 'other/a', '$app/x']) await pub.publishAsync(t, `m${i}:${t}`, { qos: 1 });
    await eventually(() => got.length >= 2, 5000, 'the matching messages');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.sort()).toEqual(['quiet/a m0:quiet/a', 'quiet/a m1:quiet/a']);
    // A subscribes nothing: the hub sent it nothing, not even what A published.
    expect(A.link.stats.received).toBe(receivedByA);
  });

  it('answers a SUBSCRIBE once the hub routes by it: a message published on another worker right after the SUBACK arrives', async () => {
    // The link waits for the hub's answer to the filter it sent, and only then.
    A.link.interestAdded('direct/x', undefined);
    const waiting = A.link.subscribed();
    expect(waiting).toBeInstanceOf(Promise);
    await waiting;
    expect(A.link.subscribed()).toBeUndefined();
    A.link.interestRemoved('direct/x', undefined);

    const pub = await client(B.url, { clientId: 'sync-pub' });
    const sub = await client(A.url, { clientId: 'sync-sub' });
    const { got, want } = await subscribeThenPublish(sub, pub, 'sync/n');
    expect(got).toEqual(want);
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

clusterBehaviourSuite({
  name: 'workers of one host (LocalHub + LocalLink)',
  names: ['first worker', 'second worker'],
  a: () => A,
  b: () => B,
  c: () => C,
  startLater: async () => {
    const late = await startWorker(hub);
    workers.push(late);
    return late;
  },
});
