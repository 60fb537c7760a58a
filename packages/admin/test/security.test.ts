import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerCore } from '@junction/broker-core';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { createAdminServer, normalizeAdminConfig } from '../src/index.js';
import { ADMIN_PASSWORD, basic, fastAdmins, login, memoryLog, startAdmin, type AdminFixture } from './helpers.js';

let f: AdminFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('login and tokens', () => {
  it('answers a right login with a token, a wrong one with 401 BAD_USERNAME_OR_PWD, slowly', async () => {
    f = await startAdmin({ config: { dashboard: { unsuccessful_login_delay: '150ms' } } });
    const ok = await post(f.base, '/api/v5/login', { username: 'admin', password: ADMIN_PASSWORD });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { token: string; version: string; role: string };
    expect(body.token.split('.')).toHaveLength(3);
    expect(body.role).toBe('administrator');

    for (const creds of [{ username: 'admin', password: 'wrong-Password1' }, { username: 'nobody', password: ADMIN_PASSWORD }]) {
      const t0 = Date.now();
      const bad = await post(f.base, '/api/v5/login', creds);
      expect(bad.status).toBe(401);
      expect(await bad.json()).toEqual({ code: 'BAD_USERNAME_OR_PWD', message: 'Auth failed' });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    }
    expect((await post(f.base, '/api/v5/login', { username: 'admin' })).status).toBe(400);
  });

  it('refuses every route but login and status without credentials (401), and with a bad token', async () => {
    f = await startAdmin();
    for (const path of ['/api/v5/clients', '/api/v5/stats', '/api/v5/banned', '/api/v5/openapi.json', '/api/v5/prometheus/stats', '/api/v5/no-such-route']) {
      const r = await fetch(`${f.base}${path}`);
      expect(r.status, path).toBe(401);
      expect(((await r.json()) as { code: string }).code).toBe('BAD_TOKEN');
    }
    const forged = `${f.token.slice(0, -4)}AAAA`;
    expect((await f.api('GET', '/api/v5/clients', undefined, { authorization: `Bearer ${forged}` })).status).toBe(401);
    expect((await f.api('GET', '/api/v5/clients', undefined, { authorization: 'Digest x' })).status).toBe(401);
    const status = await fetch(`${f.base}/api/v5/status`);
    expect(status.status).toBe(200);
    expect(await status.text()).toMatch(/^Node junction@127\.0\.0\.1 is started\njunction is running$/);
    expect((await f.api('GET', '/api/v5/status?format=json')).body).toMatchObject({ node_name: 'junction@127.0.0.1', broker_status: 'started' });
    expect((await f.api('GET', '/api/v5/clients')).status).toBe(200);
  });

  it('expires tokens after token_expired_time, and logout revokes one', async () => {
    // Generous lifetime so a loaded machine does not expire the token during the first checks.
    f = await startAdmin({ config: { dashboard: { token_expired_time: '4s' } } });
    // Taken after the fixture's login: the token expires at the latest 4 s from here.
    const t0 = Date.now();
    const other = await login(f.base, 'admin', ADMIN_PASSWORD);
    expect((await f.api('POST', '/api/v5/logout', {}, { authorization: `Bearer ${other}` })).status).toBe(204);
    const r = await f.api('GET', '/api/v5/clients', undefined, { authorization: `Bearer ${other}` });
    expect(r.status).toBe(401);
    expect((await f.api('GET', '/api/v5/clients')).status).toBe(200);
    await new Promise((res) => setTimeout(res, Math.max(0, t0 + 4200 - Date.now())));
    const late = await f.api('GET', '/api/v5/clients');
    expect(late.status).toBe(401);
    expect(late.body.code).toBe('TOKEN_TIME_OUT');
  });

  it('locks a user name for an address after too many failed logins (429), even for the right password', async () => {
    f = await startAdmin({ config: { dashboard: { unsuccessful_login_max_attempts: 3, unsuccessful_login_lock_duration: '1m' } } });
    for (let i = 0; i < 3; i++) expect((await post(f.base, '/api/v5/login', { username: 'admin', password: `nope-Nope${i}` })).status).toBe(401);
    const locked = await post(f.base, '/api/v5/login', { username: 'admin', password: ADMIN_PASSWORD });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(((await locked.json()) as { code: string }).code).toBe('LOGIN_LOCKED');
    expect(f.log.events('admin_login_locked')).toHaveLength(1);
    // The existing token still works; the lock is on logging in.
    expect((await f.api('GET', '/api/v5/stats')).status).toBe(200);
  });

  it('a password change invalidates older tokens; a viewer may read, not write, and change only its own password', async () => {
    f = await startAdmin();
    expect((await f.api('POST', '/api/v5/users', { username: 'watcher', password: 'short' })).status).toBe(400);
    const created = await f.api('POST', '/api/v5/users', { username: 'watcher', password: 'Watcher-pw-1', role: 'viewer', description: 'ops' });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ username: 'watcher', role: 'viewer', description: 'ops', backend: 'local' });
    expect((await f.api('POST', '/api/v5/users', { username: 'watcher', password: 'Watcher-pw-1' })).status).toBe(409);
    const list = await f.api('GET', '/api/v5/users');
    expect(list.body.map((u: { username: string }) => u.username).sort()).toEqual(['admin', 'watcher']);

    const viewer = { authorization: `Bearer ${await login(f.base, 'watcher', 'Watcher-pw-1')}` };
    expect((await f.api('GET', '/api/v5/clients', undefined, viewer)).status).toBe(200);
    const denied = await f.api('POST', '/api/v5/publish', { topic: 't', payload: 'x' }, viewer);
    expect(denied.status).toBe(403);
    expect((await f.api('POST', '/api/v5/users/admin/change_pwd', { old_pwd: ADMIN_PASSWORD, new_pwd: 'Other-pw-2' }, viewer)).status).toBe(403);
    expect((await f.api('POST', '/api/v5/users/watcher/change_pwd', { old_pwd: 'bad', new_pwd: 'Watcher-pw-2' }, viewer)).status).toBe(400);
    expect((await f.api('POST', '/api/v5/users/watcher/change_pwd', { old_pwd: 'Watcher-pw-1', new_pwd: 'Watcher-pw-2' }, viewer)).status).toBe(204);
    expect((await f.api('GET', '/api/v5/clients', undefined, viewer)).status).toBe(401);
    await login(f.base, 'watcher', 'Watcher-pw-2');

    expect((await f.api('DELETE', '/api/v5/users/admin')).status).toBe(400); // the last administrator
    expect((await f.api('DELETE', '/api/v5/users/watcher')).status).toBe(204);
    expect((await f.api('DELETE', '/api/v5/users/watcher')).status).toBe(404);
  });
});

