import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttSnTestClient } from '../src/testing/index.js';
import { startStack, uid, type Stack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ config: { retry_interval: 200, max_retries: 2 } });
});
afterAll(() => s.stop());

describe('sleeping clients (§6.14)', () => {
  it('DISCONNECT with a Duration: acknowledged, the client is asleep, the session stays', async () => {
    const c = await s.snClient();
    const id = uid();
    await c.connect(id);
    await c.sleep(60);
    expect(s.sn.adapter.client(id)?.state).toBe('asleep');
    expect(s.broker.session(id)?.connected).toBe(true);
  });

  it('messages are held while asleep; PINGREQ with the client id delivers them, then PINGRESP', async () => {
    const topic = `sleep/${uid()}`;
    const c = await s.snClient();
    const id = uid();
    await c.connect(id);
    const sub = await c.subscribe(topic, 1);
    await c.sleep(60);
    const pub = await s.mqtt();
    for (const n of ['1', '2', '3']) await pub.client.publishAsync(topic, n, { qos: 1 });
    await pub.client.publishAsync(topic, '4', { qos: 0 });
    await c.nothing('publish', 200);
    c.send({ type: 'pingreq', clientId: id });
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await c.next('publish');
      expect(p.topic).toEqual({ kind: 'id', id: sub.topicId });
      got.push(p.payload.toString());
      // PINGRESP comes only once everything is acknowledged.
      expect(c.pending().some((m) => m.type === 'pingresp')).toBe(false);
      if (p.qos === 1) c.send({ type: 'puback', topicId: sub.topicId, msgId: p.msgId, returnCode: 0 });
    }
    expect(got).toEqual(['1', '2', '3', '4']);
    await c.next('pingresp');
    expect(s.sn.adapter.client(id)?.state).toBe('asleep');
    // Asleep again: the next message waits for the next wake-up.
    await pub.client.publishAsync(topic, '5', { qos: 1 });
    await c.nothing('publish', 200);
    c.autoAck = true;
    await c.ping(id);
    expect(c.received.filter((m) => m.type === 'publish').map((m) => m.type === 'publish' && m.payload.toString())).toContain('5');
  });

  it('waking with nothing held is answered with PINGRESP at once', async () => {
    const c = await s.snClient();
    const id = uid();
    await c.connect(id);
    await c.sleep(60);
    await c.ping(id);
    expect(s.sn.adapter.client(id)?.state).toBe('asleep');
  });

  it('a wildcard-matched message for a sleeping client is registered on wake-up, then delivered', async () => {
    const base = `sleep/${uid()}`;
    const c = await s.snClient();
    const id = uid();
    await c.connect(id);
    await c.subscribe(`${base}/#`, 0);
    await c.sleep(60);
    const pub = await s.mqtt();
    await pub.client.publishAsync(`${base}/x`, 'later');
    await c.nothing(undefined, 150);
    c.autoAck = true;
    c.send({ type: 'pingreq', clientId: id });
    expect((await c.next('register')).topicName).toBe(`${base}/x`);
    expect((await c.next('publish')).payload.toString()).toBe('later');
    await c.next('pingresp');
  });

  it('an unacknowledged delivery is not retransmitted while asleep, and is resent on wake-up', async () => {
    const topic = `sleep/${uid()}`;
    const c = await s.snClient();
    const id = uid();
    await c.connect(id);
    const sub = await c.subscribe(topic, 1);
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'in flight', { qos: 1 });
    const first = await c.next('publish');
    await c.sleep(60);
    await c.nothing('publish', 500);
    c.send({ type: 'pingreq', clientId: id });
    const again = await c.next('publish');
    expect(again).toMatchObject({ msgId: first.msgId, dup: true });
    c.send({ type: 'puback', topicId: sub.topicId, msgId: again.msgId, returnCode: 0 });
    await c.next('pingresp');
  });

  it('CONNECT from a sleeping client makes it active again and delivers what was held', async () => {
    const topic = `sleep/${uid()}`;
    const c = await s.snClient();
    const id = uid();
    await c.connect(id, { cleanSession: false });
    await c.subscribe(topic, 1);
    await c.sleep(60);
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'held', { qos: 1 });
    c.autoAck = true;
    expect(await c.connect(id, { cleanSession: false })).toMatchObject({ returnCode: 0 });
    expect((await c.next('publish')).payload.toString()).toBe('held');
    expect(s.sn.adapter.client(id)?.state).toBe('active');
    await pub.client.publishAsync(topic, 'live', { qos: 1 });
    expect((await c.next('publish')).payload.toString()).toBe('live');
  });

  it('a sleeping client may wake from a new address (PINGREQ with its client id)', async () => {
    const topic = `sleep/${uid()}`;
    const c = await s.snClient();
    const id = uid();
    await c.connect(id);
    const sub = await c.subscribe(topic, 0);
    await c.sleep(60);
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'moved');
    const moved = await MqttSnTestClient.open(s.sn.port);
    try {
      moved.send({ type: 'pingreq', clientId: id });
      const p = await moved.next('publish');
      expect(p).toMatchObject({ topic: { kind: 'id', id: sub.topicId } });
      await moved.next('pingresp');
      expect(s.sn.adapter.client(id)?.peer).toBe(`127.0.0.1:${moved.port}`);
    } finally {
      await moved.close();
    }
  });

  it('a client that sleeps past its Duration (x 1.5) is lost and its will published', async () => {
    const willTopic = `sleep/${uid()}/will`;
    const watcher = await s.mqtt();
    await watcher.client.subscribeAsync(willTopic);
    const c = await s.snClient();
    const id = uid();
    await c.connect(id, { will: { topic: willTopic, payload: 'overslept' } });
    await c.sleep(1);
    const [m] = await watcher.waitFor(1, willTopic, 3000);
    expect(m!.text).toBe('overslept');
    expect(s.sn.adapter.client(id)).toBeUndefined();
  });
});
