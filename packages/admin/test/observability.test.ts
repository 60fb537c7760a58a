import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { basic, publish, startAdmin, subscribe, type AdminFixture } from './helpers.js';

let f: AdminFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

/** The value of one sample line, e.g. `emqx_messages_received 3`. */
function sample(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('Prometheus', () => {
  it("exposes EMQX's metric names with values that follow the traffic", async () => {
    f = await startAdmin();
    const sub = await f.mqttClient({ clientId: 'p-sub' });
    const pub = await f.mqttClient({ clientId: 'p-pub' });
    await subscribe(sub, 'p/#', 2);
    const got = new Promise<void>((resolve) => sub.on('message', (t) => t === 'p/2' && resolve()));
    // In order on one connection: by the time p/2 arrives, all three are counted.
    await publish(pub, 'nowhere', 'c', { qos: 0, retain: true });
    await publish(pub, 'p/1', 'a', { qos: 1 });
    await publish(pub, 'p/2', 'b', { qos: 2 });
    await got;

    const r = await fetch(`${f.base}/api/v5/prometheus/stats`, { headers: { authorization: `Bearer ${f.token}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await r.text();
    expect(text).toContain('# TYPE emqx_messages_received counter');
    expect(text).toContain('# TYPE emqx_connections_count gauge');
    expect(sample(text, 'emqx_connections_count')).toBe(2);
    expect(sample(text, 'emqx_sessions_count')).toBe(2);
    expect(sample(text, 'emqx_subscriptions_count')).toBe(1);
    expect(sample(text, 'emqx_retained_count')).toBe(1);
    expect(sample(text, 'emqx_topics_count')).toBe(1);
    expect(sample(text, 'emqx_messages_received')).toBe(3);
    expect(sample(text, 'emqx_messages_qos0_received')).toBe(1);
    expect(sample(text, 'emqx_messages_qos1_received')).toBe(1);
    expect(sample(text, 'emqx_messages_qos2_received')).toBe(1);
    expect(sample(text, 'emqx_messages_sent')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'emqx_messages_dropped')).toBe(1);
    expect(sample(text, 'emqx_messages_dropped_no_subscribers')).toBe(1);
    expect(sample(text, 'emqx_messages_dropped_queue_full')).toBe(0);
    expect(sample(text, 'emqx_bytes_received')).toBeGreaterThan(0);
    expect(sample(text, 'emqx_bytes_sent')).toBeGreaterThan(0);
    expect(sample(text, 'emqx_client_connected')).toBe(2);
    expect(sample(text, 'emqx_cluster_nodes_running')).toBe(1);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('needs credentials by default (an API key works); prometheus.enable_basic_auth: false opens it', async () => {
    f = await startAdmin();
    expect((await fetch(`${f.base}/api/v5/prometheus/stats`)).status).toBe(401);
    const key = (await f.api('POST', '/api/v5/api_key', { name: 'prom', role: 'viewer' })).body as { api_key: string; api_secret: string };
    const scraped = await fetch(`${f.base}/api/v5/prometheus/stats`, { headers: basic(key.api_key, key.api_secret) });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('emqx_connections_count 0');
    await f.stop();

    f = await startAdmin({ config: { prometheus: { enable_basic_auth: false, process_metrics: false } } });
    const open = await fetch(`${f.base}/api/v5/prometheus/stats`);
    expect(open.status).toBe(200);
    const text = await open.text();
    expect(text).toContain('emqx_messages_sent 0');
    expect(text).not.toContain('process_resident_memory_bytes');
    // Only the Prometheus endpoint opens.
    expect((await fetch(`${f.base}/api/v5/stats`)).status).toBe(401);
  });
});

describe('audit', () => {
  it('records every write with who and what, without secrets, newest first; reads are not audited', async () => {
    f = await startAdmin();
    await f.mqttClient({ clientId: 'audited' });
    await f.api('GET', '/api/v5/clients');
    await f.api('DELETE', '/api/v5/clients/audited');
    await f.api('POST', '/api/v5/publish', { topic: 'a/b', payload: 'secret payload' });
    await f.api('POST', '/api/v5/users', { username: 'u2', password: 'Very-secret-9' });
    await fetch(`${f.base}/api/v5/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'Wrong-pass-1' }) });
    await fetch(`${f.base}/api/v5/clients/x`, { method: 'DELETE' });

    const r = await f.api('GET', '/api/v5/audit');
    expect(r.status, JSON.stringify(f.log.events('admin_request_failed').map((e) => String(e.obj.err)))).toBe(200);
    const ops = r.body.data.map((e: { operation_id: string; http_status_code: number }) => `${e.operation_id} ${e.http_status_code}`);
    expect(ops).toEqual([
      'DELETE /api/v5/clients/:clientid 401',
      'POST /api/v5/login 401',
      'POST /api/v5/users 200',
      'POST /api/v5/publish 202',
      'DELETE /api/v5/clients/:clientid 204',
      'POST /api/v5/login 200',
    ]);
    const [anon, badLogin, user, pub, kick] = r.body.data;
    expect(kick).toMatchObject({ from: 'dashboard', source: 'admin', source_ip: '127.0.0.1', operation_type: 'clients', operation_result: 'success', http_method: 'DELETE', http_request: { bindings: { clientid: 'audited' } }, node: 'junction@127.0.0.1' });
    expect(pub.http_request.body).toMatchObject({ topic: 'a/b', payload: '******' });
    expect(user.http_request.body).toEqual({ username: 'u2', password: '******' });
    expect(badLogin).toMatchObject({ from: 'anonymous', source: 'admin', operation_result: 'failure' });
    expect(anon).toMatchObject({ from: 'anonymous', source: '', operation_result: 'failure' });

    expect((await f.api('GET', '/api/v5/audit?operation_type=clients&limit=1')).body).toMatchObject({ meta: { count: 2, hasnext: true } });
    expect((await f.api('GET', '/api/v5/audit?operation_result=failure')).body.meta.count).toBe(2);

    const logged = f.log.events('admin_audit');
    expect(logged).toHaveLength(6);
    expect(logged.find((e) => e.obj.operation === 'DELETE /api/v5/clients/:clientid' && e.obj.status === 204)!.obj).toMatchObject({ source: 'admin', bindings: { clientid: 'audited' } });
    const text = f.log.text();
    for (const secret of ['secret payload', 'Very-secret-9', 'Wrong-pass-1', f.token]) expect(text).not.toContain(secret);
  });
});

