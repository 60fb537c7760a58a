import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRegistryEntry } from '@junction/cluster/testing';
import { eventually, startNatsCluster, type NatsCluster } from '@junction/test-servers';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flood } from './flood.js';
import { startGateway, type Running } from './run-gateway.js';

const BASE = 'log: { format: json }\nlisteners: { tcp: { default: { bind: "127.0.0.1:0" } } }\nsys_topics: { sys_msg_interval: 0, sys_heartbeat_interval: 0 }\n';

/** A gateway child process in the cluster, preferring NATS server `i`; dead nodes are noticed
 * after 1.5 s of silence. */
function node(nats: NatsCluster, name: string, i: number, dataDir?: string, extra = ''): Promise<Running> {
  const servers = [nats.urls[i]!, ...nats.urls.filter((_, j) => j !== i)].map((u) => `"${u}"`).join(', ');
  const config = `${BASE}${extra}cluster: { enable: true, servers: [${servers}], kv_replicas: 3, randomize_servers: false, heartbeat_interval: 300ms, node_timeout: 1500ms }\n`;
  return startGateway(config, { JUNCTION__NODE__NAME: name }, { dataDir });
}

const url = (gw: Running) => `mqtt://127.0.0.1:${gw.port}`;
const messages = (c: MqttClient) => {
  const got: string[] = [];
  c.on('message', (t, p) => {
    if (p.toString() !== 'probe') got.push(`${t} ${p.toString()}`);
  });
  return got;
};

let nats: NatsCluster;
beforeAll(async () => {
  nats = await startNatsCluster(3);
}, 30_000);
afterAll(async () => {
  await nats?.stop();
});

