import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, publish, startAdmin, subscribe, type AdminFixture } from './helpers.js';

let f: AdminFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

describe('clients', () => {
  it('lists connected clients with paging and EMQX filters', async () => {
    f = await startAdmin();
    for (let i = 1; i <= 5; i++) await f.mqttClient({ clientId: `sensor-${i}`, username: i <= 2 ? 'alice' : 'bob' });
    await f.mqttClient({ clientId: 'gateway-1', protocolVersion: 4, clean: false });

    const all = await f.api('GET', '/api/v5/clients');
    expect(all.status).toBe(200);
    expect(all.body.meta).toEqual({ page: 1, limit: 100, count: 6, hasnext: false });
    const c = all.body.data.find((x: { clientid: string }) => x.clientid === 'sensor-1');
    expect(c).toMatchObject({
      node: 'junction@127.0.0.1',
      clientid: 'sensor-1',
      username: 'alice',
      proto_name: 'MQTT',
      proto_ver: 5,
      ip_address: '127.0.0.1',
      connected: true,
      clean_start: true,
      is_bridge: false,
      subscriptions_cnt: 0,
      inflight_max: 32,
      mqueue_max: 1000,
      subscriptions_max: 'infinity',
    });
    expect(c.port).toBeGreaterThan(0);
    expect(Date.parse(c.connected_at)).toBeGreaterThan(Date.now() - 60_000);

    const p1 = await f.api('GET', '/api/v5/clients?limit=4&page=1');
    expect(p1.body.data).toHaveLength(4);
    expect(p1.body.meta).toEqual({ page: 1, limit: 4, count: 6, hasnext: true });
    const p2 = await f.api('GET', '/api/v5/clients?limit=4&page=2');
    expect(p2.body.data).toHaveLength(2);
    expect(p2.body.meta.hasnext).toBe(false);
    const ids = [...p1.body.data, ...p2.body.data].map((x: { clientid: string }) => x.clientid);
    expect(new Set(ids).size).toBe(6);

    const q = async (query: string) => (await f!.api('GET', `/api/v5/clients?${query}`)).body.data.map((x: { clientid: string }) => x.clientid).sort();
    expect(await q('username=alice')).toEqual(['sensor-1', 'sensor-2']);
    expect(await q('clientid=sensor-3')).toEqual(['sensor-3']);
    expect(await q('like_clientid=gate')).toEqual(['gateway-1']);
    expect(await q('like_username=bo')).toEqual(['sensor-3', 'sensor-4', 'sensor-5']);
    expect(await q('proto_ver=4')).toEqual(['gateway-1']);
    expect(await q('clean_start=false')).toEqual(['gateway-1']);
    expect(await q('ip_address=127.0.0.1')).toHaveLength(6);
    expect(await q(`gte_connected_at=${Date.now() + 60_000}`)).toEqual([]);
    expect((await f.api('GET', '/api/v5/clients?gte_created_at=yesterday')).status).toBe(400);
    expect((await f.api('GET', '/api/v5/clients?limit=0')).status).toBe(400);
    expect((await f.api('GET', '/api/v5/clients?node=other@host')).status).toBe(400);

    // A persistent session stays listed after its client leaves, as disconnected.
    const gw = f.clients.at(-1)!;
    await new Promise<void>((r) => gw.end(false, {}, () => r()));
    await eventually(async () => (await q('conn_state=disconnected')).includes('gateway-1'), 3000, 'disconnected state');
    expect(await q('conn_state=connected')).toHaveLength(5);
    const detail = await f.api('GET', '/api/v5/clients/gateway-1');
    expect(detail.body).toMatchObject({ connected: false, clean_start: false, is_persistent: true, expiry_interval: 7200 });
    expect(Date.parse(detail.body.disconnected_at)).toBeGreaterThan(0);
  });

  it('shows one client, 404 CLIENTID_NOT_FOUND for unknown ids, and handles ids that need URL encoding', async () => {
    f = await startAdmin();
    await f.mqttClient({ clientId: 'dev/with slash+plus', username: 'u1' });
    const r = await f.api('GET', `/api/v5/clients/${encodeURIComponent('dev/with slash+plus')}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ clientid: 'dev/with slash+plus', username: 'u1', connected: true });
    const missing = await f.api('GET', '/api/v5/clients/nobody');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('CLIENTID_NOT_FOUND');
  });

  it('kicks a client: the MQTT 5 client gets DISCONNECT 0x98 and the client disappears', async () => {
    f = await startAdmin();
    const victim = await f.mqttClient({ clientId: 'victim' });
    const reason = new Promise<number | undefined>((resolve) => victim.once('disconnect', (p) => resolve(p.reasonCode)));
    const r = await f.api('DELETE', '/api/v5/clients/victim');
    expect(r.status).toBe(204);
    expect(await reason).toBe(0x98);
    await eventually(async () => (await f!.api('GET', '/api/v5/clients/victim')).status === 404, 3000, 'victim gone');
    expect((await f.api('DELETE', '/api/v5/clients/victim')).status).toBe(404);

    const a = await f.mqttClient({ clientId: 'bulk-a' });
    const b = await f.mqttClient({ clientId: 'bulk-b' });
    const gone = (c: MqttClient) => new Promise<void>((resolve) => c.once('close', () => resolve()));
    const both = Promise.all([gone(a), gone(b)]);
    expect((await f.api('POST', '/api/v5/clients/kickout/bulk', ['bulk-a', 'bulk-b', 'not-there'])).status).toBe(204);
    await both;
  });
});

describe('subscriptions and topics', () => {
  it("lists a client's subscriptions with their options, all subscriptions with filters, and routes", async () => {
    f = await startAdmin();
    const c1 = await f.mqttClient({ clientId: 'sub-1' });
    const c2 = await f.mqttClient({ clientId: 'sub-2' });
    await new Promise<void>((resolve, reject) =>
      c1.subscribe({ 'room/+/temp': { qos: 1, nl: true, rap: true, rh: 2 }, 'alerts/#': { qos: 2 } }, (err) => (err ? reject(err) : resolve())),
    );
    await subscribe(c2, '$share/workers/jobs/#', 1);
    await subscribe(c2, 'room/+/temp', 0);

    const own = await f.api('GET', '/api/v5/clients/sub-1/subscriptions');
    expect(own.status).toBe(200);
    expect(own.body).toEqual(
      expect.arrayContaining([
        { node: 'junction@127.0.0.1', clientid: 'sub-1', topic: 'room/+/temp', qos: 1, nl: 1, rap: 1, rh: 2, durable: false },
        { node: 'junction@127.0.0.1', clientid: 'sub-1', topic: 'alerts/#', qos: 2, nl: 0, rap: 0, rh: 0, durable: false },
      ]),
    );
    expect(own.body).toHaveLength(2);
    expect((await f.api('GET', '/api/v5/clients/ghost/subscriptions')).status).toBe(404);

    const topics = async (q: string) => (await f!.api('GET', `/api/v5/subscriptions?${q}`)).body.data.map((s: { clientid: string; topic: string }) => `${s.clientid} ${s.topic}`).sort();
    expect((await f.api('GET', '/api/v5/subscriptions')).body.meta.count).toBe(4);
    expect(await topics('clientid=sub-2')).toEqual(['sub-2 $share/workers/jobs/#', 'sub-2 room/+/temp']);
    expect(await topics('qos=2')).toEqual(['sub-1 alerts/#']);
    expect(await topics('match_topic=room/kitchen/temp')).toEqual(['sub-1 room/+/temp', 'sub-2 room/+/temp']);
    expect(await topics('share_group=workers')).toEqual(['sub-2 $share/workers/jobs/#']);
    expect(await topics(`topic=${encodeURIComponent('alerts/#')}`)).toEqual(['sub-1 alerts/#']);
    expect((await f.api('GET', '/api/v5/subscriptions?limit=3')).body.meta).toEqual({ page: 1, limit: 3, count: 4, hasnext: true });

    const routes = await f.api('GET', '/api/v5/topics');
    expect(routes.body.data.map((t: { topic: string }) => t.topic)).toEqual(['alerts/#', 'jobs/#', 'room/+/temp']);
    expect(routes.body.data[0].node).toBe('junction@127.0.0.1');
    expect((await f.api('GET', '/api/v5/topics?topic=room/x/temp')).body.data).toEqual([{ topic: 'room/+/temp', node: 'junction@127.0.0.1' }]);
    expect((await f.api('GET', `/api/v5/topics/${encodeURIComponent('alerts/#')}`)).body).toEqual([{ topic: 'alerts/#', node: 'junction@127.0.0.1' }]);
    expect((await f.api('GET', '/api/v5/topics/nothing')).status).toBe(404);

    await new Promise<void>((resolve) => c1.unsubscribe('alerts/#', () => resolve()));
    expect((await f.api('GET', '/api/v5/clients/sub-1/subscriptions')).body.map((s: { topic: string }) => s.topic)).toEqual(['room/+/temp']);
  });
});

describe('stats and metrics', () => {
  it('change after traffic', async () => {
    f = await startAdmin();
    const before = (await f.api('GET', '/api/v5/stats')).body;
    expect(before).toEqual([expect.objectContaining({ node: 'junction@127.0.0.1', 'connections.count': 0, 'subscriptions.count': 0 })]);
    const m0 = (await f.api('GET', '/api/v5/metrics?aggregate=true')).body;
    expect(m0['messages.received']).toBe(0);

    const sub = await f.mqttClient({ clientId: 'st-sub' });
    const pub = await f.mqttClient({ clientId: 'st-pub' });
    await subscribe(sub, 'stats/#', 1);
    const got = new Promise<void>((resolve) => sub.on('message', (t) => t === 'stats/b' && resolve()));
    await publish(pub, 'stats/a', 'one', { qos: 1 });
    await publish(pub, 'stats/b', 'two', { qos: 0 });
    await publish(pub, 'kept/x', 'r', { qos: 1, retain: true });
    await got;

    const s = (await f.api('GET', '/api/v5/stats?aggregate=true')).body;
    expect(s).toMatchObject({ 'connections.count': 2, 'live_connections.count': 2, 'sessions.count': 2, 'subscriptions.count': 1, 'topics.count': 1, 'subscribers.count': 1, 'retained.count': 1 });
    expect(s['connections.max']).toBeGreaterThanOrEqual(2);
    expect(s.node).toBeUndefined();

    await eventually(async () => (await f!.api('GET', '/api/v5/metrics?aggregate=true')).body['messages.sent'] >= 2, 3000, 'messages.sent');
    const m = (await f.api('GET', '/api/v5/metrics?aggregate=true')).body;
    expect(m['messages.received']).toBe(3);
    expect(m['messages.qos1.received']).toBe(2);
    expect(m['messages.qos0.received']).toBe(1);
    expect(m['messages.retained']).toBe(1);
    expect(m['messages.dropped.no_subscribers']).toBe(1);
    expect(m['client.connected']).toBe(2);
    expect(m['bytes.received']).toBeGreaterThan(0);
    expect((await f.api('GET', '/api/v5/metrics')).body[0].node).toBe('junction@127.0.0.1');

    const nodes = (await f.api('GET', '/api/v5/nodes')).body;
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ node: 'junction@127.0.0.1', node_status: 'running', connections: 2, role: 'core' });
    expect((await f.api('GET', '/api/v5/nodes/junction@127.0.0.1')).body.uptime).toBeGreaterThanOrEqual(0);
    expect((await f.api('GET', '/api/v5/nodes/other@host')).status).toBe(404);
  });
});
