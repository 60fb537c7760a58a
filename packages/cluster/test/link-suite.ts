/**
 * The behaviour every cluster topology must show between its nodes, whatever links them (NATS
 * servers in a cluster, a leaf server, a mixed-mode cluster, the workers' LocalHub): messages
 * routed both ways, a client id moving between nodes, a persistent session resumed elsewhere with
 * its queued message, retained messages seen everywhere and cleared from anywhere, `$SYS` kept on
 * its node. Each topology's test file starts its nodes in `beforeAll`, ends clients in `afterEach`
 * (`endClients`) and calls `clusterBehaviourSuite` with getters for them; what only one topology
 * does stays in its file.
 */
import type { BrokerCore } from '@junction/broker-core';
import { eventually } from '@junction/test-servers';
import mqtt, { type IClientOptions, type IDisconnectPacket, type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { client, inbox, track, untilRouted } from './helpers.js';

/** What the suite needs of a node: where clients connect, and its broker to look at sessions. */
export interface LinkNode {
  readonly url: string;
  readonly broker: BrokerCore;
}

export interface LinkSuiteFixture {
  /** The topology, for the `describe` title. */
  readonly name: string;
  /** How the tests call node A and node B: "core" and "replicant", "node A" and "node B", ... */
  readonly names: readonly [a: string, b: string];
  readonly a: () => LinkNode;
  readonly b: () => LinkNode;
  /**
   * A third node, where the topology has one: it subscribes and publishes when messages are
   * routed, sets and clears a retained message, and publishes the message queued for a session
   * that went offline on one node and resumes on the other.
   */
  readonly c?: () => LinkNode;
  /**
   * Start one more node after the others: the suite checks that it shows the retained messages at
   * once, and stops it. Without it, that test is not registered.
   */
  readonly startLater?: () => Promise<LinkNode & { stop(): Promise<void> }>;
}

export function clusterBehaviourSuite(fixture: LinkSuiteFixture): void {
  const [nameA, nameB] = fixture.names;
  const nodes = (): LinkNode[] => [fixture.a(), fixture.b(), ...(fixture.c ? [fixture.c()] : [])];
  /** Both directions between A and B: [from, to], with their names. */
  const directions = [
    { from: nameA, to: nameB, pair: () => [fixture.a(), fixture.b()] as const },
    { from: nameB, to: nameA, pair: () => [fixture.b(), fixture.a()] as const },
  ];
  const id = (name: string) => name.replace(/\W+/g, '-');

  describe(`cluster behaviour: ${fixture.name}`, () => {
    it('routes messages both ways, once to each subscriber even through overlapping filters, only where they match, for any topic', async () => {
      const all = nodes();
      const subs: MqttClient[] = [];
      for (const [i, node] of all.entries()) subs.push(await client(node.url, { clientId: `link-sub-${i}` }));
      for (const s of subs) await s.subscribeAsync(['link/+/x', 'link/#'], { qos: 1 });
      const got = subs.map(inbox);
      const pubs: MqttClient[] = [];
      for (const [i, node] of all.entries()) pubs.push(await client(node.url, { clientId: `link-pub-${i}` }));
      for (const p of pubs) await untilRouted(p, 'link/probe', subs);

      // Characters a NATS subject gives a meaning to, empty levels, non-ASCII; and topics no one matches.
      const topics = ['link', 'link/a/x', 'link/a.b c/x', 'link//x', 'link/ü', 'link/ü*>$/', 'other/a', '$app/x'];
      const matching = topics.filter((t) => t === 'link' || t.startsWith('link/'));
      // What each publisher sends that a subscriber must get, in the order it was sent.
      const want = pubs.map((_, i) => matching.map((t) => `${t} from ${i}:${t}`));
      for (const [i, p] of pubs.entries()) for (const t of topics) await p.publishAsync(t, `from ${i}:${t}`, { qos: 1 });
      const total = want.flat().length;
      await eventually(() => got.every((g) => g.length >= total), 5000, 'every message on every node');
      await new Promise((r) => setTimeout(r, 100));
      for (const g of got) {
        // Nothing more than once [MQTT-3.3.4-2], nothing that does not match, each source in order.
        expect(g).toHaveLength(total);
        expect(want.map((w) => g.filter((m) => w.includes(m)))).toEqual(want);
      }
    });

    for (const { from, to, pair } of directions) {
      it(`keeps $SYS on the ${from}, and routes its other $ topics to the ${to} only where a subscription names them`, async () => {
        const [a, b] = pair();
        const sub = await client(b.url, { clientId: `link-dollar-${id(to)}` });
        await sub.subscribeAsync(['#', '$app/#', '$SYS/#'], { qos: 0 });
        const got = inbox(sub);
        const pub = await client(a.url, { clientId: `link-dollar-pub-${id(from)}` });
        await untilRouted(pub, 'dollar/probe', [sub]);
        a.broker.publish({ topic: '$SYS/brokers/link/test', payload: Buffer.from('local'), qos: 0, retain: false });
        await pub.publishAsync('$app/x', 'dollar', { qos: 1 });
        await pub.publishAsync('dollar/after', 'plain', { qos: 1 });
        await eventually(() => got.includes('dollar/after plain'), 5000, 'the plain message');
        // `#` does not match `$app/x` [MQTT-4.7.2-1]: one delivery, through `$app/#`.
        expect(got.filter((g) => g.startsWith('$app/'))).toEqual(['$app/x dollar']);
        expect(got.filter((g) => g.startsWith('$SYS'))).toEqual([]);
      });
    }

    for (const { from, to, pair } of directions) {
      for (const persistent of [false, true]) {
        it(`moves a client id with ${persistent ? 'a persistent' : 'a clean'} session from the ${from} to the ${to}: the old connection gets DISCONNECT 0x8E`, async () => {
          const [a, b] = pair();
          const clientId = `link-mover-${id(from)}-${persistent ? 'persistent' : 'clean'}`;
          const topic = `link-mover/${clientId}`;
          const opts: IClientOptions = persistent ? { clientId, clean: false, properties: { sessionExpiryInterval: 60 } } : { clientId };
          const first = await client(a.url, opts);
          if (persistent) await first.subscribeAsync(topic, { qos: 1 });
          const kicked = new Promise<number | undefined>((r) => first.once('disconnect', (p: IDisconnectPacket) => r(p.reasonCode)));
          const second = connectTracked(b.url, opts);
          expect(await second.sessionPresent).toBe(persistent);
          expect(await kicked).toBe(0x8e);
          expect(second.client.connected).toBe(true);
          expect(a.broker.session(clientId)).toBeUndefined();
          expect(b.broker.session(clientId)?.connected).toBe(true);
          if (persistent) expect(b.broker.session(clientId)?.subscriptions).toEqual([topic]);
        });
      }
    }

    for (const { from, to, pair } of directions) {
      it(`resumes a persistent session from the ${from} on the ${to} with its subscriptions and queued message`, async () => {
        const [a, b] = pair();
        const clientId = `link-persist-${id(from)}`;
        const topic = `link-persist/${id(from)}`;
        const opts: IClientOptions = { clientId, clean: false, properties: { sessionExpiryInterval: 300 } };
        const before = await client(a.url, opts);
        await before.subscribeAsync(`${topic}/#`, { qos: 1 });
        await before.endAsync();
        // Published on another node: routed to the offline session's node and queued there.
        const pub = await client((fixture.c?.() ?? b).url, { clientId: `${clientId}-pub` });
        await eventually(
          async () => {
            await pub.publishAsync(`${topic}/1`, 'queued', { qos: 1 });
            return (a.broker.session(clientId)?.queued ?? 0) > 0;
          },
          10_000,
          `a message queued on the ${from}`,
        );
        const after = connectTracked(b.url, opts);
        const got: string[] = [];
        after.client.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
        expect(await after.sessionPresent).toBe(true);
        await eventually(() => got.includes(`${topic}/1 queued`), 5000, 'the moved queued message');
        expect(b.broker.session(clientId)?.subscriptions).toEqual([`${topic}/#`]);
        expect(a.broker.session(clientId)).toBeUndefined();
        // And new messages published on the old node now reach it on the new one.
        const old = await client(a.url, { clientId: `${clientId}-old` });
        await untilRouted(old, `${topic}/probe`, [after.client]);
        await old.publishAsync(`${topic}/2`, 'moved', { qos: 1 });
        await eventually(() => got.includes(`${topic}/2 moved`), 5000, `a message routed to the ${to}`);
      });
    }

    it('shows a retained message set on any node on every node, and its removal from another node', async () => {
      const all = nodes();
      const pubs: MqttClient[] = [];
      for (const [i, node] of all.entries()) pubs.push(await client(node.url, { clientId: `link-ret-${i}` }));
      for (const [i, p] of pubs.entries()) await p.publishAsync(`link-ret/${i}`, `set on ${i}`, { qos: 1, retain: true });
      const want = all.map((_, i) => `link-ret/${i} set on ${i}`);
      for (const node of all) await eventually(async () => same(await retainedOn(node, 'link-ret/#'), want), 5000, 'every retained message on every node');
      // Each node clears the message another node set.
      for (const [i, p] of pubs.entries()) await p.publishAsync(`link-ret/${(i + 1) % all.length}`, '', { qos: 1, retain: true });
      for (const node of all) await eventually(async () => (await retainedOn(node, 'link-ret/#')).length === 0, 5000, 'every retained message gone on every node');
    });

    const startLater = fixture.startLater;
    if (startLater) {
      it('shows a retained message to a node started later, and its removal', async () => {
        const [a, b] = [fixture.a(), fixture.b()];
        const pub = await client(a.url, { clientId: 'link-late-pub' });
        await pub.publishAsync('link-late/door', 'open', { qos: 1, retain: true });
        await eventually(async () => (await retainedOn(b, 'link-late/#')).includes('link-late/door open'), 5000, `the retained message on the ${nameB}`);
        const late = await startLater();
        try {
          expect(await retainedOn(late, 'link-late/#')).toEqual(['link-late/door open']);
          const clear = await client(b.url, { clientId: 'link-late-clear' });
          await clear.publishAsync('link-late/door', '', { qos: 1, retain: true });
          await eventually(async () => (await retainedOn(a, 'link-late/#')).length === 0, 5000, `the retained message gone on the ${nameA}`);
          await eventually(async () => (await retainedOn(late, 'link-late/#')).length === 0, 5000, 'the retained message gone on the later node');
        } finally {
          await late.stop();
        }
      });
    }
  });
}

/** Connect without waiting, and the CONNACK's session present flag when it comes. */
function connectTracked(url: string, opts: IClientOptions): { client: MqttClient; sessionPresent: Promise<boolean> } {
  const c = track(mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...opts }));
  const sessionPresent = new Promise<boolean>((resolve, reject) => {
    c.once('connect', (p) => resolve(p.sessionPresent));
    c.once('error', reject);
  });
  return { client: c, sessionPresent };
}

/** The retained messages a new subscriber to `filter` on `node` gets. */
async function retainedOn(node: LinkNode, filter: string): Promise<string[]> {
  const c = await client(node.url);
  const got = inbox(c);
  await c.subscribeAsync(filter, { qos: 1 });
  await new Promise((r) => setTimeout(r, 50));
  await c.endAsync();
  return got;
}

function same(got: string[], want: string[]): boolean {
  return JSON.stringify([...got].sort()) === JSON.stringify([...want].sort());
}