describe('gateway cluster (child processes over 3 NATS servers)', () => {
  it('kill -9 of a node: its clients’ wills are published once, a persistent session resumes on another node, the restarted node drops it', async () => {
    const dataDirA = mkdtempSync(join(tmpdir(), 'junction-cluster-a-'));
    const [a, b, c] = await Promise.all([node(nats, 'gw-a', 0, dataDirA), node(nats, 'gw-b', 1), node(nats, 'gw-c', 2)]);
    let restarted: Running | undefined;
    const clients: MqttClient[] = [];
    const connect = async (gw: Running, opts: IClientOptions) => {
      const cl = await mqtt.connectAsync(url(gw), { protocolVersion: 5, reconnectPeriod: 0, ...opts });
      clients.push(cl);
      return cl;
    };
    /** Publish probes from `pub` until `seen` shows one on `topic`. */
    const routed = (pub: MqttClient, topic: string, sub: MqttClient) => {
      let ok = false;
      sub.on('message', (t, p) => (ok ||= t === topic && p.toString() === 'probe'));
      return eventually(
        async () => {
          await pub.publishAsync(topic, 'probe', { qos: 1 });
          await new Promise((r) => setTimeout(r, 50));
          return ok;
        },
        10_000,
        `a route for ${topic}`,
      );
    };
    try {
      // On A: a persistent device with a will, and a clean one with a will that never comes back.
      const opts = { clientId: 'field-1', clean: false, properties: { sessionExpiryInterval: 600 }, will: { topic: 'wills/field-1', payload: Buffer.from('gone'), qos: 1 as const, retain: false } };
      const dev = await connect(a, opts);
      await dev.subscribeAsync('fleet/#', { qos: 1 });
      await connect(a, { clientId: 'field-2', will: { topic: 'wills/field-2', payload: Buffer.from('gone'), qos: 1, retain: false } });
      // Will watchers on B and C; every route the test relies on is up before the kill.
      const watchB = await connect(b, { clientId: 'watch-b' });
      const watchC = await connect(c, { clientId: 'watch-c' });
      for (const w of [watchB, watchC]) await w.subscribeAsync('wills/#', { qos: 1 });
      const [willsB, willsC] = [messages(watchB), messages(watchC)];
      const pub = await connect(b, { clientId: 'fleet-pub' });
      await routed(pub, 'fleet/probe', dev);
      await routed(pub, 'wills/probe', watchC);
      await routed(watchC, 'wills/probe', watchB);

      a.child.kill('SIGKILL');
      await a.exit;

      // field-1 reconnects to B: the session is there, subscribed, without subscribing again.
      const again = mqtt.connect(url(b), { protocolVersion: 5, reconnectPeriod: 0, ...opts });
      clients.push(again);
      const present = await new Promise<boolean>((resolve, reject) => {
        again.once('connect', (p) => resolve(p.sessionPresent));
        again.once('error', reject);
      });
      expect(present).toBe(true);
      const after = messages(again);
      await pub.publishAsync('fleet/cmd', 'after the crash', { qos: 1 });
      await eventually(() => after.includes('fleet/cmd after the crash'), 5000, 'delivery on the new node');

      // Both wills: field-1's by B when it took the client over, field-2's by one survivor once
      // A was silent for node_timeout; each watcher gets each will once, not once per survivor.
      const both = ['wills/field-1 gone', 'wills/field-2 gone'];
      await eventually(() => both.every((w) => willsB.includes(w) && willsC.includes(w)), 10_000, 'both wills on B and C');
      await new Promise((r) => setTimeout(r, 1000));
      expect(willsB.sort()).toEqual(both);
      expect(willsC.sort()).toEqual(both);

      // Node A comes back with its durable store: the session it restores moved to B meanwhile,
      // so A drops it instead of holding a second copy.
      restarted = await node(nats, 'gw-a', 0, dataDirA);
      expect(restarted.lines.find((l) => l.msg === 'cluster_restored_sessions_checked')).toMatchObject({ sessions: 1, dropped: 1 });
      const pubA = await connect(restarted, { clientId: 'fleet-pub-a' });
      await routed(pubA, 'fleet/from-a', again);
      after.length = 0;
      await pubA.publishAsync('fleet/once', 'exactly once', { qos: 1 });
      await pub.publishAsync('fleet/marker', 'end', { qos: 1 });
      await eventually(() => after.includes('fleet/marker end') && after.includes('fleet/once exactly once'), 5000, 'both messages');
      expect(after.filter((m) => m === 'fleet/once exactly once')).toHaveLength(1);
    } finally {
      await Promise.allSettled(clients.map((cl) => cl.endAsync(true)));
      for (const gw of [restarted, b, c]) gw?.child.kill('SIGTERM');
      await Promise.all([restarted, b, c].map((gw) => gw?.exit));
      rmSync(dataDirA, { recursive: true, force: true });
    }
  }, 60_000);
});

/** QoS 1 messages `{tag}:{n}` on `topic` as fast as PUBACKs come; each acknowledged `n` in `acked`. */
const load = (gw: Running, tag: string, topic: string, acked: number[]) =>
  flood(url(gw), { clientId: `flood-${tag}`, topic, qos: 1, prefix: `${tag}:`, onAck: (n) => acked.push(n) });

