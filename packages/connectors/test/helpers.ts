/** Test plumbing: free ports, a recording HTTP server, a remote Junction broker, redis-server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import { defaultMqttOptions, tcpListenersFactory } from '@junction/mqtt';
import { Redis } from 'ioredis';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll until `cond` holds (or fail after `ms`). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface HttpFixture {
  url: string;
  requests: Recorded[];
  /** Decides each response; default 200. Returning undefined leaves the request hanging. */
  respond: (req: Recorded, n: number) => number | undefined;
  stop(): Promise<void>;
}

export async function startHttp(): Promise<HttpFixture> {
  const hanging: ServerResponse[] = [];
  const fx: HttpFixture = { url: '', requests: [], respond: () => 200, stop: async () => {} };
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      fx.requests.push(rec);
      const status = fx.respond(rec, fx.requests.length);
      if (status === undefined) hanging.push(res);
      else res.writeHead(status).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fx.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fx.stop = async () => {
    for (const r of hanging) r.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return fx;
}

export interface RemoteBroker {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** A second Junction broker on loopback TCP, on `port` (0: any). */
export async function startRemoteBroker(port = 0): Promise<RemoteBroker> {
  const broker = new BrokerCore();
  const ctx = createAdapterContext(broker, { sections: { mqtt: { ...defaultMqttOptions } } });
  const adapter = tcpListenersFactory.create(ctx, { default: { enable: true, bind: { host: '127.0.0.1', port }, max_connections: 1000, mountpoint: '' } });
  const [info] = await adapter.start();
  return {
    port: info!.port,
    url: `mqtt://127.0.0.1:${info!.port}`,
    async stop() {
      await adapter.stop({ drainMs: 100 });
      await broker.close();
    },
  };
}

export interface RedisServer {
  port: number;
  client: Redis;
  stop(): Promise<void>;
}

/** `redis-server` on a free loopback port, no persistence; resolves once it answers PONG. */
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
      return {
        port,
        client,
        async stop() {
          client.disconnect();
          await killAndWait(proc);
        },
      };
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

/** A rule output as @junction/rules hands it to a sink. */
export function output(data: Record<string, unknown>, event: Record<string, unknown> = {}) {
  return { ruleId: 'r1', data, event };
}
