import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { eventually } from '@junction/test-servers';
import mqtt, { type IClientOptions, type IDisconnectPacket, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { tmpFile } from './helpers.js';
import { startGatewayProcess, type Running } from './workers-process.js';

/** One gateway with 2 workers (real child processes); debug logs say which worker each client is on. */
const CONFIG = [
  'log: { format: json, level: debug }',
  'durable_sessions: { enable: false }',
  'mqtt: { allow_anonymous: true }',
  'listeners: { tcp: { default: { bind: "127.0.0.1:0" } }, ws: { default: { bind: "127.0.0.1:0" } } }',
  'sys_topics: { sys_msg_interval: 0, sys_heartbeat_interval: 0 }',
  '',
].join('\n');

let gw: Running;
let dataDir: string;
let url: string;
const clients: MqttClient[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'junction-workers-'));
  gw = await startGatewayProcess(CONFIG, { JUNCTION__NODE__WORKERS: '2' }, dataDir);
  url = `mqtt://127.0.0.1:${gw.port}`;
}, 60_000);

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.endAsync(true)));
});

afterAll(() => {
  gw?.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const lines = (msg: string) => gw.lines.filter((l) => l.msg === msg);

/** Connect; resolve with the client and the worker (1 or 2) whose broker accepted it. */
async function connect(clientId: string, opts: IClientOptions = {}): Promise<{ c: MqttClient; worker: number; sessionPresent: boolean }> {
  const before = lines('client_connected').filter((l) => l.clientId === clientId).length;
  const c = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, clientId, ...opts });
  clients.push(c);
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  await eventually(() => lines('client_connected').filter((l) => l.clientId === clientId).length > before, 5000, `the log of ${clientId}`);
  const mine = lines('client_connected').filter((l) => l.clientId === clientId);
  return { c, worker: mine[mine.length - 1]!.worker as number, sessionPresent: connack.sessionPresent };
}

/** Open connections until one lands on `worker` (round robin spreads them); close the others. */
async function connectOn(worker: number, prefix: string, opts: IClientOptions = {}): Promise<MqttClient> {
  for (let i = 0; i < 8; i++) {
    const r = await connect(`${prefix}-${i}`, opts);
    if (r.worker === worker) return r.c;
    await r.c.endAsync();
  }
  throw new Error(`no connection landed on worker ${worker}`);
}

function inbox(c: MqttClient): string[] {
  const got: string[] = [];
  c.on('message', (t, p) => {
    if (p.toString() !== 'probe') got.push(`${t} ${p.toString()}`);
  });
  return got;
}

/** A subscription reaches the other worker through the primary: probe until it is routed. */
async function untilRouted(pub: MqttClient, topic: string, subs: MqttClient[]): Promise<void> {
  const seen = new Set<MqttClient>();
  for (const s of subs) s.on('message', (t, p) => t === topic && p.toString() === 'probe' && seen.add(s));
  await eventually(
    async () => {
      await pub.publishAsync(topic, 'probe', { qos: 0 });
      await new Promise((r) => setTimeout(r, 20));
      return seen.size === subs.length;
    },
    5000,
    `a route for ${topic}`,
  );
}

