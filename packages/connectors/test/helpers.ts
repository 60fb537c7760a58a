/** Test plumbing: free ports, a recording HTTP server, a remote Junction broker, redis-server. */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import { defaultMqttOptions, tcpListenersFactory } from '@junction/mqtt';
export { freePort, startRedis, type RedisServer } from '@junction/test-servers';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll until `cond` holds (or fail after `ms`). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
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



/** A rule output as @junction/rules hands it to a sink. */
export function output(data: Record<string, unknown>, event: Record<string, unknown> = {}) {
  return { ruleId: 'r1', data, event };
}

export interface TcpProxy {
  port: number;
  /** Where new connections go. */
  target: { host: string; port: number };
  /** Refuse connections (close the listener and every piped connection). */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** A TCP forwarder on a fixed loopback port, to take a server "down" and back without moving it. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: NetServer | undefined;
  const proxy: TcpProxy = {
    port: 0,
    target,
    async up() {
      const srv = createNetServer((client) => {
        const upstream = connect(proxy.target.port, proxy.target.host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => {
            sockets.delete(s);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(proxy.port, '127.0.0.1', () => resolve());
      });
      proxy.port = (srv.address() as AddressInfo).port;
      server = srv;
    },
    async down() {
      const srv = server;
      server = undefined;
      for (const s of sockets) s.destroy();
      if (srv) await new Promise<void>((r) => srv.close(() => r()));
    },
    stop: () => proxy.down(),
  };
  await proxy.up();
  return proxy;
}
