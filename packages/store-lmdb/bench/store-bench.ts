/**
 * Durable store benchmark: the write pattern of QoS 1 to persistent sessions.
 *
 *   node --conditions=@junction/source --import tsx packages/store-lmdb/bench/store-bench.ts \
 *     [--messages 100000] [--sessions 100] [--window 1000] [--batch-ms 2] [--repeat 3]
 *     [--dir /tmp] [--only lmdb]
 *
 * For each message: `enqueue` to one of the sessions (round robin) and wait until it is durable
 * (the broker's PUBACK point: its time is the "commit latency"), then `markInflight` and
 * `complete` (the subscriber's PUBACK), issued together. `--window` messages are in progress at
 * any time (many publishers waiting for their PUBACK), so writes group-commit.
 *
 * Stores compared, all on the same write pattern and the same encoded values:
 * - LMDB, this package, in both durability modes (`flush`: fsync before resolving; `commit`:
 *   resolved at commit, survives kill -9, flushed right after);
 * - better-sqlite3 in WAL mode, writes queued and committed in one transaction every
 *   `--batch-ms`, with synchronous=NORMAL (no fsync per commit: like LMDB `commit`) and
 *   synchronous=FULL (fsync per commit: like LMDB `flush`);
 * - the in-memory store of the broker core, as the ceiling.
 *
 * Not a test: figures depend on the machine and its disk.
 */
import { MemorySessionStore, type Message, type SessionStore, type StoredDelivery } from '@junction/broker-core';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { encodeDelivery } from '../src/codec.js';
import { openLmdbStores, type LmdbStores } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    sessions: { type: 'string', default: '100' },
    window: { type: 'string', default: '1000' },
    'batch-ms': { type: 'string', default: '2' },
    dir: { type: 'string', default: tmpdir() },
    /** Only the variants whose name contains this text. */
    only: { type: 'string', default: '' },
    /** Runs of each case, interleaved; the table shows medians (the machine may be shared). */
    repeat: { type: 'string', default: '3' },
  },
});
const MESSAGES = Number(args.messages);
const SESSIONS = Number(args.sessions);
const WINDOW = Number(args.window);
const BATCH_MS = Number(args['batch-ms']);
const REPEAT = Number(args.repeat);

/** The part of the session store the write pattern uses. */
type Writer = Pick<SessionStore, 'enqueue' | 'markInflight' | 'complete' | 'put'>;

interface Variant {
  name: string;
  open(dir: string): Promise<{ store: Writer; close(): Promise<void> }>;
}

/**
 * The same write pattern on better-sqlite3: the same keys (client, seq) and (client, packet id),
 * the same encoded values, an in-memory index for sequence numbers and packet ids as in the LMDB
 * store. Writes are queued and committed together every `batchMs` milliseconds; each promise
 * resolves after the commit of its transaction. SQLite runs on the main thread: the event loop is
 * blocked while a transaction commits.
 */
class SqliteWriter implements Writer {
  readonly #db: Database.Database;
  readonly #insertDelivery: Database.Statement;
  readonly #deleteDelivery: Database.Statement;
  readonly #putInflight: Database.Statement;
  readonly #deleteInflight: Database.Statement;
  readonly #putSession: Database.Statement;
  readonly #batch: Database.Transaction<(ops: (() => void)[]) => void>;
  #ops: (() => void)[] = [];
  #waiters: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #seq = 1;
  readonly #inflight = new Map<string, Map<number, number>>();

