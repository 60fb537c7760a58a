import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETURN_CODE } from '../src/index.js';
import { startStack, uid, type Stack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(() => s.stop());

describe('PUBLISH from an MQTT-SN client to MQTT.js (§6.6)', () => {
  it.each([0, 1, 2] as const)('QoS %i on a registered topic id', async (qos) => {
    const topic = `sn/${uid()}/temp`;
    const sub = await s.mqtt();
    await sub.client.subscribeAsync(topic, { qos: 2 });
    const c = await s.snClient();
    await c.connect(uid('pub'));
    const id = await c.register(topic);
    const ack = await c.publish({ kind: 'id', id }, `q${qos}`, qos);
    if (qos === 1) expect(ack).toMatchObject({ type: 'puback', topicId: id, returnCode: RETURN_CODE.ACCEPTED });
    if (qos === 2) expect(ack).toMatchObject({ type: 'pubcomp' });
    const [m] = await sub.waitFor(1, topic);
    expect(m).toMatchObject({ topic, text: `q${qos}`, qos });
  });

  it('a retained PUBLISH is kept for later MQTT subscribers', async () => {
    const topic = `sn/${uid()}/ret`;
    const c = await s.snClient();
    await c.connect(uid('pub'));
    const id = await c.register(topic);
    await c.publish({ kind: 'id', id }, 'kept', 1, { retain: true });
    const sub = await s.mqtt();
    await sub.client.subscribeAsync(topic, { qos: 1 });
    const [m] = await sub.waitFor(1, topic);
    expect(m).toMatchObject({ text: 'kept', retain: true });
  });

  it('an unknown topic id is refused with PUBACK "invalid topic id", whatever the QoS', async () => {
    const c = await s.snClient();
    await c.connect(uid('pub'));
    c.send({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'id', id: 999 }, msgId: 0, payload: Buffer.from('x') });
    expect(await c.next('puback')).toMatchObject({ topicId: 999, msgId: 0, returnCode: RETURN_CODE.INVALID_TOPIC_ID });
    expect(await c.publish({ kind: 'id', id: 998 }, 'x', 1)).toMatchObject({ topicId: 998, returnCode: RETURN_CODE.INVALID_TOPIC_ID });
  });

  it('a publish the authorizer denies gets PUBACK 0x80 (as EMQX)', async () => {
    const off = s.broker.hooks.intercept('client.authorize', (r) => (r.action === 'publish' && r.topic.endsWith('/secret') ? 'deny' : 'ignore'));
    try {
      const c = await s.snClient();
      await c.connect(uid('pub'));
      const id = await c.register(`sn/${uid()}/secret`);
      expect(await c.publish({ kind: 'id', id }, 'x', 1)).toMatchObject({ returnCode: RETURN_CODE.NOT_AUTHORIZED });
    } finally {
      off();
    }
  });
});

describe('PUBLISH from MQTT.js to an MQTT-SN subscriber (§6.10)', () => {
  it.each([0, 1, 2] as const)('QoS %i, on the topic id SUBACK gave', async (qos) => {
    const topic = `sn/${uid()}/cmd`;
    const c = await s.snClient();
    c.autoAck = true;
    await c.connect(uid('sub'));
    const ack = await c.subscribe(topic, qos);
    expect(ack).toMatchObject({ returnCode: RETURN_CODE.ACCEPTED, qos });
    expect(ack.topicId).toBeGreaterThan(0);
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, `m${qos}`, { qos });
    const p = await c.next('publish');
    expect(p).toMatchObject({ qos, topic: { kind: 'id', id: ack.topicId }, dup: false });
    expect(p.payload.toString()).toBe(`m${qos}`);
    if (qos > 0) expect(p.msgId).toBeGreaterThan(0);
    if (qos === 2) await c.next('pubrel');
    // Acknowledged: nothing is retransmitted.
    await c.nothing('publish', 200);
  });

  it('the granted QoS caps the delivery QoS', async () => {
    const topic = `sn/${uid()}/cap`;
    const c = await s.snClient();
    c.autoAck = true;
    await c.connect(uid('sub'));
    await c.subscribe(topic, 0);
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'x', { qos: 2 });
    expect(await c.next('publish')).toMatchObject({ qos: 0, msgId: 0 });
  });

  it('retained messages reach a new MQTT-SN subscription', async () => {
    const topic = `sn/${uid()}/retained`;
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'state', { qos: 1, retain: true });
    const c = await s.snClient();
    c.autoAck = true;
    await c.connect(uid('sub'));
    await c.subscribe(topic, 1);
    const p = await c.next('publish');
    expect(p).toMatchObject({ retain: true, qos: 1 });
    expect(p.payload.toString()).toBe('state');
  });

  it('MQTT-SN to MQTT-SN, through the bus', async () => {
    const topic = `sn/${uid()}/peer`;
    const a = await s.snClient();
    const b = await s.snClient();
    b.autoAck = true;
    await a.connect(uid('a'));
    await b.connect(uid('b'));
    const sub = await b.subscribe(topic, 1);
    const id = await a.register(topic);
    await a.publish({ kind: 'id', id }, 'hello b', 1);
    const p = await b.next('publish');
    expect(p.topic).toEqual({ kind: 'id', id: sub.topicId });
    expect(p.payload.toString()).toBe('hello b');
  });
});
