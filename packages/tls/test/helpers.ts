/** A node:tls server run through a TlsContextManager, and a client that reports how it went. */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type ConnectionOptions, type Server, type TLSSocket } from 'node:tls';
import { TlsContextManager, type PeerCheck, type SslOptions } from '../src/index.js';

export interface TestServer {
  port: number;
  manager: TlsContextManager;
  server: Server;
  checks: PeerCheck[];
  stop(): Promise<void>;
}

/**
 * Greets an accepted client with `hello <CN or PSK identity>` and echoes what it sends; a client
 * refused by `checkPeer` is disconnected without a word.
 */
export async function startServer(ssl: SslOptions, manager = new TlsContextManager(ssl)): Promise<TestServer> {
  const checks: PeerCheck[] = [];
  const sockets = new Set<TLSSocket>();
  const server = createServer(manager.serverOptions(), (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    void manager.checkPeer(socket).then((r) => {
      checks.push(r);
      if (!r.ok) return socket.destroy();
      socket.write(`hello ${r.cert?.commonName ?? r.pskIdentity ?? 'anonymous'}\n`);
      socket.pipe(socket);
    });
  });
  server.on('tlsClientError', () => {});
  manager.attach(server);
  await manager.start();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    manager,
    server,
    checks,
    async stop() {
      manager.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Outcome = { ok: true; greeting: string; socket: TLSSocket } | { ok: false; error: string };

/** Connects and waits for the greeting line (accepted) or the end of the connection (refused). */
export function tryConnect(port: number, opts: ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts });
    let buf = '';
    const fail = (error: string) => {
      socket.destroy();
      resolve({ ok: false, error });
    };
    socket.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        socket.removeAllListeners('close');
        resolve({ ok: true, greeting: buf.slice(0, nl), socket });
      }
    });
    socket.once('error', (e: Error & { code?: string }) => fail(e.code ?? e.message));
    socket.once('close', () => fail('closed'));
  });
}

/** Writes `text` and resolves with the echo. */
export function echo(socket: TLSSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(text)) {
        socket.off('data', onData);
        resolve(buf);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(text);
  });
}

/** A local HTTP server answering `path` with whatever `body()` returns now (undefined: never answers); counts requests. */
export async function startHttp(routes: Record<string, () => Buffer | undefined>): Promise<{ url: (path: string) => string; hits: Map<string, number>; stop(): Promise<void> }> {
  const hits = new Map<string, number>();
  const server: HttpServer = createHttpServer((req, res) => {
    const route = routes[req.url ?? ''];
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    if (!route) return res.writeHead(404).end();
    const body = route();
    if (body) res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    hits,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
