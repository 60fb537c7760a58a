import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETURN_CODE } from '../src/index.js';
import { startStack, uid, type Stack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ config: { retry_interval: 200, max_retries: 2 } });
});
afterAll(() => s.stop());

describe('REGISTER from the client (§6.5)', () => {
  it('assigns one id per topic name, the same when asked again', async () => {
    const c = await s.snClient();
    await c.connect(uid());
    const a = await c.register('reg/a');
    const b = await c.register('reg/b');
    expect(a).not.toBe(b);
    expect(await c.register('reg/a')).toBe(a);
  });

  it('refuses topic names with wildcards', async () => {
    const c = await s.snClient();
    await c.connect(uid());
    c.send({ type: 'register', topicId: 0, msgId: 7, topicName: 'reg/+' });
    expect(await c.next('regack')).toEqual({ type: 'regack', topicId: 0, msgId: 7, returnCode: RETURN_CODE.NOT_SUPPORTED });
  });

  it('ids are per client', async () => {
    const a = await s.snClient();
    const b = await s.snClient();
    await a.connect(uid());
    await b.connect(uid());
    await a.register('reg/x');
    const idA = await a.register('reg/y');
    const idB = await b.register('reg/y');
    expect(idB).not.toBe(idA);
  });
});

describe('REGISTER from the gateway before a wildcard-matched delivery (§6.10)', () => {
  it('registers the topic, waits for REGACK, then publishes with the new id', async () => {
    const base = `w/${uid()}`;
    const c = await s.snClient();
    await c.connect(uid());
    const ack = await c.subscribe(`${base}/#`, 1);
    expect(ack).toMatchObject({ returnCode: RETURN_CODE.ACCEPTED, topicId: 0 });
    const pub = await s.mqtt();
    await pub.client.publishAsync(`${base}/room1/temp`, '21', { qos: 1 });
    const reg = await c.next('register');
    expect(reg.topicName).toBe(`${base}/room1/temp`);
    expect(reg.topicId).toBeGreaterThan(0);
    // Nothing is published before REGACK.
    await c.nothing('publish', 150);
    c.send({ type: 'regack', topicId: reg.topicId, msgId: reg.msgId, returnCode: RETURN_CODE.ACCEPTED });
    const p = await c.next('publish');
    expect(p.topic).toEqual({ kind: 'id', id: reg.topicId });
    c.send({ type: 'puback', topicId: reg.topicId, msgId: p.msgId, returnCode: 0 });
    // Known now: the next message on that topic needs no REGISTER.
    await pub.client.publishAsync(`${base}/room1/temp`, '22', { qos: 0 });
    expect(await c.next('publish')).toMatchObject({ topic: { kind: 'id', id: reg.topicId }, qos: 0 });
    // No new REGISTER (a retransmission of the first one, on a slow machine, is fine).
    expect(c.received.filter((m) => m.type === 'register').every((m) => m.type === 'register' && m.msgId === reg.msgId)).toBe(true);
  });

  it('resends an unanswered REGISTER after Tretry, keeping order of what waits behind it', async () => {
    const base = `w/${uid()}`;
    const c = await s.snClient();
    await c.connect(uid());
    await c.subscribe(`${base}/+`, 1);
    const pub = await s.mqtt();
    await pub.client.publishAsync(`${base}/a`, '1', { qos: 1 });
    await pub.client.publishAsync(`${base}/a`, '2', { qos: 1 });
    const first = await c.next('register');
    const t0 = Date.now();
    const again = await c.next('register', 2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(again).toEqual(first);
    c.autoAck = true;
    c.send({ type: 'regack', topicId: again.topicId, msgId: again.msgId, returnCode: 0 });
    const p1 = await c.next('publish');
    const p2 = await c.next('publish');
    expect([p1.payload.toString(), p2.payload.toString()]).toEqual(['1', '2']);
  });

  it('a client that never answers REGISTER is lost after Nretry', async () => {
    const base = `w/${uid()}`;
    const c = await s.snClient();
    const id = uid();
    await c.connect(id);
    await c.subscribe(`${base}/+`, 0);
    const pub = await s.mqtt();
    await pub.client.publishAsync(`${base}/a`, 'x');
    await c.next('register');
    await c.next('register', 1000);
    await c.next('register', 1000);
    expect(await c.next('disconnect', 1000)).toEqual({ type: 'disconnect' });
    expect(s.broker.session(id)?.connected ?? false).toBe(false);
  });

  it('a REGISTER the client refuses drops the messages for that topic, and others flow', async () => {
    const base = `w/${uid()}`;
    const c = await s.snClient();
    await c.connect(uid());
    await c.subscribe(`${base}/+`, 0);
    const pub = await s.mqtt();
    await pub.client.publishAsync(`${base}/refused`, 'x');
    const reg = await c.next('register');
    c.send({ type: 'regack', topicId: reg.topicId, msgId: reg.msgId, returnCode: RETURN_CODE.NOT_SUPPORTED });
    await pub.client.publishAsync(`${base}/refused`, 'y');
    await pub.client.publishAsync(`${base}/ok`, 'z');
    const reg2 = await c.next('register');
    expect(reg2.topicName).toBe(`${base}/ok`);
    c.send({ type: 'regack', topicId: reg2.topicId, msgId: reg2.msgId, returnCode: 0 });
    const p = await c.next('publish');
    expect(p.payload.toString()).toBe('z');
  });

  it('PUBACK "invalid topic id" from the client makes the gateway register again and resend', async () => {
    const topic = `w/${uid()}/t`;
    const c = await s.snClient();
    await c.connect(uid());
    const sub = await c.subscribe(topic, 1);
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'again', { qos: 1 });
    const p = await c.next('publish');
    c.send({ type: 'puback', topicId: sub.topicId, msgId: p.msgId, returnCode: RETURN_CODE.INVALID_TOPIC_ID });
    const reg = await c.next('register');
    expect(reg).toMatchObject({ topicId: sub.topicId, topicName: topic });
    c.send({ type: 'regack', topicId: reg.topicId, msgId: reg.msgId, returnCode: 0 });
    const resent = await c.next('publish');
    expect(resent).toMatchObject({ msgId: p.msgId, dup: true, topic: { kind: 'id', id: sub.topicId } });
    c.send({ type: 'puback', topicId: sub.topicId, msgId: p.msgId, returnCode: 0 });
    await c.nothing('publish', 300);
  });
});
