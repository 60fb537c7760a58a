import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETURN_CODE } from '../src/index.js';
import { sleep, startStack, uid, type Stack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(() => s.stop());

describe('SUBSCRIBE and UNSUBSCRIBE (§6.9)', () => {
  it('a name gets a topic id; a wildcard name gets 0', async () => {
    const c = await s.snClient();
    await c.connect(uid());
    const named = await c.subscribe(`s/${uid()}/a`, 2);
    expect(named).toMatchObject({ returnCode: 0, qos: 2 });
    expect(named.topicId).toBeGreaterThan(0);
    expect(await c.subscribe(`s/${uid()}/+`, 1)).toMatchObject({ returnCode: 0, qos: 1, topicId: 0 });
  });

  it('the id of a subscribed name is the one REGISTER gives', async () => {
    const topic = `s/${uid()}`;
    const c = await s.snClient();
    await c.connect(uid());
    const { topicId } = await c.subscribe(topic, 0);
    expect(await c.register(topic)).toBe(topicId);
  });

  it('UNSUBSCRIBE stops deliveries', async () => {
    const topic = `s/${uid()}`;
    const c = await s.snClient();
    await c.connect(uid());
    await c.subscribe(topic, 0);
    await c.unsubscribe(topic);
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'x');
    await c.nothing('publish', 150);
  });

  it('UNSUBSCRIBE of something never subscribed is acknowledged too (as EMQX)', async () => {
    const c = await s.snClient();
    await c.connect(uid());
    await c.unsubscribe('never/there');
    await c.unsubscribe({ predefined: 999 });
  });

  it('a subscription the authorizer denies gets SUBACK 0x80', async () => {
    const off = s.broker.hooks.intercept('client.authorize', (r) => (r.action === 'subscribe' && r.topic.startsWith('private/') ? 'deny' : 'ignore'));
    try {
      const c = await s.snClient();
      await c.connect(uid());
      expect(await c.subscribe('private/x', 1)).toMatchObject({ returnCode: RETURN_CODE.NOT_AUTHORIZED, topicId: 0 });
    } finally {
      off();
    }
  });

  it('an asynchronous authorizer keeps the order of what the client sent after SUBSCRIBE', async () => {
    const off = s.broker.hooks.intercept('client.authorize', async () => {
      await sleep(50);
      return 'ignore' as const;
    });
    try {
      const c = await s.snClient();
      await c.connect(uid());
      c.send({ type: 'subscribe', dup: false, qos: 0, msgId: 1, topic: { kind: 'name', name: `s/${uid()}` } });
      c.send({ type: 'pingreq' });
      expect((await c.next()).type).toBe('suback');
      expect((await c.next()).type).toBe('pingresp');
    } finally {
      off();
    }
  });

  it('QoS -1 in SUBSCRIBE is refused', async () => {
    const c = await s.snClient();
    await c.connect(uid());
    expect(await c.subscribe('x/y', -1)).toMatchObject({ returnCode: RETURN_CODE.NOT_SUPPORTED });
  });

  it('a repeated SUBSCRIBE (SUBACK lost) is answered again with the same topic id', async () => {
    const topic = `s/${uid()}`;
    const c = await s.snClient();
    await c.connect(uid());
    let lost = false;
    c.dropIncoming = (m) => (m.type === 'suback' && !lost ? (lost = true) : false);
    c.send({ type: 'subscribe', dup: false, qos: 1, msgId: 9, topic: { kind: 'name', name: topic } });
    await c.nothing('suback', 100);
    c.send({ type: 'subscribe', dup: true, qos: 1, msgId: 9, topic: { kind: 'name', name: topic } });
    const ack = await c.next('suback');
    expect(ack).toMatchObject({ msgId: 9, returnCode: 0 });
    expect(await c.register(topic)).toBe(ack.topicId);
  });
});
