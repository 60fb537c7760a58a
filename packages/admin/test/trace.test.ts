import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, publish, startAdmin, subscribe, type AdminFixture } from './helpers.js';

let f: AdminFixture | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await f?.stop();
  f = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function download(name: string): Promise<{ status: number; text: string; disposition: string | null }> {
  const r = await fetch(`${f!.base}/api/v5/trace/${name}/download`, { headers: { authorization: `Bearer ${f!.token}` } });
  return { status: r.status, text: await r.text(), disposition: r.headers.get('content-disposition') };
}

describe('log trace', () => {
  it('traces one client id: its connect, subscribe, publish, deliveries and disconnect, and nothing of other clients', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'junction-admin-trace-'));
    dirs.push(dataDir);
    f = await startAdmin({ dataDir, env: { JUNCTION_DASHBOARD__DEFAULT_PASSWORD: 'Test-pass-42' } });
    const created = await f.api('POST', '/api/v5/trace', { name: 'dev-1', type: 'clientid', clientid: 'dev-1' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'dev-1', type: 'clientid', clientid: 'dev-1', status: 'running', payload_encode: 'text', formatter: 'text', log_size: { 'junction@127.0.0.1': 0 } });
    expect(Date.parse(created.body.end_at) - Date.parse(created.body.start_at)).toBe(10 * 60_000);

    const other = await f.mqttClient({ clientId: 'other' });
    const dev = await f.mqttClient({ clientId: 'dev-1', username: 'u1' });
    await subscribe(dev, 'cmd/dev-1', 1);
    const got = new Promise<void>((resolve) => dev.on('message', () => resolve()));
    await publish(other, 'cmd/dev-1', 'reboot', { qos: 1 });
    await got;
    await publish(dev, 'telemetry/dev-1', '{"t":21}', { qos: 1 });
    await publish(other, 'elsewhere', 'not traced', { qos: 0 });
    dev.end(true);
    await eventually(async () => (await download('dev-1')).text.includes('[client.disconnected]'), 3000, 'disconnect traced');

    const { status, text, disposition } = await download('dev-1');
    expect(status).toBe(200);
    expect(disposition).toMatch(/attachment; filename="junction@127\.0\.0\.1-trace_dev-1_\d{8}-\d{6}\.log"/);
    const events = text.trim().split('\n').map((l) => /\[([a-z._]+)\]/.exec(l)?.[1]);
    expect(events).toEqual(['client.connected', 'session.subscribed', 'message.delivered', 'message.publish', 'message.dropped', 'client.disconnected']);
    expect(text).toMatch(/\[client\.connected\] dev-1@127\.0\.0\.1:\d+ username: u1, proto_name: mqtt, proto_ver: 5/);
    expect(text).toContain('[message.delivered] dev-1@');
    expect(text).toContain('from_clientid: other, payload: reboot');
    expect(text).toContain('topic: telemetry/dev-1, qos: 1, retain: false, payload: {"t":21}');
    expect(text).toContain('[message.dropped] dev-1 topic: telemetry/dev-1, qos: 1, reason: no_subscribers');
    expect(text).not.toContain('not traced');
    // In the data directory.
    expect(readdirSync(join(dataDir, 'trace'))).toEqual([expect.stringMatching(/^trace_dev-1_/)]);

    const listed = await f.api('GET', '/api/v5/trace');
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0].log_size['junction@127.0.0.1']).toBe(Buffer.byteLength(text));
    const part = await f.api('GET', '/api/v5/trace/dev-1/log?bytes=20&position=0');
    expect(part.body).toEqual({ items: text.slice(0, 20), meta: { position: 20, bytes: 20 } });

    const stopped = await f.api('PUT', '/api/v5/trace/dev-1/stop');
    expect(stopped.body.status).toBe('stopped');
    const again = await f.mqttClient({ clientId: 'dev-1' });
    again.end(true);
    expect((await download('dev-1')).text).toBe(text);

    expect((await f.api('DELETE', '/api/v5/trace/dev-1')).status).toBe(204);
    expect(readdirSync(join(dataDir, 'trace'))).toEqual([]);
    expect((await f.api('GET', '/api/v5/trace/dev-1/download')).status).toBe(404);
    expect((await f.api('DELETE', '/api/v5/trace/dev-1')).status).toBe(404);

    const audit = (await f.api('GET', '/api/v5/audit?operation_type=trace')).body.data as { operation_id: string; operation_result: string }[];
    expect(audit.map((e) => `${e.operation_id} ${e.operation_result}`)).toEqual([
      'DELETE /api/v5/trace/:name failure',
      'DELETE /api/v5/trace/:name success',
      'PUT /api/v5/trace/:name/stop success',
      'POST /api/v5/trace success',
    ]);
  });

  it('traces a topic filter as JSON lines with hex payloads, from any client', async () => {
    f = await startAdmin();
    const r = await f.api('POST', '/api/v5/trace', { name: 'rooms', type: 'topic', topic: 'room/+/temp', formatter: 'json', payload_encode: 'hex' });
    expect(r.status).toBe(200);
    const a = await f.mqttClient({ clientId: 'a' });
    const b = await f.mqttClient({ clientId: 'b' });
    await subscribe(b, 'room/#', 0);
    const got = new Promise<void>((resolve) => b.on('message', (t) => t === 'room/1/temp' && resolve()));
    await publish(a, 'room/1/hum', 'x', { qos: 0 });
    await publish(a, 'room/1/temp', 'hi', { qos: 0 });
    await got;
    const lines = (await download('rooms')).text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.event, l.clientid, l.topic, l.payload])).toEqual([
      ['message.publish', 'a', 'room/1/temp', '6869'],
      ['message.delivered', 'b', 'room/1/temp', '6869'],
    ]);
    expect(typeof lines[0]!.time).toBe('string');
  });

  it('refuses bad traces: duplicates, missing filters, bad windows, bad names; needs credentials; clears all', async () => {
    f = await startAdmin();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const later = new Date(Date.now() + 7_200_000).toISOString();
    const w = await f.api('POST', '/api/v5/trace', { name: 'w', type: 'ip_address', ip_address: '10.0.0.1', start_at: future, end_at: later });
    expect(w.body.status).toBe('waiting');
    const dup = await f.api('POST', '/api/v5/trace', { name: 'w', type: 'clientid', clientid: 'x' });
    expect([dup.status, dup.body.code]).toEqual([409, 'ALREADY_EXISTS']);
    const same = await f.api('POST', '/api/v5/trace', { name: 'w2', type: 'ip_address', ip_address: '10.0.0.1' });
    expect([same.status, same.body.code]).toEqual([409, 'DUPLICATE_CONDITION']);
    expect((await f.api('POST', '/api/v5/trace', { name: 'm', type: 'topic' })).status).toBe(400);
    expect((await f.api('POST', '/api/v5/trace', { name: 'bad name!', type: 'clientid', clientid: 'x' })).status).toBe(400);
    expect((await f.api('POST', '/api/v5/trace', { name: 'past', type: 'clientid', clientid: 'x', start_at: '2020-01-01T00:00:00Z', end_at: '2020-01-02T00:00:00Z' })).status).toBe(400);
    expect((await f.api('POST', '/api/v5/trace', { name: 'nope', type: 'clientid', clientid: 'x', start_at: 'yesterday' })).status).toBe(400);
    expect((await fetch(`${f.base}/api/v5/trace`)).status).toBe(401);
    expect((await fetch(`${f.base}/api/v5/trace`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', type: 'clientid', clientid: 'x' }) })).status).toBe(401);
    await f.api('POST', '/api/v5/trace', { name: 'two', type: 'clientid', clientid: 'x' });
    expect((await f.api('GET', '/api/v5/trace')).body.map((t: { name: string }) => t.name).sort()).toEqual(['two', 'w']);
    expect((await f.api('DELETE', '/api/v5/trace')).status).toBe(204);
    expect((await f.api('GET', '/api/v5/trace')).body).toEqual([]);
  });

  it('removes its temporary directory at stop when there is no data directory', async () => {
    f = await startAdmin();
    const ours = () => new Set(readdirSync(tmpdir()).filter((d) => d.startsWith('junction-trace-')));
    const before = ours();
    expect((await f.api('POST', '/api/v5/trace', { name: 't', type: 'clientid', clientid: 'x' })).status).toBe(200);
    const made = [...ours()].filter((d) => !before.has(d));
    expect(made).toHaveLength(1);
    await f.stop();
    f = undefined;
    expect(existsSync(join(tmpdir(), made[0]!))).toBe(false);
  });
});