  constructor(
    file: string,
    synchronous: 'NORMAL' | 'FULL',
    readonly batchMs: number,
  ) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${synchronous}`);
    this.#db.exec(`
      CREATE TABLE sessions (client TEXT PRIMARY KEY, record BLOB) WITHOUT ROWID;
      CREATE TABLE deliveries (client TEXT, seq INTEGER, body BLOB, PRIMARY KEY (client, seq)) WITHOUT ROWID;
      CREATE TABLE inflight (client TEXT, packet_id INTEGER, seq INTEGER, released INTEGER, PRIMARY KEY (client, packet_id)) WITHOUT ROWID;
    `);
    this.#insertDelivery = this.#db.prepare('INSERT INTO deliveries (client, seq, body) VALUES (?, ?, ?)');
    this.#deleteDelivery = this.#db.prepare('DELETE FROM deliveries WHERE client = ? AND seq = ?');
    this.#putInflight = this.#db.prepare('INSERT OR REPLACE INTO inflight (client, packet_id, seq, released) VALUES (?, ?, ?, 0)');
    this.#deleteInflight = this.#db.prepare('DELETE FROM inflight WHERE client = ? AND packet_id = ?');
    this.#putSession = this.#db.prepare('INSERT OR REPLACE INTO sessions (client, record) VALUES (?, ?)');
    this.#batch = this.#db.transaction((ops: (() => void)[]) => {
      for (const op of ops) op();
    });
  }

  #queue(op: () => void): Promise<void> {
    this.#ops.push(op);
    this.#timer ??= setTimeout(() => this.#commit(), this.batchMs);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #commit(): void {
    this.#timer = undefined;
    const ops = this.#ops;
    const waiters = this.#waiters;
    this.#ops = [];
    this.#waiters = [];
    this.#batch(ops);
    for (const w of waiters) w();
  }

  async put(s: { clientId: string }): Promise<void> {
    const record = Buffer.from(JSON.stringify(s));
    return this.#queue(() => this.#putSession.run(s.clientId, record));
  }

  async enqueue(clientId: string, d: Omit<StoredDelivery, 'seq'>): Promise<number> {
    const seq = this.#seq++;
    const body = encodeDelivery(d);
    await this.#queue(() => this.#insertDelivery.run(clientId, seq, body));
    return seq;
  }

  async markInflight(clientId: string, seq: number, packetId: number): Promise<void> {
    let m = this.#inflight.get(clientId);
    if (m === undefined) this.#inflight.set(clientId, (m = new Map()));
    m.set(packetId, seq);
    return this.#queue(() => this.#putInflight.run(clientId, packetId, seq));
  }

  async complete(clientId: string, packetId: number): Promise<boolean> {
    const m = this.#inflight.get(clientId);
    const seq = m?.get(packetId);
    if (seq === undefined) return false;
    m!.delete(packetId);
    await this.#queue(() => {
      this.#deleteInflight.run(clientId, packetId);
      this.#deleteDelivery.run(clientId, seq);
    });
    return true;
  }

  async close(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#commit();
    }
    this.#db.close();
  }
}

const variants: Variant[] = [
  {
    name: 'lmdb, durability flush',
    async open(dir) {
      const stores: LmdbStores = await openLmdbStores({ path: dir, durability: 'flush' });
      return { store: stores.sessions, close: () => stores.close() };
    },
  },
  {
    name: 'lmdb, durability commit',
    async open(dir) {
      const stores = await openLmdbStores({ path: dir, durability: 'commit' });
      return { store: stores.sessions, close: () => stores.close() };
    },
  },
  {
    name: 'sqlite WAL, synchronous=FULL',
    async open(dir) {
      const w = new SqliteWriter(join(dir, 'bench.sqlite'), 'FULL', BATCH_MS);
      return { store: w, close: () => w.close() };
    },
  },
  {
    name: 'sqlite WAL, synchronous=NORMAL',
    async open(dir) {
      const w = new SqliteWriter(join(dir, 'bench.sqlite'), 'NORMAL', BATCH_MS);
      return { store: w, close: () => w.close() };
    },
  },
  {
    name: 'memory (MemorySessionStore)',
    async open() {
      const store = new MemorySessionStore();
      return { store, close: () => store.close() };
    },
  },
];

interface Result {
  variant: string;
  payload: number;
  msgsPerSec: number;
  p50: number;
  p99: number;
  max: number;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function run(variant: Variant, payloadSize: number): Promise<Result> {
  const dir = mkdtempSync(join(args.dir!, 'junction-bench-'));
  const { store, close } = await variant.open(dir);
  const clients = Array.from({ length: SESSIONS }, (_, i) => `bench-client-${i}`);
  for (const clientId of clients) await store.put({ clientId, expiryInterval: 3600, subscriptions: [{ filter: 'bench/#', qos: 1 }] });
  const payload = Buffer.alloc(payloadSize, 0x61);
  const from = { clientId: 'bench-publisher', protocol: 'mqtt', node: 'junction@bench' };
  const packetIds = new Uint16Array(SESSIONS);
  const latencies = new Float64Array(MESSAGES);

  let next = 0;
  async function worker(): Promise<void> {
    while (next < MESSAGES) {
      const i = next++;
      const c = i % SESSIONS;
      const clientId = clients[c]!;
      const message: Message = { topic: `bench/${c}`, payload, qos: 1, retain: false, from, timestamp: Date.now() };
      const t0 = performance.now();
      const seq = await store.enqueue(clientId, { message, qos: 1, retain: false });
      latencies[i] = performance.now() - t0;
      const packetId = (packetIds[c] = (packetIds[c]! % 65535) + 1);
      void store.markInflight(clientId, seq, packetId);
      if (!(await store.complete(clientId, packetId))) throw new Error(`delivery ${seq} of ${clientId} not found`);
    }
  }

  const start = performance.now();
  await Promise.all(Array.from({ length: WINDOW }, worker));
  const elapsed = (performance.now() - start) / 1000;
  await close();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort();
  return {
    variant: variant.name,
    payload: payloadSize,
    msgsPerSec: MESSAGES / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies[latencies.length - 1]!,
  };
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

console.log(
  `store-bench: ${MESSAGES} QoS 1 deliveries to ${SESSIONS} sessions, ${WINDOW} in progress, ` +
    `sqlite batch every ${BATCH_MS} ms, median of ${REPEAT} runs; node ${process.version}, ${cpus().length} CPU, dir ${args.dir}`,
);
const chosen = variants.filter((x) => x.name.includes(args.only!));
const runs = new Map<string, Result[]>();
for (let round = 0; round < REPEAT; round++) {
  for (const payloadSize of [16, 1024]) {
    for (const v of chosen) {
      const r = await run(v, payloadSize);
      const key = `${payloadSize} ${v.name}`;
      runs.set(key, [...(runs.get(key) ?? []), r]);
      console.error(`  run ${round + 1}/${REPEAT}: ${v.name}, ${payloadSize} B: ${Math.round(r.msgsPerSec)} msgs/s, p99 ${r.p99.toFixed(2)} ms`);
    }
  }
}

console.log('');
console.log(`| ${pad('store', 30)} | payload | ${pad('msgs/s', 8, true)} | commit p50 ms | commit p99 ms | commit max ms |`);
console.log(`| ${'-'.repeat(30)} | ------- | -------: | ------------: | ------------: | ------------: |`);
for (const rs of runs.values()) {
  const r = rs[0]!;
  console.log(
    `| ${pad(r.variant, 30)} | ${pad(r.payload === 1024 ? '1 KiB' : `${r.payload} B`, 7)} | ${pad(Math.round(median(rs.map((x) => x.msgsPerSec))).toString(), 8, true)} | ` +
      `${pad(median(rs.map((x) => x.p50)).toFixed(2), 13, true)} | ${pad(median(rs.map((x) => x.p99)).toFixed(2), 13, true)} | ` +
      `${pad(Math.max(...rs.map((x) => x.max)).toFixed(2), 13, true)} |`,
  );
}