describe('API keys', () => {
  it('work as HTTP Basic key:secret; a wrong secret, a disabled or expired key get 401', async () => {
    f = await startAdmin();
    const created = await f.api('POST', '/api/v5/api_key', { name: 'scripts', desc: 'ci' });
    expect(created.status).toBe(200);
    const { api_key, api_secret } = created.body as { api_key: string; api_secret: string };
    expect(created.body).toMatchObject({ name: 'scripts', enable: true, expired: false, expired_at: 'infinity', role: 'administrator' });
    expect((await f.api('POST', '/api/v5/api_key', { name: 'scripts' })).status).toBe(409);

    const listed = await f.api('GET', '/api/v5/api_key');
    expect(listed.body).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(api_secret);

    const asKey = (secret = api_secret) => ({ ...basic(api_key, secret), authorization: basic(api_key, secret).authorization! });
    expect((await f.api('GET', '/api/v5/clients', undefined, asKey())).status).toBe(200);
    const bad = await f.api('GET', '/api/v5/clients', undefined, asKey('wrong'));
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('BAD_API_KEY_OR_SECRET');
    expect((await f.api('GET', '/api/v5/clients', undefined, basic('nokey', 'x'))).status).toBe(401);

    // API keys may not manage keys or dashboard users.
    const refused = await f.api('POST', '/api/v5/api_key', { name: 'more' }, asKey());
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('API_KEY_NOT_ALLOW');
    expect((await f.api('GET', '/api/v5/users', undefined, asKey())).status).toBe(403);

    expect((await f.api('PUT', '/api/v5/api_key/scripts', { enable: false })).body.enable).toBe(false);
    expect((await f.api('GET', '/api/v5/clients', undefined, asKey())).status).toBe(401);
    await f.api('PUT', '/api/v5/api_key/scripts', { enable: true, expired_at: new Date(Date.now() + 400).toISOString() });
    expect((await f.api('GET', '/api/v5/clients', undefined, asKey())).status).toBe(200);
    await new Promise((r) => setTimeout(r, 450));
    expect((await f.api('GET', '/api/v5/clients', undefined, asKey())).status).toBe(401);
    expect((await f.api('GET', '/api/v5/api_key/scripts')).body.expired).toBe(true);
    expect((await f.api('DELETE', '/api/v5/api_key/scripts')).status).toBe(204);
    expect((await f.api('GET', '/api/v5/api_key/scripts')).status).toBe(404);
  });

  it('are created from a bootstrap file (key:secret:role); a viewer key may only read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-admin-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'keys.txt');
    writeFileSync(file, '# keys\nmonitor:monitor-secret-1:viewer\nbroken-line\nops:ops-secret-1\n');
    f = await startAdmin({ config: { api_key: { bootstrap_file: file } } });
    expect(f.log.events('admin_api_keys_imported')[0]!.obj).toMatchObject({ loaded: 2, failed: 1 });
    expect((await f.api('GET', '/api/v5/stats', undefined, basic('monitor', 'monitor-secret-1'))).status).toBe(200);
    expect((await f.api('DELETE', '/api/v5/banned', undefined, basic('monitor', 'monitor-secret-1'))).status).toBe(403);
    expect((await f.api('GET', '/api/v5/stats', undefined, basic('ops', 'ops-secret-1'))).status).toBe(200);
    expect(f.log.text()).not.toContain('secret-1');
  });
});

