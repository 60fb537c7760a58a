/**
 * Real nats-server processes for tests: a cluster of `n` servers with routes and JetStream, each
 * with its own temp store dir, on free loopback ports. Optionally a mixed-mode cluster, where the
 * last servers run without JetStream and their clients reach it through the routes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './index.js';

/** `nats-server` on PATH, else Debian's location (the package installs it in /usr/sbin). */
export function natsServerBinary(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const file = join(dir, 'nats-server');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  throw new Error('nats-server not found on PATH or in /usr/sbin');
}

export interface NatsServer {
  readonly name: string;
  readonly port: number;
  /** `nats://127.0.0.1:{port}` */
  readonly url: string;
  /** `http://127.0.0.1:{monitoring port}`: the server's monitoring endpoints (`/connz`, `/jsz`, ...). */
  readonly monitorUrl: string;
  /** Whether this server runs JetStream (false for the servers of `withoutJetStream`). */
  readonly jetstream: boolean;
  readonly running: boolean;
  /** Stop this server (SIGKILL with `kill: true`, else SIGTERM), keeping its store for `start`. */
  stop(opts?: { kill?: boolean }): Promise<void>;
  /** Start it again after `stop`, same ports and store. */
  start(): Promise<void>;
}

export interface NatsCluster {
  readonly servers: NatsServer[];
  /** Every server's URL. */
  readonly urls: string[];
  /** Stop every server and remove the temp dirs. Idempotent. */
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /**
   * How many servers, the last ones, run without JetStream (NATS "mixed mode"): clients of those
   * reach JetStream through the routes to the others, under the same API subjects (no domain).
   * At least one server keeps JetStream. Default 0.
   */
  withoutJetStream?: number;
}

/**
 * Start `n` clustered nats-servers with JetStream (but for `opts.withoutJetStream`); resolves once
 * every one reports ready, JetStream elected a meta leader and every route is up.
 */
export async function startNatsCluster(n = 3, opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const plain = opts.withoutJetStream ?? 0;
  if (!Number.isInteger(plain) || plain < 0 || plain >= n) throw new RangeError(`withoutJetStream must be an integer from 0 to ${n - 1}, got ${plain}`);
  // A port found free can still be taken before nats-server binds it: then start over on others.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCluster(n, plain);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String(err))) throw err;
    }
  }
}

async function startCluster(n: number, plain: number): Promise<NatsCluster> {
  const withJetStream = (i: number) => i < n - plain;
  const bin = natsServerBinary();
  const root = mkdtempSync(join(tmpdir(), 'junction-nats-'));
  const ports = await Promise.all(Array.from({ length: n }, async () => ({ client: await freePort(), route: await freePort(), http: await freePort() })));
  const routes = ports.map((p) => `"nats-route://127.0.0.1:${p.route}"`).join(', ');
  const servers = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const file = join(root, `${name}.conf`);
    writeFileSync(
      file,
      [
        `server_name: ${name}`,
        `listen: "127.0.0.1:${p.client}"`,
        `http: "127.0.0.1:${p.http}"`,
        withJetStream(i) ? `jetstream { store_dir: "${join(root, name)}", max_memory_store: 64MB, max_file_store: 256MB }` : '',
        n > 1 ? `cluster { name: junction-test, listen: "127.0.0.1:${p.route}", routes: [${routes}] }` : '',
      ].join('\n'),
    );
    return new ServerProcess(bin, name, p.client, `http://127.0.0.1:${p.http}`, withJetStream(i), file);
  });
  try {
    await Promise.all(servers.map((s) => s.start()));
    // JetStream answers only once its cluster elected a meta leader: wait for it here, so that
    // tests do not spend their own timeouts on it.
    if (n > 1) await Promise.all(ports.filter((_, i) => withJetStream(i)).map((p) => untilMetaLeader(p.http)));
    // A server without JetStream forwards JetStream requests over its routes: wait for them all.
    if (plain > 0) await Promise.all(ports.map((p) => untilRoutes(p.http, n - 1)));
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop({ kill: true })));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    servers,
    urls: servers.map((s) => s.url),
    stop: () =>
      (stopped ??= (async () => {
        await Promise.all(servers.map((s) => s.stop({ kill: true })));
        rmSync(root, { recursive: true, force: true });
      })()),
  };
}

async function untilMetaLeader(httpPort: number): Promise<void> {
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/jsz`);
      const jsz = (await res.json()) as { meta_cluster?: { leader?: string } };
      if (jsz.meta_cluster?.leader) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('JetStream elected no meta leader');
}

async function untilRoutes(httpPort: number, want: number): Promise<void> {
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/routez`);
      const routez = (await res.json()) as { num_routes?: number };
      if ((routez.num_routes ?? 0) >= want) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nats-server on http port ${httpPort} has fewer than ${want} routes`);
}

class ServerProcess implements NatsServer {
  private proc: ChildProcess | undefined;
  constructor(
    private readonly bin: string,
    readonly name: string,
    readonly port: number,
    readonly monitorUrl: string,
    readonly jetstream: boolean,
    private readonly configFile: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    const proc = spawn(this.bin, ['-c', this.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    return new Promise((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => fail(new Error(`nats-server ${this.name} did not start: ${log}`)), 10_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(err);
      };
      proc.stderr!.on('data', (d: Buffer) => {
        if (log.length < 20_000) log += d.toString();
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => fail(new Error(`nats-server ${this.name} exited ${code}: ${log}`)));
    });
  }

  stop(opts: { kill?: boolean } = {}): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(opts.kill ? 'SIGKILL' : 'SIGTERM');
    });
  }
}
