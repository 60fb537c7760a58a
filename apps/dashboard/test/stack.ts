/**
 * Test plumbing: the built dashboard (built here when dist/ is missing or older than the
 * sources), and a real broker with an MQTT TCP listener, the OCPP gateway, auth (bans, built-in
 * users), the rule engine and the admin server serving dist/ — all in this process, on loopback
 * ports chosen by the OS.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AdminUserStore, createAdminServer, type AdminAdapterView, type AdminServer } from '@junction/admin';
import { installAuth, type AuthHandle } from '@junction/auth';
import { BrokerCore, createAdapterContext, type Adapter, type ListenerInfo } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import { ocppGatewayFactory, resolveOcppConfig } from '@junction/ocpp';
import { installRules, type RulesHandle } from '@junction/rules';

export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(APP_DIR, 'dist');
const ROOT = join(APP_DIR, '..', '..');
export const PASSWORD = 'Dash-board-42';

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((e) => newest(join(path, e))));
}

/** `vite build` unless dist/index.html is newer than every source. */
export async function buildDashboard(): Promise<void> {
  const index = join(DIST, 'index.html');
  const sources = Math.max(newest(join(APP_DIR, 'src')), newest(join(APP_DIR, 'index.html')), newest(join(APP_DIR, 'vite.config.ts')));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: APP_DIR, timeout: 60_000 });
}

export interface Stack {
  broker: BrokerCore;
  admin: AdminServer;
  auth: AuthHandle;
  rules: RulesHandle;
  /** `http://127.0.0.1:<port>/` */
  base: string;
  mqttUrl: string;
  /** `ws://127.0.0.1:<port>/ocpp` */
  ocppEndpoint: string;
  /** What `PUT /configs/log` set. */
  logLevel: { level: string };
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const broker = new BrokerCore();
  const auth = await installAuth(broker, {});
  const rules = installRules(broker);
  const running: { type: string; adapter: Adapter; listeners: ListenerInfo[]; recreate?: () => Adapter }[] = [];
  const views = (): AdminAdapterView[] => running.map((r) => ({ type: r.type, listeners: r.listeners, stats: () => r.adapter.stats(), adapter: r.adapter, ...(r.recreate ? { recreate: r.recreate } : {}) }));
  const logLevel = { level: 'info', get: () => logLevel.level, set: (l: string) => void (logLevel.level = l) };
  // Created before any client connects: the API learns clients from the core's notifications.
  const admin = createAdminServer({
    broker,
    auth,
    rules,
    adapters: views,
    staticDir: DIST,
    bind: '127.0.0.1:0',
    admins: new AdminUserStore({ iterations: 1000 }),
    env: { JUNCTION_DASHBOARD__DEFAULT_PASSWORD: PASSWORD },
    config: { dashboard: { unsuccessful_login_delay: '20ms' } },
    logLevel,
  });
  const listener = { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 1000, mountpoint: '' };
  // `spare` is there to be stopped and started from the gateways page.
  const tcp = tcpListenersFactory.create(createAdapterContext(broker), { default: listener, spare: listener });
  running.push({ type: tcpListenersFactory.type, adapter: tcp, listeners: await tcp.start() });
  const ocppConfig = resolveOcppConfig({ listeners: { ws: { default: { bind: { host: '127.0.0.1', port: 0 } } } } });
  const ocpp = ocppGatewayFactory.create(createAdapterContext(broker), ocppConfig);
  running.push({ type: ocppGatewayFactory.type, adapter: ocpp, listeners: await ocpp.start(), recreate: () => ocppGatewayFactory.create(createAdapterContext(broker), ocppConfig) });
  const { port } = await admin.start();
  let stopped: Promise<void> | undefined;
  return {
    broker,
    admin,
    auth,
    rules,
    base: `http://127.0.0.1:${port}/`,
    mqttUrl: `mqtt://127.0.0.1:${running[0]!.listeners[0]!.port}`,
    ocppEndpoint: `ws://127.0.0.1:${running[1]!.listeners[0]!.port}/ocpp`,
    logLevel,
    stop: () =>
      (stopped ??= (async () => {
        await Promise.allSettled(running.map((r) => r.adapter.stop({ drainMs: 0 })));
        await admin.stop();
        rules.stop();
        await broker.close();
        await auth.stop();
      })()),
  };
}