describe('secure defaults', () => {
  it('binds 127.0.0.1:18083 by default, with prometheus auth on and no default password', () => {
    const c = normalizeAdminConfig();
    expect(c.dashboard.listeners.http.bind).toEqual({ host: '127.0.0.1', port: 18083 });
    expect(c.dashboard.default_username).toBe('admin');
    expect(c.dashboard.default_password).toBeUndefined();
    expect(c.dashboard.token_expired_time).toBe(3_600_000);
    expect(c.prometheus.enable_basic_auth).toBe(true);
    expect(() => normalizeAdminConfig({ dashboard: { token_expired_time: 'soon' } })).toThrow(/dashboard\.token_expired_time/);
    expect(() => normalizeAdminConfig({ dashboard: { bogus: 1 } })).toThrow(/dashboard\.bogus: unknown key/);
  });

  it('listens on loopback when only the port is given', async () => {
    const broker = new BrokerCore();
    const admin = createAdminServer({ broker, bind: 0, admins: fastAdmins(), env: {} });
    try {
      const addr = await admin.start();
      expect(addr.host).toBe('127.0.0.1');
      expect(addr.port).toBeGreaterThan(0);
    } finally {
      await admin.stop();
      await admin.stop();
      await broker.close();
    }
  });

  it('creates the admin with a random password logged once, stores it hashed, and never logs it again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'junction-admin-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    f = await startAdmin({ dataDir, env: {}, noStart: true });
    const { port } = await f.admin.start();
    f.base = `http://127.0.0.1:${port}`;
    const created = f.log.events('admin_password_created');
    expect(created).toHaveLength(1);
    const password = created[0]!.obj.initial_password as string;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(created[0]!.obj.username).toBe('admin');

    f.token = await login(f.base, 'admin', password);
    // Things that carry the password or tokens must not leak them into logs.
    await post(f.base, '/api/v5/login', { username: 'admin', password: `${password}x` });
    expect((await f.api('POST', '/api/v5/api_key', { name: 'k1' })).status).toBe(200);
    expect((await f.api('POST', '/api/v5/users/admin/change_pwd', { old_pwd: password, new_pwd: 'Changed-pw-9' })).status).toBe(204);

    const file = join(dataDir, 'dashboard', 'admin-users.json');
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(password);
    expect(stored).not.toContain('Changed-pw-9');
    expect(stored).toContain('pbkdf2-sha512');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const others = f.log.entries.filter((e) => e.event !== 'admin_password_created');
    expect(JSON.stringify(others)).not.toContain(password);
    expect(JSON.stringify(f.log.entries)).not.toContain('Changed-pw-9');
    expect(JSON.stringify(f.log.entries)).not.toContain(f.token);
    await f.stop();

    // A second start with the same data dir keeps the user and creates nothing.
    f = await startAdmin({ dataDir, env: {}, noStart: true });
    const again = await f.admin.start();
    f.base = `http://127.0.0.1:${again.port}`;
    expect(f.log.events('admin_password_created')).toHaveLength(0);
    expect(f.log.events('admin_user_created')).toHaveLength(0);
    f.token = await login(f.base, 'admin', 'Changed-pw-9');
    expect((await f.api('GET', '/api/v5/api_key')).body.map((k: { name: string }) => k.name)).toEqual(['k1']);
  });

  it('takes the first password from JUNCTION_DASHBOARD__DEFAULT_PASSWORD without logging it, and refuses a weak one', async () => {
    const log = memoryLog();
    const broker = new BrokerCore();
    const admin = createAdminServer({ broker, bind: 0, admins: fastAdmins(), env: { JUNCTION_DASHBOARD__DEFAULT_PASSWORD: 'From-env-pw-7' }, log: log.log });
    const weak = createAdminServer({ broker, bind: 0, admins: fastAdmins(), env: { JUNCTION_DASHBOARD__DEFAULT_PASSWORD: 'password' } });
    try {
      const { port } = await admin.start();
      await login(`http://127.0.0.1:${port}`, 'admin', 'From-env-pw-7');
      expect(log.events('admin_password_created')).toHaveLength(0);
      expect(log.events('admin_user_created')[0]!.obj).toMatchObject({ username: 'admin', password_source: 'JUNCTION_DASHBOARD__DEFAULT_PASSWORD' });
      expect(log.text()).not.toContain('From-env-pw-7');
      await expect(weak.start()).rejects.toThrow(/JUNCTION_DASHBOARD__DEFAULT_PASSWORD: password must mix/);
    } finally {
      await admin.stop();
      await weak.stop();
      await broker.close();
    }
  });
});
