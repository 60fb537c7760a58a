/**
 * Test plumbing: a broker on loopback TCP with the plugin installed, MQTT.js clients that report
 * wire codes (CONNACK, SUBACK, PUBACK, DISCONNECT), a real redis-server on a free port, a local
 * HTTP server, and a logger that records everything (to prove secrets stay out of logs).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrokerOptions, Logger, RecordStore } from '@junction/broker-core';
import { tcpFixture, tlsFixture, type BrokerHarness } from '@junction/mqtt/testing';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { installAuth, type AuthConfigInput, type AuthHandle } from '../src/index.js';
export { eventually, freePort, sleep, startRedis, type RedisServer } from '@junction/test-servers';

export interface LogEntry {
  level: string;
  event: string;
  obj: Record<string, unknown>;
}

/** A logger that keeps every entry, children included. */
export function memoryLog(): { log: Logger; entries: LogEntry[]; text(): string } {
  const entries: LogEntry[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: string) => (obj: object, event: string) => entries.push({ level, event, obj: { ...bindings, ...obj } });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => make({ ...bindings, ...b }) };
  };
  return { log: make({}), entries, text: () => JSON.stringify(entries) };
}

export interface AuthBrokerFixture {
  harness: BrokerHarness;
  auth: AuthHandle;
  url: string;
  log: ReturnType<typeof memoryLog>;
  clients: MqttClient[];
  stop(): Promise<void>;
}

/** A broker (anonymous refused) on loopback with the plugin installed. */
export async function startAuthBroker(config: AuthConfigInput, opts: { tls?: boolean; broker?: BrokerOptions; records?: RecordStore } = {}): Promise<AuthBrokerFixture> {
  const fixture = opts.tls ? tlsFixture : tcpFixture;
  const harness = await fixture.start({ broker: { ...opts.broker, config: { allow_anonymous: false, ...opts.broker?.config } }, mutualTls: opts.tls });
  const log = memoryLog();
  let auth: AuthHandle;
  try {
    auth = await installAuth(harness.broker, config, log.log, { records: opts.records });
  } catch (err) {
    await harness.stop();
    throw err;
  }
  const clients: MqttClient[] = [];
  return {
    harness,
    auth,
    url: harness.url,
    log,
    clients,
    async stop() {
      for (const c of clients.splice(0)) c.end(true);
      await auth.stop();
      await harness.stop();
    },
  };
}

export interface Connected {
  client: MqttClient;
  /** CONNACK reason code (MQTT 5) or return code (3.1.1); 0 on success, -1 if closed first. */
  code: number;
}

let seq = 0;
export function cid(prefix = 'c'): string {
  return `${prefix}${++seq}${Math.random().toString(36).slice(2, 8)}`;
}

/** Connect and report the CONNACK code; the client never reconnects. */
export function connect(f: AuthBrokerFixture, opts: IClientOptions = {}): Promise<Connected> {
  const client = mqtt.connect(f.url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, clientId: cid(), ...f.harness.clientOptions, ...opts });
  f.clients.push(client);
  return new Promise((resolve) => {
    client.once('connect', (ack) => resolve({ client, code: ack.reasonCode ?? ack.returnCode ?? 0 }));
    client.once('error', (err: Error & { code?: number }) => resolve({ client, code: typeof err.code === 'number' ? err.code : -1 }));
    client.once('close', () => resolve({ client, code: -1 }));
  });
}

/** Subscribe one filter; the SUBACK code (granted QoS, or 0x80+ on refusal). */
export function subscribe(client: MqttClient, topic: string, qos: 0 | 1 | 2 = 1): Promise<number> {
  return new Promise((resolve) => {
    client.subscribe(topic, { qos }, (err, _granted, packet) => {
      const p = (packet ?? (err as (Error & { packet?: typeof packet }) | null)?.packet) as { granted?: (number | { qos: number })[] } | undefined;
      const g = p?.granted?.[0];
      resolve(typeof g === 'number' ? g : (g?.qos ?? -1));
    });
  });
}

/** Publish; the PUBACK reason code (0 or 0x10 on success) for QoS 1, 0 for QoS 0. */
export function publish(client: MqttClient, topic: string, payload: string, opts: { qos?: 0 | 1 | 2; retain?: boolean } = {}): Promise<number> {
  return new Promise((resolve) => {
    client.publish(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false }, (err, packet) => {
      const e = err as (Error & { code?: number }) | undefined;
      if (e) return resolve(typeof e.code === 'number' ? e.code : -1);
      resolve((packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
    });
  });
}

/** Resolves when the connection closes, with the DISCONNECT reason code if the server sent one. */
export function closed(client: MqttClient, timeoutMs = 5000): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    let code: number | undefined;
    const timer = setTimeout(() => reject(new Error('connection did not close')), timeoutMs);
    client.on('disconnect', (p) => (code = p.reasonCode));
    if (!client.connected && client.disconnected) {
      clearTimeout(timer);
      return resolve(code);
    }
    client.once('close', () => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}


/** A TCP port that was free a moment ago. */



export interface HttpCall {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestHttpServer {
  url: string;
  calls: HttpCall[];
  /** Replace the handler. */
  handle(fn: (call: HttpCall, res: ServerResponse) => void): void;
  stop(): Promise<void>;
}

/** A node:http server on a loopback port 0 that records every request. */
export async function startHttp(fn: (call: HttpCall, res: ServerResponse) => void = (_c, res) => res.writeHead(204).end()): Promise<TestHttpServer> {
  let handler = fn;
  const calls: HttpCall[] = [];
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const call = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      calls.push(call);
      handler(call, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    handle: (f) => (handler = f),
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
