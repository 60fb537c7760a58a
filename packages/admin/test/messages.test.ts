import { afterEach, describe, expect, it } from 'vitest';
import { nextMessage, publish, startAdmin, subscribe, type AdminFixture } from './helpers.js';

let f: AdminFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

describe('publish', () => {
  it('reaches a subscriber (200 with an id); no subscriber gives 202 reason 16', async () => {
    f = await startAdmin();
    const sub = await f.mqttClient({ clientId: 'listener' });
    await subscribe(sub, 'api/#', 1);
    const got = new Promise<{ payload: Buffer; qos: number; props: Record<string, unknown> | undefined }>((resolve) =>
      sub.once('message', (_t, payload, packet) => resolve({ payload, qos: packet.qos, props: packet.properties as Record<string, unknown> | undefined })),
    );
    const r = await f.api('POST', '/api/v5/publish', {
      topic: 'api/hello',
      payload: 'hello from the API',
      qos: 1,
      properties: { content_type: 'text/plain', user_properties: { origin: 'test' }, message_expiry_interval: 60 },
    });
    expect(r.status).toBe(200);
    expect(r.body.id).toMatch(/^[0-9A-F]{32}$/);
    const m = await got;
    expect(m.payload.toString()).toBe('hello from the API');
    expect(m.qos).toBe(1);
    expect(m.props).toMatchObject({ contentType: 'text/plain', userProperties: { origin: 'test' } });

    const b64 = nextMessage(sub, 'api/bin');
    expect((await f.api('POST', '/api/v5/publish', { topic: 'api/bin', payload: Buffer.from([0, 1, 2, 255]).toString('base64'), payload_encoding: 'base64' })).status).toBe(200);
    expect([...(await b64).payload]).toEqual([0, 1, 2, 255]);

    const none = await f.api('POST', '/api/v5/publish', { topic: 'nobody/listens', payload: 'x' });
    expect(none.status).toBe(202);
    expect(none.body).toEqual({ reason_code: 16, message: 'no_matching_subscribers' });

    for (const topic of ['bad/+/topic', '$SYS/brokers/x']) {
      const bad = await f.api('POST', '/api/v5/publish', { topic, payload: 'x' });
      expect(bad.status, topic).toBe(400);
      expect(bad.body.reason_code).toBe(0x90);
    }
    expect((await f.api('POST', '/api/v5/publish', { topic: 'a', payload: 'x', qos: 3 })).status).toBe(400);
    expect((await f.api('POST', '/api/v5/publish', { topic: 'a', payload: '***', payload_encoding: 'base64' })).status).toBe(400);

    const bulk = await f.api('POST', '/api/v5/publish/bulk', [
      { topic: 'api/one', payload: '1' },
      { topic: 'elsewhere', payload: '2' },
    ]);
    expect(bulk.status).toBe(202);
    expect(bulk.body[0].id).toBeDefined();
    expect(bulk.body[1]).toEqual({ reason_code: 16, message: 'no_matching_subscribers' });
  });
});

describe('retained messages', () => {
  it('are listed (paged, by filter), read with their payload, and deleted', async () => {
    f = await startAdmin();
    const pub = await f.mqttClient({ clientId: 'retainer', username: 'ret-user' });
    await publish(pub, 'status/a', 'on', { retain: true });
    await publish(pub, 'status/b', 'off', { retain: true, qos: 0 });
    expect((await f.api('POST', '/api/v5/publish', { topic: 'config/x', payload: 'v1', retain: true, qos: 1 })).status).toBe(202);

    const list = await f.api('GET', '/api/v5/mqtt/retainer/messages');
    expect(list.status).toBe(200);
    const topics = list.body.data.map((m: { topic: string }) => m.topic);
    expect(topics).toEqual(expect.arrayContaining(['config/x', 'status/a', 'status/b']));
    const a = list.body.data.find((m: { topic: string }) => m.topic === 'status/a');
    expect(a).toMatchObject({ topic: 'status/a', qos: 1, from_clientid: 'retainer', from_username: 'ret-user' });
    expect(a.msgid).toMatch(/^[0-9A-F]{32}$/);
    expect(a.payload).toBeUndefined();
    const cfg = list.body.data.find((m: { topic: string }) => m.topic === 'config/x');
    expect(cfg).toMatchObject({ from_clientid: 'http_api', from_username: 'admin' });

    expect((await f.api('GET', '/api/v5/mqtt/retainer/messages?topic=status/%2B')).body.data.map((m: { topic: string }) => m.topic)).toEqual(['status/a', 'status/b']);
    const paged = await f.api('GET', '/api/v5/mqtt/retainer/messages?topic=%23&limit=2');
    expect(paged.body.meta).toEqual({ page: 1, limit: 2, count: 3, hasnext: true });

    const one = await f.api('GET', `/api/v5/mqtt/retainer/message/${encodeURIComponent('status/a')}`);
    expect(one.status).toBe(200);
    expect(Buffer.from(one.body.payload, 'base64').toString()).toBe('on');
    // Unencoded slashes work too.
    expect((await f.api('GET', '/api/v5/mqtt/retainer/message/status/b')).body.topic).toBe('status/b');

    expect((await f.api('DELETE', `/api/v5/mqtt/retainer/message/${encodeURIComponent('status/a')}`)).status).toBe(204);
    expect((await f.api('GET', `/api/v5/mqtt/retainer/message/${encodeURIComponent('status/a')}`)).status).toBe(404);
    expect((await f.api('DELETE', `/api/v5/mqtt/retainer/message/${encodeURIComponent('status/a')}`)).status).toBe(404);

    // A new subscriber no longer receives the deleted one, still the others.
    const sub = await f.mqttClient({ clientId: 'late' });
    const seen: string[] = [];
    sub.on('message', (t) => seen.push(t));
    await subscribe(sub, 'status/#', 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual(['status/b']);
  });
});
