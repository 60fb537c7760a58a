/**
 * Messages per second through 1, 2 and 3 clustered gateway nodes, against one node without a
 * cluster. Starts 3 nats-servers (routes, JetStream, loopback, free ports), then for each layout
 * the built gateway (`apps/gateway/dist`) as child processes, one config per node (log warn, no
 * $SYS traffic, anonymous allowed, no durable store), and runs junction-bench's fan-in with the
 * publishers on node 1 and the subscribers on the last node (for 3 nodes also spread over nodes
 * 2 and 3). Prints a table of the median subscriber-side msg/s of each layout and scenario.
 * Build first, then run from the repo root:
 *
 *   npx tsc -b apps/gateway/tsconfig.json
 *   node --conditions=@junction/source --import tsx packages/cluster/bench/cluster-nodes.ts \
 *     [--scenarios fanin_q0_16B,fanin_q1_16B] [--subs 2] [--rounds 1] [--duration 8] [--warmup 2] [--persistent] [--layouts 1,3] [--out FILE.jsonl]
 *
 * `--persistent`: the subscribers keep persistent sessions, so every QoS 1/2 message to another
 * node waits for that node's confirmation (see docs/cluster.md, Failure behaviour).
 *
 * Every layout uses the same number of subscribers (`--subs`, 2 by default, each on the wildcard
 * of all publishers: every message is delivered `subs` times), so the rows compare.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, startNatsCluster, type NatsCluster } from '@junction/test-servers';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const { values: opt } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'fanin_q0_16B,fanin_q1_16B' },
    subs: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    'start-delay': { type: 'string', default: '1' },
    persistent: { type: 'boolean', default: false },
    layouts: { type: 'string' },
    out: { type: 'string' },
  },
});
const scenarios = opt.scenarios.split(',').filter(Boolean);
const rounds = Number(opt.rounds);

/** A layout: how many gateway nodes, clustered or not, and which nodes the subscribers use. */
interface Layout {
  name: string;
  nodes: number;
  cluster: boolean;
  /** 0-based node indices the subscribers connect to, in turn (publishers are on node 0) */
  subNodes: number[];
}
const layouts: Layout[] = [
  { name: '1 node, no cluster', nodes: 1, cluster: false, subNodes: [0] },
  { name: '1 node', nodes: 1, cluster: true, subNodes: [0] },
  { name: '2 nodes: pub 1, sub 2', nodes: 2, cluster: true, subNodes: [1] },
  { name: '3 nodes: pub 1, sub 3', nodes: 3, cluster: true, subNodes: [2] },
  { name: '3 nodes: pub 1, sub 2+3', nodes: 3, cluster: true, subNodes: [1, 2] },
];

interface Gateway {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** `--layouts 1,3`: only those rows of the table (1-based), in that order. */
const chosen = opt.layouts ? opt.layouts.split(',').map((n) => layouts[Number(n) - 1]!).filter(Boolean) : layouts;

function gatewayConfig(name: string, port: number, dataDir: string, nats: NatsCluster | undefined, i: number): string {
  const lines = [
    `node: { name: ${name}, data_dir: "${dataDir}" }`,
    'log: { level: warn }',
    'sys_topics: { sys_msg_interval: 0, sys_heartbeat_interval: 0, sys_event_messages: { client_connected: false, client_disconnected: false } }',
    `listeners: { tcp: { default: { bind: "127.0.0.1:${port}" } } }`,
    'mqtt: { allow_anonymous: true }',
    'durable_sessions: { enable: false }',
    'dashboard: { listeners: { http: { enable: false } } }',
  ];
  if (nats) {
    // Node i prefers NATS server i (mod 3), as a deployment with one nats-server per machine.
    const urls = nats.urls.map((_, j) => nats.urls[(i + j) % nats.urls.length]!);
    lines.push(`cluster: { enable: true, servers: [${urls.map((u) => `"${u}"`).join(', ')}], randomize_servers: false, kv_replicas: 3 }`);
  }
  return `${lines.join('\n')}\n`;
}

async function untilListening(port: number, proc: ChildProcess, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

async function startGateway(root: string, name: string, nats: NatsCluster | undefined, i: number): Promise<Gateway> {
  const port = await freePort();
  const dataDir = join(root, name);
  const file = join(root, `${name}.yaml`);
  writeFileSync(file, gatewayConfig(name, port, dataDir, nats, i));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JUNCTION__')));
  const proc = spawn(process.execPath, ['apps/gateway/dist/main.js', 'start', '--config', file], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  };
  try {
    await untilListening(port, proc, name);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, proc, stop };
}

/** One junction-bench run in its own process; its JSON result. */
function bench(scenario: string, pubPort: number, subPorts: number[]): Promise<Record<string, unknown>> {
  const args = [
    '--import', 'tsx', 'tools/bench/src/cli.ts', 'run', scenario,
    '--port', String(pubPort), '--sub-port', subPorts.join(','), '--subs', opt.subs,
    '--start-delay', opt['start-delay'], '--duration', opt.duration, '--warmup', opt.warmup,
    ...(opt.persistent ? ['--persistent'] : []),
  ];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as Record<string, unknown>);
      } catch {
        reject(new Error(`junction-bench exited ${code} without a result: ${out}`));
      }
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const root = mkdtempSync(join(tmpdir(), 'junction-cluster-bench-'));
const nats = await startNatsCluster(3);
/** layout name -> scenario -> subscriber-side msg/s of each round */
const results = new Map<string, Map<string, number[]>>();
const notes: string[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    for (const layout of chosen) {
      const tag = `r${round}-${layout.nodes}${layout.cluster ? 'c' : 's'}${layout.subNodes.join('')}`;
      const gateways: Gateway[] = [];
      try {
        for (let i = 0; i < layout.nodes; i++) gateways.push(await startGateway(root, `gw-${i + 1}-${tag}`, layout.cluster ? nats : undefined, i));
        for (const scenario of scenarios) {
          process.stderr.write(`[cluster-nodes] round ${round}/${rounds}: ${layout.name}, ${scenario}\n`);
          const r = await bench(
            scenario,
            gateways[0]!.port,
            layout.subNodes.map((n) => gateways[n]!.port),
          );
          if (opt.out) appendFileSync(opt.out, `${JSON.stringify({ ...r, layout: layout.name, round })}\n`);
          const rate = Number(r.recv_rate ?? 0);
          if (!r.ok || Number(r.lost ?? 0) > 0) notes.push(`round ${round}, ${layout.name}, ${scenario}: ok=${String(r.ok)} error="${String(r.error)}" lost=${String(r.lost)}`);
          const byScenario = results.get(layout.name) ?? new Map<string, number[]>();
          results.set(layout.name, byScenario);
          byScenario.set(scenario, [...(byScenario.get(scenario) ?? []), rate]);
        }
      } finally {
        await Promise.all(gateways.map((g) => g.stop()));
      }
    }
  }
} finally {
  await nats.stop();
  rmSync(root, { recursive: true, force: true });
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const header = `| layout (${opt.subs} subscribers) | ${scenarios.map((s) => `${s} (msg/s)`).join(' | ')} |`;
const rows = chosen.map((l) => `| ${l.name} | ${scenarios.map((s) => fmt(median(results.get(l.name)?.get(s) ?? [0]))).join(' | ')} |`);
process.stdout.write(`${[header, `|---|${scenarios.map(() => '---:').join('|')}|`, ...rows].join('\n')}\n`);
process.stdout.write(`\nmedian of ${rounds} round(s); msg/s = messages received by all subscribers per second (junction-bench recv_rate)\n`);
if (notes.length) process.stdout.write(`\nincomplete runs:\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
