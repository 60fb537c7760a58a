/**
 * Test plumbing: a real broker with its MQTT TCP listener on loopback, the admin server on port 0
 * in front of it, `fetch` helpers that log in, MQTT.js v5 clients, and a logger that keeps every
 * entry (to prove that secrets stay out of logs).
 */
import type { BrokerOptions, Logger } from '@junction/broker-core';
import { tcpFixture, type BrokerHarness } from '@junction/mqtt/testing';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { AdminUserStore, createAdminServer, type AdminAuthStores, type AdminConfigInput, type AdminServer, type AdminServerOptions } from '../src/index.js';
export { eventually, sleep } from '@junction/test-servers';

export interface LogEntry {
  level: string;
  event: string;
  obj: Record<string, unknown>;
}

/** A logger that keeps every entry, children included. */
export function memoryLog(): { log: Logger; entries: LogEntry[]; text(): string; events(name: string): LogEntry[] } {
  const entries: LogEntry[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: string) => (obj: object, event: string) => entries.push({ level, event, obj: { ...bindings, ...obj } });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => make({ ...bindings, ...b }) };
  };
  return { log: make({}), entries, text: () => JSON.stringify(entries), events: (name) => entries.filter((e) => e.event === name) };
}

export const ADMIN_PASSWORD = 'Test-pass-42';

export interface FixtureOptions {
  broker?: BrokerOptions;
  config?: AdminConfigInput;
  auth?: AdminAuthStores | ((f: BrokerHarness) => Promise<AdminAuthStores>);
  env?: Record<string, string | undefined>;
  dataDir?: string;
  /** Do not start the admin server (the test starts it). */
  noStart?: boolean;
  /** Further server options (rules, adapters, staticDir), made once the broker runs. */
  extra?: (h: BrokerHarness) => Partial<AdminServerOptions>;
}

export interface AdminFixture {
  harness: BrokerHarness;
  admin: AdminServer;
  /** `http://127.0.0.1:<port>` */
  base: string;
  log: ReturnType<typeof memoryLog>;
  clients: MqttClient[];
  /** A bearer token of the `admin` user. */
  token: string;
  /** fetch with the admin token; JSON in and out. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  /** An MQTT 5 client, connected. */
  mqttClient(opts?: IClientOptions): Promise<MqttClient>;
  stop(): Promise<void>;
}

/** Cheap hashes keep the suite fast; production uses 210,000 iterations. */
export function fastAdmins(): AdminUserStore {
  return new AdminUserStore({ iterations: 1000 });
}

export async function startAdmin(opts: FixtureOptions = {}): Promise<AdminFixture> {
  const harness = await tcpFixture.start({ broker: opts.broker });
  const log = memoryLog();
  const auth = typeof opts.auth === 'function' ? await opts.auth(harness) : opts.auth;
  const admin = createAdminServer({
    broker: harness.broker,
    auth,
    bind: '127.0.0.1:0',
    log: log.log,
    admins: opts.dataDir ? undefined : fastAdmins(),
    dataDir: opts.dataDir,
    env: opts.env ?? { JUNCTION_DASHBOARD__DEFAULT_PASSWORD: ADMIN_PASSWORD },
    config: { ...opts.config, dashboard: { unsuccessful_login_delay: '20ms', ...opts.config?.dashboard } },
    ...opts.extra?.(harness),
  });
  const clients: MqttClient[] = [];
  const f: AdminFixture = {
    harness,
    admin,
    base: '',
    log,
    clients,
    token: '',
    async api(method, path, body, headers = {}) {
      const h: Record<string, string> = { ...(f.token ? { authorization: `Bearer ${f.token}` } : {}), ...headers };
      if (body !== undefined) h['content-type'] = 'application/json';
      const res = await fetch(`${f.base}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async mqttClient(o = {}) {
      const c = mqtt.connect(harness.url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...o });
      clients.push(c);
      await new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
      });
      return c;
    },
    async stop() {
      for (const c of clients.splice(0)) c.end(true);
      await admin.stop();
      await harness.stop();
    },
  };
  if (!opts.noStart) {
    const { port } = await admin.start();
    f.base = `http://127.0.0.1:${port}`;
    f.token = await login(f.base, 'admin', ADMIN_PASSWORD);
  }
  return f;
}

export async function login(base: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/v5/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export function basic(key: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}` };
}

let seq = 0;
export function uid(prefix = 'c'): string {
  return `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 7)}`;
}

export function subscribe(client: MqttClient, topic: string, qos: 0 | 1 | 2 = 1): Promise<void> {
  return new Promise((resolve, reject) => client.subscribe(topic, { qos }, (err) => (err ? reject(err) : resolve())));
}

export function publish(client: MqttClient, topic: string, payload: string, opts: { qos?: 0 | 1 | 2; retain?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => client.publish(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false }, (err) => (err ? reject(err) : resolve())));
}

/** The next message on `topic`. */
export function nextMessage(client: MqttClient, topic: string, timeoutMs = 3000): Promise<{ payload: Buffer; retain: boolean; qos: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${topic}`)), timeoutMs);
    const on = (t: string, payload: Buffer, packet: { retain: boolean; qos: number }) => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off('message', on);
      resolve({ payload, retain: packet.retain, qos: packet.qos });
    };
    client.on('message', on);
  });
}

