import { afterEach, describe, expect, it } from 'vitest';
import { sleep, startStack, uid, type Stack } from './helpers.js';

let s: Stack | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
});

describe('CleanSession 0 (§6.3)', () => {
  it('subscriptions and topic ids survive a disconnect; messages meanwhile are queued', async () => {
    s = await startStack();
    const topic = `p/${uid()}`;
    const c = await s.snClient();
    const id = uid();
    await c.connect(id, { cleanSession: false });
    const { topicId } = await c.subscribe(topic, 1);
    await c.disconnect();
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'while away', { qos: 1 });
    await sleep(50);
    c.autoAck = true;
    await c.connect(id, { cleanSession: false });
    const p = await c.next('publish');
    expect(p.topic).toEqual({ kind: 'id', id: topicId });
    expect(p.payload.toString()).toBe('while away');
  });

  it('CleanSession 1 discards what was kept', async () => {
    s = await startStack();
    const topic = `p/${uid()}`;
    const c = await s.snClient();
    const id = uid();
    await c.connect(id, { cleanSession: false });
    await c.subscribe(topic, 1);
    await c.disconnect();
    await c.connect(id, { cleanSession: true });
    expect(s.broker.session(id)?.subscriptions).toEqual([]);
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'x', { qos: 1 });
    await c.nothing('publish', 150);
  });

  it('subs_resume: topic names are registered again before queued messages are delivered', async () => {
    s = await startStack({ config: { subs_resume: true } });
    const topic = `p/${uid()}`;
    const c = await s.snClient();
    const id = uid();
    await c.connect(id, { cleanSession: false });
    const { topicId } = await c.subscribe(topic, 1);
    await c.disconnect();
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'queued', { qos: 1 });
    await sleep(50);
    c.send({ type: 'connect', will: false, cleanSession: false, protocolId: 1, duration: 60, clientId: id });
    await c.next('connack');
    const reg = await c.next('register');
    expect(reg).toMatchObject({ topicId, topicName: topic });
    await c.nothing('publish', 100);
    c.autoAck = true;
    c.send({ type: 'regack', topicId, msgId: reg.msgId, returnCode: 0 });
    expect((await c.next('publish')).payload.toString()).toBe('queued');
  });

  it('unacknowledged deliveries are resent with DUP on reconnect', async () => {
    s = await startStack();
    const topic = `p/${uid()}`;
    const c = await s.snClient();
    const id = uid();
    await c.connect(id, { cleanSession: false });
    await c.subscribe(topic, 1);
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'unacked', { qos: 1 });
    const first = await c.next('publish');
    await c.disconnect();
    c.autoAck = true;
    await c.connect(id, { cleanSession: false });
    const again = await c.next('publish');
    expect(again).toMatchObject({ msgId: first.msgId, dup: true });
  });
});
