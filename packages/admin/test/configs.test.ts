import { afterEach, describe, expect, it } from 'vitest';
import { basic, login, startAdmin, type AdminFixture } from './helpers.js';

let f: AdminFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

/** A config as the gateway holds it, with secrets in several places. */
function gatewayConfig() {
  return {
    node: { name: 'junction@127.0.0.1', data_dir: 'data' },
    log: { level: 'info', format: 'json' },
    mqtt: { max_inflight: 32, max_packet_size: 1_048_576 },
    authentication: [
      { mechanism: 'password_based', backend: 'redis', server: '127.0.0.1:6379', password: 'redis-pw', cmd: 'HMGET mqtt_user:${username} password_hash' },
      { mechanism: 'jwt', secret: 'jwt-hmac-secret', use_jwks: false },
    ],
    connectors: { postgres: { db: { server: 'postgres://app:pg-secret@db:5432/iot', token_expired_time: 5 } } },
    listeners: { ssl: { default: { ssl_options: { keyfile: 'etc/key.pem', password: 'key-pass', key: '-----BEGIN PRIVATE KEY-----\nMII…' } } } },
  };
}

describe('configs', () => {
  it('shows the running config with passwords, secrets, keys and URL passwords redacted', async () => {
    const cfg = gatewayConfig();
    f = await startAdmin({ extra: () => ({ runningConfig: () => cfg }), config: { dashboard: { default_password: 'Dash-pass-77' } } });
    const r = await f.api('GET', '/api/v5/configs');
    expect(r.status).toBe(200);
    const text = JSON.stringify(r.body);
    for (const secret of ['redis-pw', 'jwt-hmac-secret', 'pg-secret', 'key-pass', 'BEGIN PRIVATE KEY', 'Dash-pass-77']) expect(text).not.toContain(secret);
    expect(r.body.authentication[0]).toMatchObject({ password: '******', server: '127.0.0.1:6379', cmd: 'HMGET mqtt_user:${username} password_hash' });
    expect(r.body.authentication[1]).toMatchObject({ secret: '******', use_jwks: false });
    expect(r.body.connectors.postgres.db).toEqual({ server: 'postgres://app:******@db:5432/iot', token_expired_time: 5 });
    expect(r.body.listeners.ssl.default.ssl_options).toEqual({ keyfile: 'etc/key.pem', password: '******', key: '******' });
    expect(r.body.mqtt).toEqual({ max_inflight: 32, max_packet_size: 1_048_576 });
    // The admin's own sections, live and parsed.
    expect(r.body.dashboard).toMatchObject({ token_expired_time: 3_600_000, default_password: '******', listeners: { http: { bind: { host: '127.0.0.1', port: 18083 } } } });
    expect((await f.api('GET', '/api/v5/configs/log')).body).toEqual({ level: 'info', format: 'json' });
    expect((await f.api('GET', '/api/v5/configs/nope')).status).toBe(404);
    expect((await fetch(`${f.base}/api/v5/configs`)).status).toBe(401);
    // The config is not changed by being shown.
    expect(cfg.authentication[0]!.password).toBe('redis-pw');
  });

  it('without the gateway config: the node, the broker settings and the admin sections', async () => {
    f = await startAdmin();
    const r = await f.api('GET', '/api/v5/configs');
    expect(Object.keys(r.body).sort()).toEqual(['api_key', 'dashboard', 'mqtt', 'node', 'prometheus']);
    expect(r.body.node).toEqual({ name: 'junction@127.0.0.1' });
    expect(typeof r.body.mqtt.max_inflight).toBe('number');
  });

  it('changes the log level at run time; refuses keys that need a restart, naming them, and applies nothing then', async () => {
    let level = 'info';
    const cfg = gatewayConfig();
    f = await startAdmin({ extra: () => ({ runningConfig: () => cfg, logLevel: { get: () => level, set: (l: string) => (level = l) } }) });
    const r = await f.api('PUT', '/api/v5/configs/log', { level: 'debug' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ level: 'debug', format: 'json' });
    expect(level).toBe('debug');
    expect((await f.api('GET', '/api/v5/configs')).body.log.level).toBe('debug');
    expect(f.log.events('admin_config_updated').map((e) => e.obj)).toEqual([expect.objectContaining({ section: 'log', keys: ['level'], level: 'debug' })]);

    const both = await f.api('PUT', '/api/v5/configs/log', { level: 'warn', format: 'text' });
    expect(both.status).toBe(400);
    expect(both.body.message).toMatch(/^log\.format cannot change at run time/);
    expect(level).toBe('debug');
    expect((await f.api('PUT', '/api/v5/configs/log', { level: 'loud' })).status).toBe(400);
    const mqtt = await f.api('PUT', '/api/v5/configs/mqtt', { max_inflight: 64 });
    expect([mqtt.status, mqtt.body.message]).toEqual([400, 'mqtt.max_inflight cannot change at run time (edit the config file and restart)']);
    // Sending back what GET answered, with one value changed, works (redacted values are ignored).
    const whole = (await f.api('GET', '/api/v5/configs/log')).body;
    expect((await f.api('PUT', '/api/v5/configs/log', { ...whole, level: 'warn' })).body.level).toBe('warn');
    const auth = (await f.api('GET', '/api/v5/configs/authentication')).body;
    expect((await f.api('PUT', '/api/v5/configs/authentication', { 0: auth[0] })).status).toBe(200); // nothing changes
    const moved = await f.api('PUT', '/api/v5/configs/authentication', { 0: { ...auth[0], server: '10.0.0.9:6379' } });
    expect([moved.status, moved.body.message]).toEqual([400, 'authentication.0.server cannot change at run time (edit the config file and restart)']);
    expect((await f.api('PUT', '/api/v5/configs/nope', { a: 1 })).status).toBe(404);

    const audit = (await f.api('GET', '/api/v5/audit?operation_type=configs')).body.data as { http_request: { bindings: { section: string } }; operation_result: string }[];
    expect(audit.map((e) => `${e.http_request.bindings.section} ${e.operation_result}`)).toEqual([
      'nope failure',
      'authentication failure',
      'authentication success',
      'log success',
      'mqtt failure',
      'log failure',
      'log failure',
      'log success',
    ]);
  });

  it('changes login and Prometheus settings of the admin server at run time', async () => {
    f = await startAdmin();
    expect((await fetch(`${f.base}/api/v5/prometheus/stats`)).status).toBe(401);
    expect((await f.api('PUT', '/api/v5/configs/prometheus', { enable_basic_auth: false })).status).toBe(200);
    expect((await fetch(`${f.base}/api/v5/prometheus/stats`)).status).toBe(200);
    expect((await f.api('PUT', '/api/v5/configs/prometheus', { process_metrics: false })).status).toBe(400);

    const r = await f.api('PUT', '/api/v5/configs/dashboard', { token_expired_time: '2m', unsuccessful_login_max_attempts: 2, unsuccessful_login_delay: '1ms' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_expired_time: 120_000, unsuccessful_login_max_attempts: 2, unsuccessful_login_delay: 1 });
    const token = await login(f.base, 'admin', 'Test-pass-42');
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number; iat_ms: number };
    expect(claims.exp * 1000 - claims.iat_ms).toBeGreaterThan(110_000);
    expect(claims.exp * 1000 - claims.iat_ms).toBeLessThanOrEqual(120_000);
    for (let i = 0; i < 2; i++) expect((await fetch(`${f.base}/api/v5/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"admin","password":"wrong-Pass-1"}' })).status).toBe(401);
    expect((await fetch(`${f.base}/api/v5/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"admin","password":"Test-pass-42"}' })).status).toBe(429);

    const bad = await f.api('PUT', '/api/v5/configs/dashboard', { token_expired_time: 'soon' });
    expect([bad.status, bad.body.code]).toEqual([400, 'BAD_REQUEST']);
    expect(bad.body.message).toContain('dashboard.token_expired_time');
    expect((await f.api('PUT', '/api/v5/configs/dashboard', { listeners: { http: { bind: '0.0.0.0:18083' } } })).body.message).toMatch(/^dashboard\.listeners\.http\.bind cannot change/);
    // A viewer API key may read, not write.
    const key = (await f.api('POST', '/api/v5/api_key', { name: 'ro', role: 'viewer' })).body as { api_key: string; api_secret: string };
    expect((await f.api('GET', '/api/v5/configs', undefined, basic(key.api_key, key.api_secret))).status).toBe(200);
    expect((await f.api('PUT', '/api/v5/configs/log', { level: 'debug' }, basic(key.api_key, key.api_secret))).status).toBe(403);
  });
});