describe('gateway cluster: kill -9 under load with persistent sessions', () => {
  it('the restarted node hands every acknowledged message it kept to the node that took the session over', async () => {
    const dataDirA = mkdtempSync(join(tmpdir(), 'junction-cluster-load-a-'));
    const extra = 'mqtt: { max_mqueue_len: 1000000 }\n';
    const [a, b] = await Promise.all([node(nats, 'load-a', 0, dataDirA, extra), node(nats, 'load-b', 1, undefined, extra)]);
    let restarted: Running | undefined;
    const loads: { stop: () => void }[] = [];
    const clients: MqttClient[] = [];
    const persistent = (clientId: string, clean = false) => ({ protocolVersion: 5 as const, clientId, clean, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 0 });
    try {
      // Two persistent subscribers on A, then offline: `keeper` will resume its session on B,
      // `fresh` will start a new one there (clean start), which must not get the old messages.
      for (const id of ['keeper', 'fresh']) {
        const sub = await mqtt.connectAsync(url(a), persistent(id));
        await sub.subscribeAsync('load/#', { qos: 1 });
        await sub.endAsync();
      }
      // Two publishers on A, QoS 1, each message PUBACKed once A's store has it; kill -9 mid-flow.
      const acked: Record<string, number[]> = { p1: [], p2: [] };
      loads.push(load(a, 'p1', 'load/p1', acked.p1!), load(a, 'p2', 'load/p2', acked.p2!));
      await eventually(() => acked.p1!.length >= 150 && acked.p2!.length >= 150, 15_000, 'load acknowledged on A');
      a.child.kill('SIGKILL');
      await a.exit;
      for (const l of loads) l.stop();

      // `keeper` resumes on B from the registry's record; `fresh` starts clean on B.
      const got: string[] = [];
      const keeper = mqtt.connect(url(b), persistent('keeper'));
      clients.push(keeper);
      keeper.on('message', (_t, p) => got.push(p.toString()));
      const present = await new Promise<boolean>((resolve, reject) => {
        keeper.once('connect', (p) => resolve(p.sessionPresent));
        keeper.once('error', reject);
      });
      expect(present).toBe(true);
      const fresh = await mqtt.connectAsync(url(b), persistent('fresh', true));
      clients.push(fresh);
      const stale: string[] = [];
      fresh.on('message', (_t, p) => stale.push(p.toString()));
      expect(got).toEqual([]);

      // A comes back with its store and hands keeper's messages to B, which delivers them.
      restarted = await node(nats, 'load-a', 0, dataDirA, extra);
      expect(restarted.lines.find((l) => l.msg === 'cluster_restored_sessions_checked')).toMatchObject({ sessions: 2, handedBack: 1, dropped: 1 });
      const missing = () => {
        const seen = new Set(got);
        return Object.entries(acked).flatMap(([tag, ids]) => ids.map((id) => `${tag}:${id}`).filter((m) => !seen.has(m)));
      };
      await eventually(() => missing().length === 0, 15_000, 'every acknowledged message on B');
      expect(missing()).toEqual([]);
      // In order per publisher (a QoS 1 duplicate may follow a first delivery).
      for (const tag of Object.keys(acked)) {
        const firsts = [...new Set(got.filter((m) => m.startsWith(`${tag}:`)))].map((m) => Number(m.slice(tag.length + 1)));
        expect(firsts).toEqual([...firsts].sort((x, y) => x - y));
      }
      expect(stale).toEqual([]);
      expect(b.lines.filter((l) => l.msg === 'cluster_messages_taken_in' && l.held === true).reduce((n, l) => n + Number(l.messages), 0)).toBeGreaterThanOrEqual(
        acked.p1!.length + acked.p2!.length,
      );
    } finally {
      for (const l of loads) l.stop();
      await Promise.allSettled(clients.map((cl) => cl.endAsync(true)));
      for (const gw of [restarted, b]) gw?.child.kill('SIGTERM');
      await Promise.all([restarted, b].map((gw) => gw?.exit));
      rmSync(dataDirA, { recursive: true, force: true });
    }
  }, 60_000);
});

/** A node's cluster and warning log lines, for a failure message. */
function told(gw: Running | undefined, name: string): string[] {
  return (gw?.lines ?? []).filter((l) => String(l.msg).startsWith('cluster_') || Number(l.level) >= 40).map((l) => `${name} ${JSON.stringify(l)}`);
}

