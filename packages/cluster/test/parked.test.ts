import { eventually } from '@junction/test-servers';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientRegistry } from '../src/registry.js';
import { client, endClients, inbox, startTwoNodes, track, untilRouted, type TestNode, type TwoNodes } from './helpers.js';

/**
 * A persistent session whose node died: its registry entry still names that node ("ghost"
 * here, a node that never answers). Messages for it are parked in JetStream once the ghost
 * does not confirm them, and taken into the session where it resumes.
 */
let two: TwoNodes;
let registry: ClientRegistry;
let B: TestNode, C: TestNode;

beforeAll(async () => {
  const cluster = { confirm_timeout: 300, kv_replicas: 1, heartbeat_interval: 200, node_timeout: 600 };
  two = await startTwoNodes(['node-b', 'node-c'], cluster);
  [B, C] = two.nodes;
  registry = two.registry;
}, 60_000);

afterEach(endClients);

afterAll(() => two?.stop());

/** A persistent session of `clientId` on the dead node `ghost`, subscribed to `filter` with QoS 1. */
async function ghostSession(clientId: string, filter: string): Promise<void> {
  const session = { clientId, expiryInterval: 600, subscriptions: [{ filter, qos: 1 as const }] };
  await registry.write(clientId, { node: 'ghost', session, held: ['ghost'] }, 0);
  await eventually(() => B.cluster.sessionNode(clientId) === 'ghost', 5000, 'node B to know the ghost session');
}

