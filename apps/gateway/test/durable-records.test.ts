/**
 * What operators add through the API at run time — built-in users and bans — is kept in the
 * durable store under node.data_dir: after a restart of the gateway process it is all there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway, type Running } from './run-gateway.js';

const dataDir = mkdtempSync(join(tmpdir(), 'junction-records-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const config = [
  'log: { format: json }',
  'listeners: { tcp: { default: { bind: "127.0.0.1:0" } } }',
  'dashboard: { listeners: { http: { bind: "127.0.0.1:0" } } }',
  'authentication: [ { mechanism: password_based, backend: built_in_database } ]',
  '',
].join('\n');
const password = 'Records-test-pw-1';

async function api(gw: Running): Promise<(method: string, path: string, body?: unknown) => Promise<Response>> {
  const dashboard = (gw.lines.find((l) => l.msg === 'gateway_started')!.listeners as { name: string; port: number }[]).find((l) => l.name === 'dashboard')!;
  const base = `http://127.0.0.1:${dashboard.port}/api/v5`;
  const login = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
  expect(login.status).toBe(200);
  const { token } = (await login.json()) as { token: string };
  return (method, path, body) =>
    fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function connack(gw: Running, opts: mqtt.IClientOptions): Promise<number> {
  try {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.port}`, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.end(true);
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

describe('run-time users, bans and rules survive a gateway restart', () => {
  it('keeps users, bans and rules created through the API in the durable store', async () => {
    const env = { JUNCTION_DASHBOARD__DEFAULT_PASSWORD: password };
    let gw = await startGateway(config, env, { dataDir });
    let call = await api(gw);
    const authn = '/authentication/password_based:built_in_database/users';
    expect((await call('POST', authn, { user_id: 'sensor-1', password: 's3cret' })).status).toBe(201);
    expect((await call('POST', authn, { user_id: 'temp', password: 'x' })).status).toBe(201);
    expect((await call('DELETE', `${authn}/temp`)).status).toBe(204);
    expect((await call('POST', '/banned', { as: 'clientid', who: 'rogue', reason: 'abuse' })).status).toBe(200);
    const rule = { id: 'echo', sql: 'SELECT payload FROM "in/#"', actions: [{ function: 'republish', args: { topic: 'out/echo', payload: '${payload}' } }] };
    expect((await call('POST', '/rules', rule)).status).toBe(201);
    expect(await connack(gw, { clientId: 'ok-1', username: 'sensor-1', password: 's3cret' })).toBe(0);
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);

    gw = await startGateway(config, env, { dataDir });
    call = await api(gw);
    const users = (await (await call('GET', authn)).json()) as { data: { user_id: string }[] };
    expect(users.data.map((u) => u.user_id)).toEqual(['sensor-1']);
    const bans = (await (await call('GET', '/banned')).json()) as { data: { as: string; who: string; reason: string }[] };
    expect(bans.data).toEqual([expect.objectContaining({ as: 'clientid', who: 'rogue', reason: 'abuse' })]);
    expect(await connack(gw, { clientId: 'ok-2', username: 'sensor-1', password: 's3cret' })).toBe(0);
    expect(await connack(gw, { clientId: 'rogue', username: 'sensor-1', password: 's3cret' })).toBe(0x8a);
    expect(await connack(gw, { clientId: 'ok-3', username: 'temp', password: 'x' })).not.toBe(0);
    // The rule is back, and fires.
    expect((await call('GET', '/rules/echo')).status).toBe(200);
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.port}`, { protocolVersion: 5, reconnectPeriod: 0, clientId: 'sub', username: 'sensor-1', password: 's3cret' });
    await sub.subscribeAsync('out/echo');
    const got = new Promise<string>((r) => sub.once('message', (_t, p) => r(p.toString())));
    await sub.publishAsync('in/x', 'hello', { qos: 1 });
    expect(await got).toBe('hello');
    sub.end(true);
    gw.child.kill('SIGTERM');
    expect(await gw.exit).toBe(0);
  }, 60_000);
});