describe('gateway cluster: kill -9 of the node holding a persistent subscriber, publishers elsewhere', () => {
  it('loses no acknowledged message: parked while the session has no node, handed back when the node returns', async () => {
    const dataDirA = mkdtempSync(join(tmpdir(), 'junction-cluster-park-a-'));
    const extra = 'mqtt: { max_mqueue_len: 1000000 }\n';
    const [a, b, c] = await Promise.all([node(nats, 'park-a', 0, dataDirA, extra), node(nats, 'park-b', 1, undefined, extra), node(nats, 'park-c', 2, undefined, extra)]);
    let restarted: Running | undefined;
    const loads: { stop: () => void }[] = [];
    const clients: MqttClient[] = [];
    const opts = { protocolVersion: 5 as const, clientId: 'mover', clean: false, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 0 };
    const got: string[] = [];
    try {
      // The subscriber is connected to A; the publishers are on B.
      const sub = await mqtt.connectAsync(url(a), opts);
      clients.push(sub);
      sub.on('message', (_t, p) => got.push(p.toString()));
      await sub.subscribeAsync('park/#', { qos: 1 });
      // The SUBACK came once the registry held the subscription (the other nodes learn of the
      // persistent session from there); a registry write that failed is retried.
      await eventually(
        async () => (await readRegistryEntry(nats.urls, 'mover'))?.session?.subscriptions.some((s) => s.filter === 'park/#') === true,
        15_000,
        'the subscription in the registry',
      ).catch(async (err: Error) => {
        const entry = await readRegistryEntry(nats.urls, 'mover').catch((e: unknown) => String(e));
        throw new Error([err.message, `registry entry: ${JSON.stringify(entry)}`, ...told(a, 'A')].slice(0, 60).join('\n'));
      });
      const probe = await mqtt.connectAsync(url(b), { protocolVersion: 5, clientId: 'park-probe', reconnectPeriod: 0 });
      clients.push(probe);
      await eventually(
        async () => {
          await probe.publishAsync('park/probe', 'probe', { qos: 1 });
          await new Promise((r) => setTimeout(r, 50));
          return got.includes('probe');
        },
        10_000,
        'a route from B to A',
      );
      const acked: Record<string, number[]> = { q1: [], q2: [] };
      loads.push(load(b, 'q1', 'park/q1', acked.q1!), load(b, 'q2', 'park/q2', acked.q2!));
      await eventually(() => acked.q1!.length >= 100 && acked.q2!.length >= 100, 15_000, 'load acknowledged through A');
      a.child.kill('SIGKILL');
      await a.exit;
      // The session has no node now: what B's publishers send meanwhile is parked, and
      // acknowledged once parked.
      const atKill = acked.q1!.length + acked.q2!.length;
      await eventually(() => acked.q1!.length + acked.q2!.length >= atKill + 200, 15_000, 'messages acknowledged while A is dead');

      // The subscriber resumes on C from the registry's record, with what was parked.
      const moved = mqtt.connect(url(c), opts);
      clients.push(moved);
      moved.on('message', (_t, p) => got.push(p.toString()));
      const present = new Promise<boolean>((resolve, reject) => {
        moved.once('connect', (p) => resolve(p.sessionPresent));
        moved.once('error', reject);
      });
      expect(await present).toBe(true);
      const atResume = acked.q1!.length + acked.q2!.length;
      await eventually(() => acked.q1!.length + acked.q2!.length >= atResume + 100, 15_000, 'messages acknowledged after the resume');
      for (const l of loads) l.stop();

      // A comes back with what it had stored (and acknowledged) and hands it to C.
      restarted = await node(nats, 'park-a', 0, dataDirA, extra);
      const missing = () => {
        const seen = new Set(got);
        return Object.entries(acked).flatMap(([tag, ids]) => ids.map((id) => `${tag}:${id}`).filter((m) => !seen.has(m)));
      };
      // On a timeout the assertion below names what is missing, with what the nodes logged.
      await eventually(() => missing().length === 0, 20_000, 'every acknowledged message at the subscriber').catch(() => {});
      const diagnosis = () =>
        [`subscriber connected: ${moved.connected}, received ${got.length}, last ${got.slice(-3).join(' ')}`, ...told(b, 'B'), ...told(c, 'C'), ...told(restarted, 'A')].slice(0, 60).join('\n');
      expect(missing(), diagnosis()).toEqual([]);
      expect(b.lines.some((l) => l.msg === 'cluster_confirm_timeout' && l.node === 'park-a')).toBe(true);
      expect(c.lines.some((l) => l.msg === 'cluster_parked_taken')).toBe(true);
    } finally {
      for (const l of loads) l.stop();
      await Promise.allSettled(clients.map((cl) => cl.endAsync(true)));
      for (const gw of [restarted, b, c]) gw?.child.kill('SIGTERM');
      await Promise.all([restarted, b, c].map((gw) => gw?.exit));
      rmSync(dataDirA, { recursive: true, force: true });
    }
  }, 90_000);
});