describe('messages for a persistent session whose node is gone', () => {
  it('are acknowledged once parked, and delivered in order where the session resumes, once', async () => {
    await ghostSession('sleeper', 'parked/#');
    const pub = await client(B.url, { clientId: 'parked-pub' });
    const parkedBefore = B.cluster.stats.parked;
    // Each PUBACK comes once the message is parked: the ghost never confirms.
    for (let i = 1; i <= 4; i++) await pub.publishAsync(`parked/${i}`, `m${i}`, { qos: 1 });
    // QoS 2 published, QoS 1 subscribed: parked as QoS 1.
    await pub.publishAsync('parked/5', 'm5', { qos: 2 });
    expect(B.cluster.stats.parked - parkedBefore).toBe(5);

    const opts = { protocolVersion: 5 as const, clientId: 'sleeper', clean: false, reconnectPeriod: 0, properties: { sessionExpiryInterval: 600 } };
    const got: string[] = [];
    const qos: number[] = [];
    const sleeper = track(mqtt.connect(C.url, opts));
    sleeper.on('message', (t, p, packet) => {
      got.push(`${t} ${p.toString()}`);
      qos.push(packet.qos);
    });
    const present = await new Promise<boolean>((r) => sleeper.once('connect', (p) => r(p.sessionPresent)));
    expect(present).toBe(true);
    await eventually(() => got.length >= 5, 5000, 'the parked messages');
    expect(got).toEqual(['parked/1 m1', 'parked/2 m2', 'parked/3 m3', 'parked/4 m4', 'parked/5 m5']);
    expect(qos).toEqual([1, 1, 1, 1, 1]);
    expect(C.cluster.stats.parkedTaken).toBe(5);

    // Taken and purged: resuming again on B brings none of them back.
    await sleeper.endAsync();
    got.length = 0;
    const again = track(mqtt.connect(B.url, opts));
    again.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    expect(await new Promise<boolean>((r) => again.once('connect', (p) => r(p.sessionPresent)))).toBe(true);
    await pub.publishAsync('parked/6', 'm6', { qos: 1 });
    await eventually(() => got.length > 0, 5000, 'a live message');
    expect(got).toEqual(['parked/6 m6']);
  });

  it('are dropped for a client that starts clean', async () => {
    await ghostSession('fresh-start', 'fresh/#');
    const pub = await client(B.url, { clientId: 'fresh-pub' });
    const parkedBefore = B.cluster.stats.parked;
    await pub.publishAsync('fresh/1', 'old', { qos: 1 });
    expect(B.cluster.stats.parked - parkedBefore).toBe(1);
    const got: string[] = [];
    const fresh = await client(C.url, { clientId: 'fresh-start', clean: true, properties: { sessionExpiryInterval: 600 } });
    fresh.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    await fresh.subscribeAsync('fresh/#', { qos: 1 });
    await fresh.endAsync();
    const back = await client(B.url, { clientId: 'fresh-start', clean: false, properties: { sessionExpiryInterval: 600 } });
    back.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    await pub.publishAsync('fresh/2', 'new', { qos: 1 });
    await eventually(() => got.length > 0, 5000, 'the new message');
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual(['fresh/2 new']);
  });

  it('are not parked for a QoS 0 subscription or a node that confirms', async () => {
    const session = { clientId: 'zero', expiryInterval: 600, subscriptions: [{ filter: 'zero/#', qos: 0 as const }] };
    await registry.write('zero', { node: 'ghost', session, held: ['ghost'] }, 0);
    const live = await client(C.url, { clientId: 'live-holder', clean: false, properties: { sessionExpiryInterval: 600 } });
    await live.subscribeAsync('zero/#', { qos: 1 });
    await eventually(() => B.cluster.sessionNode('live-holder') === 'node-c', 5000, 'node B to know the live session');
    const got: string[] = [];
    live.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    const pub = await client(B.url, { clientId: 'zero-pub' });
    const parkedBefore = B.cluster.stats.parked;
    await eventually(
      async () => {
        await pub.publishAsync('zero/x', 'hello', { qos: 1 });
        return got.includes('zero/x hello');
      },
      5000,
      'delivery to the live session',
    );
    expect(B.cluster.stats.parked).toBe(parkedBefore);
  });

  it('are dropped with the session when a dead node’s session expires without being resumed', async () => {
    // A node holding a persistent session, heard, then silent: the survivors take it for dead
    // after node_timeout.
    const session = { clientId: 'orphan', expiryInterval: 2, subscriptions: [{ filter: 'orphan/#', qos: 1 as const }] };
    await registry.write('orphan', { node: 'ghost2', session, held: ['ghost2'] }, 0);
    await eventually(() => B.cluster.sessionNode('orphan') === 'ghost2' && C.cluster.sessionNode('orphan') === 'ghost2', 5000, 'the nodes to know the orphan session');
    for (let i = 0; i < 3; i++) {
      two.nc.publish('junction.hb.ghost2', 'ghost2');
      await new Promise((r) => setTimeout(r, 100));
    }
    const pub = await client(B.url, { clientId: 'orphan-pub' });
    const parkedBefore = B.cluster.stats.parked;
    await pub.publishAsync('orphan/1', 'x', { qos: 1 });
    expect(B.cluster.stats.parked - parkedBefore).toBe(1);
    // Expired (2 s after the node was found dead): the entry and its parked message are gone.
    await eventually(async () => (await registry.read('orphan')).entry === undefined, 10_000, 'the orphan session to expire');
    await eventually(() => B.cluster.sessionNode('orphan') === undefined, 5000, 'node B to forget it');
    const jsm = await two.nc.jetstream().jetstreamManager();
    const subject = `junction.parked.${Buffer.from('orphan').toString('base64url')}`;
    await eventually(async () => !(await jsm.streams.info('junction_parked', { subjects_filter: subject })).state.subjects?.[subject], 5000, 'its parked message to go');
    // Nothing is parked for it any more.
    await pub.publishAsync('orphan/2', 'y', { qos: 1 });
    expect(B.cluster.stats.parked - parkedBefore).toBe(1);
  });

  it('are parked for a session the receiving node did not give them to (a claim racing with the publisher’s view)', async () => {
    // The registry names node C, which has not got the session: C has interest in the topic
    // through another client, so it receives the message, and answers that the session it was
    // expected to hold did not get it.
    const session = { clientId: 'arriving', expiryInterval: 600, subscriptions: [{ filter: 'arrive/#', qos: 1 as const }] };
    const { revision } = await registry.write('arriving', { node: 'node-c', session, held: ['node-c'] }, 0).then(() => registry.read('arriving'));
    await eventually(() => B.cluster.sessionNode('arriving') === 'node-c', 5000, 'node B to know the session');
    const watcher = await client(C.url, { clientId: 'arrive-watch', clean: false, properties: { sessionExpiryInterval: 600 } });
    await watcher.subscribeAsync('arrive/#', { qos: 1 });
    const watched = inbox(watcher);
    const pub = await client(B.url, { clientId: 'arrive-pub' });
    await untilRouted(pub, 'arrive/probe', [watcher]);
    const parkedBefore = B.cluster.stats.parked;
    await pub.publishAsync('arrive/1', 'for the session', { qos: 1 });
    expect(B.cluster.stats.parked - parkedBefore).toBe(1);
    await eventually(() => watched.includes('arrive/1 for the session'), 5000, 'the other subscriber’s copy');
    // The other persistent session on C got it as expected there: nothing parked for it.
    await pub.publishAsync('arrive/2', 'second', { qos: 1 });
    expect(B.cluster.stats.parked - parkedBefore).toBe(2);

    // The session then comes to C from its record (its node gone): the parked messages are in it.
    await registry.write('arriving', { node: 'ghost-arrive', session, held: ['ghost-arrive'] }, revision);
    const got: string[] = [];
    const arriving = track(mqtt.connect(C.url, { protocolVersion: 5, clientId: 'arriving', clean: false, reconnectPeriod: 0, properties: { sessionExpiryInterval: 600 } }));
    arriving.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    await eventually(() => got.length >= 2, 5000, 'the parked messages');
    expect(got).toEqual(['arrive/1 for the session', 'arrive/2 second']);
  });

  it('parked for a session that no longer subscribes to them are not delivered to it', async () => {
    // C holds `moved-on`, subscribed to other/#; node B's view (a stale registry record) has it
    // subscribed to gone/#. C answers it did not give the message to `moved-on`: B parks it, and
    // C, taking it into the session, leaves it out.
    const s = await client(C.url, { clientId: 'moved-on', clean: false, properties: { sessionExpiryInterval: 600 } });
    await s.subscribeAsync('other/#', { qos: 1 });
    const got = inbox(s);
    const watcher = await client(C.url, { clientId: 'gone-watch' });
    await watcher.subscribeAsync('gone/#', { qos: 1 });
    await eventually(async () => (await registry.read('moved-on')).entry?.node === 'node-c', 5000, 'C to register the session');
    const { revision } = await registry.read('moved-on');
    const stale = { clientId: 'moved-on', expiryInterval: 600, subscriptions: [{ filter: 'gone/#', qos: 1 as const }] };
    await registry.write('moved-on', { node: 'node-c', session: stale, held: ['node-c'] }, revision);
    await eventually(() => B.cluster.sessionNode('moved-on') === 'node-c', 5000, 'node B to know the stale record');
    const pub = await client(B.url, { clientId: 'gone-pub' });
    await untilRouted(pub, 'gone/probe', [watcher]);
    const parkedBefore = B.cluster.stats.parked;
    await pub.publishAsync('gone/1', 'not for it', { qos: 1 });
    expect(B.cluster.stats.parked - parkedBefore).toBe(1);
    await pub.publishAsync('other/1', 'for it', { qos: 1 });
    await eventually(() => got.includes('other/1 for it'), 5000, 'a message it subscribes to');
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual(['other/1 for it']);
  });

  // Last: it removes the stream.
  it('are refused when they can be neither confirmed nor parked: MQTT 5 PUBACK 0x80, MQTT 3.1.1 connection closed', async () => {
    await ghostSession('unreachable', 'lost/#');
    await (await two.nc.jetstream().jetstreamManager()).streams.delete('junction_parked');
    const v5 = await client(B.url, { clientId: 'lost-pub-5' });
    const err = await v5.publishAsync('lost/5', 'x', { qos: 1 }).then(
      () => undefined,
      (e: { code?: number }) => e,
    );
    expect(err?.code).toBe(0x80);
    const v3 = track(await mqtt.connectAsync(B.url, { protocolVersion: 4, clientId: 'lost-pub-3', reconnectPeriod: 0 }));
    const closed = new Promise<void>((r) => v3.once('close', () => r()));
    v3.publish('lost/3', 'x', { qos: 1 });
    await closed;
    expect(B.cluster.stats.parkFailed).toBeGreaterThanOrEqual(2);
  });
});

describe('ClientRegistry.clientIds', () => {
  it('lists every client id even when the caller awaits between them', async () => {
    const ids = ['list-1', 'list-2', 'list-3', 'list-4'];
    for (const id of ids) await registry.write(id, { node: 'ghost' }, 0);
    const seen: string[] = [];
    for await (const id of registry.clientIds()) {
      await registry.read(id);
      seen.push(id);
    }
    expect(seen).toEqual(expect.arrayContaining(ids));
  });
});
