/**
 * Test support shared by every package's tests: real servers, each on a free loopback port and
 * stopped by the test (no mocks of what can run for real), and polling helpers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `check` until it returns true; fails naming `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A free TCP port on 127.0.0.1 (bound, then released) for a server the test starts in another
 * process. Picked below the kernel's ephemeral range when it can be: a port from that range can be
 * taken by any outgoing connection (of this suite's many clients) before the server binds it.
 */
export async function freePort(): Promise<number> {
  const below = ephemeralLow() - 1;
  for (let i = 0; i < 20 && below > 10_000; i++) {
    const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
    if (await canListen(port)) return port;
  }
  return listenOn(0);
}

let ephemeralLowCache: number | undefined;
function ephemeralLow(): number {
  if (ephemeralLowCache === undefined) {
    try {
      ephemeralLowCache = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 0;
    } catch {
      ephemeralLowCache = 0;
    }
  }
  return ephemeralLowCache;
}

function canListen(port: number): Promise<boolean> {
  return listenOn(port).then(
    () => true,
    () => false,
  );
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const bound = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  client: Redis;
  stop(): Promise<void>;
}

/** Start `redis-server` on a free loopback port without persistence; resolves once it answers PONG. */
export async function startRedis(): Promise<RedisServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    let exited = false;
    proc.once('exit', () => (exited = true));
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    const end = Date.now() + 5000;
    let ok = false;
    while (!exited && Date.now() < end) {
      try {
        if (client.status !== 'ready') await client.connect();
        if ((await client.ping()) === 'PONG') {
          ok = true;
          break;
        }
      } catch {
        client.disconnect();
        await sleep(50);
      }
    }
    if (ok) {
      const stop = async () => {
        client.disconnect();
        await killAndWait(proc);
      };
      return { port, url: `127.0.0.1:${port}`, client, stop };
    }
    client.disconnect();
    await killAndWait(proc);
    if (attempt >= 2) throw new Error('redis-server did not start');
  }
}

function killAndWait(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

export { startKafkaMock, buildKafkaMock, KafkaMockUnavailableError, type KafkaMock, type KafkaMockOptions } from './kafka.js';
export { startPostgres, findPostgresBin, PostgresUnavailableError, type PostgresServer } from './postgres.js';
export { startNatsCluster, natsServerBinary, type NatsCluster, type NatsClusterOptions, type NatsServer } from './nats.js';