describe('node.workers: 2 (gateway child processes)', () => {
  it('shares one port between two workers and routes between them, once each', async () => {
    const [s1, s2] = [await connectOn(1, 'sub-one'), await connectOn(2, 'sub-two')];
    const [p1, p2] = [await connectOn(1, 'pub-one'), await connectOn(2, 'pub-two')];
    await s1.subscribeAsync(['cross/#', 'cross/+'], { qos: 1 });
    await s2.subscribeAsync('cross/#', { qos: 1 });
    const got = [inbox(s1), inbox(s2)];
    await untilRouted(p1, 'cross/probe', [s1, s2]);
    await untilRouted(p2, 'cross/probe', [s1, s2]);
    for (let i = 0; i < 5; i++) {
      await p1.publishAsync(`cross/${i}`, `from 1 #${i}`, { qos: 1 });
      await p2.publishAsync(`cross/${i}`, `from 2 #${i}`, { qos: 0 });
    }
    await eventually(() => got.every((g) => g.length >= 10), 5000, 'every message on both subscribers');
    await new Promise((r) => setTimeout(r, 100));
    for (const g of got) expect([...g].sort()).toEqual(Array.from({ length: 5 }, (_, i) => [`cross/${i} from 1 #${i}`, `cross/${i} from 2 #${i}`]).flat().sort());
  });

  it('shares the WebSocket port too: a WebSocket subscriber gets publishes from both workers', async () => {
    const started = lines('gateway_started')[0]!.listeners as { type: string; port: number }[];
    const wsPort = started.find((l) => l.type === 'ws')!.port;
    // Every worker bound the same port (node:cluster shares port 0's first pick).
    const bound = lines('listener_started').filter((l) => l.adapter === 'listeners.ws');
    expect(new Set(bound.map((l) => l.worker))).toEqual(new Set([1, 2]));
    expect(new Set(bound.map((l) => l.port))).toEqual(new Set([wsPort]));
    const ws = mqtt.connect(`ws://127.0.0.1:${wsPort}/mqtt`, { protocolVersion: 5, reconnectPeriod: 0, clientId: 'ws-sub' });
    clients.push(ws);
    await new Promise((r) => ws.once('connect', r));
    await ws.subscribeAsync('ws/#', { qos: 1 });
    const got = inbox(ws);
    const pubs = [await connectOn(1, 'ws-pub-one'), await connectOn(2, 'ws-pub-two')];
    for (const p of pubs) await untilRouted(p, 'ws/probe', [ws]);
    await pubs[0]!.publishAsync('ws/1', 'one', { qos: 1 });
    await pubs[1]!.publishAsync('ws/2', 'two', { qos: 1 });
    await eventually(() => got.length >= 2, 5000, 'both messages over WebSocket');
    expect([...got].sort()).toEqual(['ws/1 one', 'ws/2 two']);
  });

  it('gives each message of a shared subscription to one member, on either worker', async () => {
    const members = [await connectOn(1, 'share-a'), await connectOn(1, 'share-b'), await connectOn(2, 'share-c'), await connectOn(2, 'share-d')];
    for (const m of members) await m.subscribeAsync('$share/g/jobs/#', { qos: 1 });
    const got = members.map(inbox);
    const pub = await connectOn(1, 'share-pub');
    await new Promise((r) => setTimeout(r, 200));
    const n = 40;
    for (let i = 0; i < n; i++) await pub.publishAsync(`jobs/${i}`, `job ${i}`, { qos: 1 });
    await eventually(() => got.flat().length >= n, 5000, 'every job');
    await new Promise((r) => setTimeout(r, 200));
    expect(got.flat().sort()).toEqual(Array.from({ length: n }, (_, i) => `jobs/${i} job ${i}`).sort());
    expect(got[0]!.length + got[1]!.length).toBeGreaterThan(0);
    expect(got[2]!.length + got[3]!.length).toBeGreaterThan(0);
  });

  it('takes a client id over from the other worker: DISCONNECT 0x8E there, the session moves', async () => {
    const opts = { clean: false, properties: { sessionExpiryInterval: 300 } };
    let prev = await connect('roamer', opts);
    await prev.c.subscribeAsync('roam/#', { qos: 1 });
    // Connect the same client id again until a connection lands on the other worker.
    for (let attempt = 0; attempt < 6; attempt++) {
      const reason = new Promise<number | undefined>((r) => prev.c.once('disconnect', (p: IDisconnectPacket) => r(p.reasonCode)));
      const next = await connect('roamer', opts);
      expect(await reason).toBe(0x8e);
      expect(next.sessionPresent).toBe(true);
      if (next.worker !== prev.worker) {
        const got = inbox(next.c);
        const pub = await connectOn(prev.worker, 'roam-pub');
        await untilRouted(pub, 'roam/probe', [next.c]);
        await pub.publishAsync('roam/x', 'moved', { qos: 1 });
        await eventually(() => got.includes('roam/x moved'), 5000, 'a message for the moved session');
        return;
      }
      prev = next;
    }
    throw new Error('the client id never landed on the other worker');
  });

  it('shows a retained message published on one worker to subscribers on the other', async () => {
    const pub = await connectOn(1, 'ret-pub');
    await pub.publishAsync('ret/door', 'open', { qos: 1, retain: true });
    const sub = await connectOn(2, 'ret-sub');
    const got = inbox(sub);
    await eventually(
      async () => {
        await sub.unsubscribeAsync('ret/#');
        await sub.subscribeAsync('ret/#', { qos: 1 });
        await new Promise((r) => setTimeout(r, 50));
        return got.includes('ret/door open');
      },
      5000,
      'the retained message on worker 2',
    );
  });

  it('restarts a killed worker; its clients’ wills are published once, and clients reconnect', async () => {
    const pidOf = (w: number) => lines('worker_ready').filter((l) => l.worker === w).at(-1)!.workerPid as number;
    const readyBefore = lines('worker_ready').length;
    const watcher = await connectOn(1, 'will-watch');
    await watcher.subscribeAsync('will/#', { qos: 1 });
    const wills = inbox(watcher);
    const doomed = await connectOn(2, 'will-doomed', { will: { topic: 'will/doomed', payload: Buffer.from('gone'), qos: 1, retain: false } });
    doomed.on('error', () => {});
    await new Promise((r) => setTimeout(r, 100));
    const old = pidOf(2);
    process.kill(old, 'SIGKILL');
    await eventually(() => wills.length >= 1, 10_000, 'the will of the dead worker’s client');
    await eventually(() => lines('worker_ready').length > readyBefore, 30_000, 'worker 2 restarted');
    expect(pidOf(2)).not.toBe(old);
    expect(lines('worker_died').map((l) => l.worker)).toEqual([2]);
    // Clients on the new worker 2 and on worker 1 talk to each other.
    const s = await connectOn(2, 'after-sub');
    await s.subscribeAsync('after/#', { qos: 1 });
    const got = inbox(s);
    const p = await connectOn(1, 'after-pub');
    await untilRouted(p, 'after/probe', [s]);
    await p.publishAsync('after/x', 'hello', { qos: 1 });
    await eventually(() => got.includes('after/x hello'), 5000, 'delivery through the restarted worker');
    expect(wills).toEqual(['will/doomed gone']);
  }, 60_000);

  it('stops every worker on SIGTERM and exits 0', async () => {
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);
    expect(lines('gateway_stopped')).toHaveLength(1);
    expect(lines('worker_stopped').map((l) => l.worker).sort()).toEqual([1, 2]);
  }, 40_000);
});

describe('node.workers config checks', () => {
  const check = async (yaml: string) => {
    const out = new PassThrough();
    const err = new PassThrough();
    let stderr = '';
    err.on('data', (d) => (stderr += d));
    const code = await runCli(['check-config', '--config', tmpFile(yaml)], { stdout: out, stderr: err, env: {} });
    return { code, stderr };
  };

  it('refuses workers with the durable store, naming node.workers', async () => {
    const r = await check('node: { workers: 2 }\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config error at node.workers: 2 workers need durable_sessions.enable: false');
  });

  it('refuses workers with NATS clustering', async () => {
    const r = await check('node: { workers: 2 }\ndurable_sessions: { enable: false }\ncluster: { enable: true }\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config error at node.workers: workers cannot be combined with cluster.enable');
  });

  it('accepts auto, 0 and 1', async () => {
    expect((await check('node: { workers: 1 }\n')).code).toBe(0);
    expect((await check('node: { workers: 0 }\n')).code).toBe(0);
    expect((await check('node: { workers: auto }\ndurable_sessions: { enable: false }\n')).code).toBe(0);
  });
});