describe('OpenAPI', () => {
  it('serves a document generated from the route schemas, listing every route', async () => {
    f = await startAdmin();
    const r = await f.api('GET', '/api/v5/openapi.json');
    expect(r.status).toBe(200);
    const doc = r.body as { openapi: string; paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown>; requestBody?: unknown }>>; components: { securitySchemes: Record<string, unknown> } };
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    for (const route of [
      'POST /api/v5/login',
      'GET /api/v5/clients',
      'GET /api/v5/clients/{clientid}',
      'DELETE /api/v5/clients/{clientid}',
      'GET /api/v5/clients/{clientid}/subscriptions',
      'GET /api/v5/subscriptions',
      'GET /api/v5/topics',
      'POST /api/v5/publish',
      'GET /api/v5/mqtt/retainer/messages',
      'GET /api/v5/banned',
      'POST /api/v5/banned',
      'GET /api/v5/authentication/{id}/users',
      'POST /api/v5/authentication/{id}/users',
      'GET /api/v5/stats',
      'GET /api/v5/metrics',
      'GET /api/v5/nodes',
      'GET /api/v5/status',
      'GET /api/v5/prometheus/stats',
      'POST /api/v5/api_key',
      'GET /api/v5/audit',
    ]) {
      expect(routes, route).toContain(route);
    }
    expect(routes).not.toContain('GET /api/v5/openapi.json');
    expect(doc.components.securitySchemes).toHaveProperty('bearerAuth');
    expect(doc.components.securitySchemes).toHaveProperty('basicAuth');
    expect(doc.paths['/api/v5/login']!.post!.security).toEqual([]);
    expect(doc.paths['/api/v5/publish']!.post!.requestBody).toBeDefined();
    expect(Object.keys(doc.paths['/api/v5/clients/{clientid}']!.get!.responses)).toEqual(expect.arrayContaining(['200', '404']));
  });
});

describe('dashboard files', () => {
  it('are served from dashboard.static_dir without credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-dash-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Junction</title>');
    f = await startAdmin({ config: { dashboard: { static_dir: dir } } });
    const r = await fetch(`${f.base}/index.html`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('<title>Junction</title>');
    expect((await fetch(`${f.base}/`)).status).toBe(200);
    expect((await fetch(`${f.base}/api/v5/clients`)).status).toBe(401);
  });
});
