/**
 * A Kafka-protocol broker for tests: librdkafka's built-in mock cluster, run as a standalone
 * process by `kafka-mock/mockbroker.c` (the team's shared Kafka mock). The program is compiled once
 * (gcc + `pkg-config rdkafka`, Debian's `librdkafka-dev`) into a cache directory outside the
 * repository, keyed by a hash of its source, and started on 127.0.0.1 with ephemeral ports.
 *
 * What the mock offers (see the header of mockbroker.c): produce, fetch, metadata, consumer groups,
 * offsets, headers, compression; not CreateTopics, DeleteTopics, SASL or TLS. Ports and cluster id
 * change on every start: a restarted mock is a new cluster on new ports.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('../kafka-mock/mockbroker.c', import.meta.url));

export interface KafkaMockOptions {
  /** Topics created at start: name → partition count. Other topics are auto-created on first use. */
  topics?: Record<string, number>;
  /** Number of brokers in the mock cluster (1-9; default 1). */
  brokers?: number;
  /** The process exits by itself after this many seconds (a safety net; default 600). */
  maxSeconds?: number;
}

export interface KafkaMock {
  /** `host:port[,host:port...]` */
  readonly bootstrap: string;
  /** The bootstrap list as kafkajs wants it. */
  readonly brokers: string[];
  /** Stop the mock (SIGTERM) and remove its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Why the Kafka mock cannot run here (missing gcc, pkg-config or librdkafka-dev). */
export class KafkaMockUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaMockUnavailableError';
  }
}

let building: Promise<string> | undefined;

/** Compile mockbroker.c once per source version; returns the binary's path. */
export function buildKafkaMock(): Promise<string> {
  return (building ??= (async () => {
    const source = readFileSync(SOURCE);
    const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
    const dir = join(tmpdir(), `junction-kafka-mock-${hash}`);
    const bin = join(dir, 'mockbroker');
    if (existsSync(bin)) return bin;
    mkdirSync(dir, { recursive: true });
    let flags: string[];
    try {
      const { stdout } = await run('pkg-config', ['--cflags', '--libs', 'rdkafka']);
      flags = stdout.trim().split(/\s+/).filter(Boolean);
    } catch (err) {
      throw new KafkaMockUnavailableError('pkg-config rdkafka failed: install pkg-config and librdkafka-dev', { cause: err });
    }
    // Build under a unique name, then rename: parallel test files may race here.
    const tmp = `${bin}.${process.pid}.${Date.now()}`;
    try {
      await run('gcc', ['-O2', '-Wall', '-o', tmp, SOURCE, ...flags]);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new KafkaMockUnavailableError(`compiling mockbroker.c failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`, { cause: err });
    }
    renameSync(tmp, bin);
    return bin;
  })().catch((err: unknown) => {
    building = undefined;
    throw err;
  }));
}

/** Start the mock cluster; resolves once its bootstrap list is known. */
export async function startKafkaMock(opts: KafkaMockOptions = {}): Promise<KafkaMock> {
  const bin = await buildKafkaMock();
  const dir = mkdtempSync(join(tmpdir(), 'junction-kafka-'));
  const file = join(dir, 'bootstrap.txt');
  const topics = Object.entries(opts.topics ?? {})
    .map(([name, parts]) => `${name}:${parts}`)
    .join(',');
  const proc = spawn(bin, [String(opts.brokers ?? 1), String(opts.maxSeconds ?? 600), file], {
    cwd: dir,
    env: { ...process.env, MOCK_CONTROLLER: '1', MOCK_TOPICS: topics },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => {
    if (stderr.length < 8192) stderr += c.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await killAndWait(proc, exited);
      rmSync(dir, { recursive: true, force: true });
    })());

  const end = Date.now() + 10_000;
  let bootstrap = '';
  while (!bootstrap) {
    if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > end) {
      await stop();
      throw new KafkaMockUnavailableError(`mockbroker did not start: ${stderr.trim() || 'no bootstrap file'}`);
    }
    try {
      const text = readFileSync(file, 'utf8');
      if (text.endsWith('\n')) bootstrap = text.trim();
    } catch {
      /* not written yet */
    }
    if (!bootstrap) await new Promise((r) => setTimeout(r, 10));
  }
  return { bootstrap, brokers: bootstrap.split(','), stop };
}

function killAndWait(proc: ChildProcess, exited: Promise<void>): Promise<void> {
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
  return exited;
}
