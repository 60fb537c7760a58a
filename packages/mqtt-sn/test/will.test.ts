import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETURN_CODE } from '../src/index.js';
import { sleep, startStack, uid, type Stack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ config: { retry_interval: 200, max_retries: 2 } });
});
afterAll(() => s.stop());

/** Connect an MQTT-SN client with a will, subscribe an MQTT.js watcher to the will topic. */
async function withWill(opts: { qos?: 0 | 1 | 2; retain?: boolean; duration?: number; cleanSession?: boolean } = {}) {
  const willTopic = `will/${uid()}`;
  const watcher = await s.mqtt();
  await watcher.client.subscribeAsync(willTopic, { qos: 2 });
  const c = await s.snClient();
  const id = uid();
  const ack = await c.connect(id, { duration: opts.duration, cleanSession: opts.cleanSession, will: { topic: willTopic, payload: 'offline', qos: opts.qos, retain: opts.retain } });
  expect(ack.returnCode).toBe(RETURN_CODE.ACCEPTED);
  return { c, id, willTopic, watcher };
}

describe('the will dialogue (§6.2)', () => {
  it('WILLTOPICREQ, WILLTOPIC, WILLMSGREQ, WILLMSG, then CONNACK', async () => {
    const c = await s.snClient();
    c.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 60, clientId: uid() });
    expect(await c.next()).toEqual({ type: 'willtopicreq' });
    c.send({ type: 'willtopic', will: { qos: 1, retain: false, topic: 'w/t' } });
    expect(await c.next()).toEqual({ type: 'willmsgreq' });
    c.send({ type: 'willmsg', payload: Buffer.from('m') });
    expect(await c.next()).toEqual({ type: 'connack', returnCode: 0 });
  });

  it('a lost WILLTOPICREQ is sent again after Tretry', async () => {
    const c = await s.snClient();
    let lost = false;
    c.dropIncoming = (m) => (m.type === 'willtopicreq' && !lost ? (lost = true) : false);
    c.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 60, clientId: uid() });
    await c.next('willtopicreq', 1000);
  });

  it('a repeated CONNECT during the dialogue gets the current prompt again', async () => {
    const c = await s.snClient();
    const connect = { type: 'connect' as const, will: true, cleanSession: true, protocolId: 1, duration: 60, clientId: uid() };
    c.send(connect);
    await c.next('willtopicreq');
    c.send(connect);
    await c.next('willtopicreq');
    c.send({ type: 'willtopic', will: { qos: 0, retain: false, topic: 'w/t' } });
    await c.next('willmsgreq');
    c.send({ type: 'willtopic', will: { qos: 0, retain: false, topic: 'w/t' } });
    await c.next('willmsgreq');
    c.send({ type: 'willmsg', payload: Buffer.from('m') });
    await c.next('connack');
  });

  it('a repeated WILLMSG (CONNACK lost) gets CONNACK again', async () => {
    const c = await s.snClient();
    let lost = false;
    c.dropIncoming = (m) => (m.type === 'connack' && !lost ? (lost = true) : false);
    c.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 60, clientId: uid() });
    await c.next('willtopicreq');
    c.send({ type: 'willtopic', will: { qos: 0, retain: false, topic: 'w/t' } });
    await c.next('willmsgreq');
    c.send({ type: 'willmsg', payload: Buffer.from('m') });
    await c.nothing('connack', 100);
    c.send({ type: 'willmsg', payload: Buffer.from('m') });
    expect(await c.next('connack')).toEqual({ type: 'connack', returnCode: 0 });
  });

  it('a will topic with wildcards is refused', async () => {
    const c = await s.snClient();
    c.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 60, clientId: uid() });
    await c.next('willtopicreq');
    c.send({ type: 'willtopic', will: { qos: 0, retain: false, topic: 'w/#' } });
    expect(await c.next('connack')).toEqual({ type: 'connack', returnCode: RETURN_CODE.NOT_SUPPORTED });
  });
});

describe('the will is published', () => {
  it('with its QoS and retain flag when the client is lost', async () => {
    const { willTopic, watcher } = await withWill({ qos: 1, retain: true, duration: 1 });
    // Silent for keepalive x 1.5 = 1.5 s.
    const [m] = await watcher.waitFor(1, willTopic, 3000);
    expect(m).toMatchObject({ text: 'offline', qos: 1 });
    const later = await s.mqtt();
    await later.client.subscribeAsync(willTopic);
    const [kept] = await later.waitFor(1, willTopic);
    expect(kept).toMatchObject({ text: 'offline', retain: true });
  });

  it('not after DISCONNECT', async () => {
    const { c, watcher } = await withWill();
    await c.disconnect();
    await sleep(150);
    expect(watcher.messages).toEqual([]);
  });

  it('when the gateway stops, as for MQTT clients', async () => {
    // Own stack: stopping it is the test.
    const own = await startStack();
    const willTopic = `will/${uid()}`;
    const ownWatcher = await own.mqtt();
    await ownWatcher.client.subscribeAsync(willTopic);
    const c = await own.snClient();
    await c.connect(uid(), { will: { topic: willTopic, payload: 'bye' } });
    const gone = ownWatcher.waitFor(1, willTopic);
    await own.sn.adapter.stop();
    expect(await c.next('disconnect')).toEqual({ type: 'disconnect' });
    expect((await gone)[0]!.text).toBe('bye');
    await own.stop();
  });
});

describe('will updates (§6.4)', () => {
  it('WILLTOPICUPD and WILLMSGUPD change the will; WILLTOPICRESP and WILLMSGRESP answer', async () => {
    const { c, id } = await withWill({ duration: 1 });
    const newTopic = `will/${uid()}/new`;
    const watcher = await s.mqtt();
    await watcher.client.subscribeAsync(newTopic, { qos: 1 });
    c.send({ type: 'willtopicupd', will: { qos: 1, retain: false, topic: newTopic } });
    expect(await c.next('willtopicresp')).toEqual({ type: 'willtopicresp', returnCode: 0 });
    c.send({ type: 'willmsgupd', payload: Buffer.from('updated') });
    expect(await c.next('willmsgresp')).toEqual({ type: 'willmsgresp', returnCode: 0 });
    // Kicked by an administrator: the updated will goes out.
    s.broker.kick(id);
    const [m] = await watcher.waitFor(1, newTopic);
    expect(m).toMatchObject({ text: 'updated', qos: 1 });
  });

  it('an empty WILLTOPICUPD deletes the will', async () => {
    const { c, id, watcher } = await withWill();
    c.send({ type: 'willtopicupd' });
    await c.next('willtopicresp');
    s.broker.kick(id);
    await c.next('disconnect');
    await sleep(150);
    expect(watcher.messages).toEqual([]);
  });
});

describe('CleanSession 0 keeps the will with the session (§6.3)', () => {
  it('reconnecting with Will=0 keeps the stored will; an empty WILLTOPIC deletes it', async () => {
    const { c, id, willTopic, watcher } = await withWill({ cleanSession: false });
    await c.disconnect();
    // Back without the Will flag: the will from before still applies.
    await sleep(250);
    await c.connect(id, { cleanSession: false });
    s.broker.kick(id);
    await c.next('disconnect');
    await watcher.waitFor(1, willTopic);
    // Back with the Will flag and an empty WILLTOPIC: the will is gone.
    await sleep(250);
    c.send({ type: 'connect', will: true, cleanSession: false, protocolId: 1, duration: 60, clientId: id });
    await c.next('willtopicreq');
    c.send({ type: 'willtopic' });
    expect(await c.next('connack')).toMatchObject({ returnCode: 0 });
    s.broker.kick(id);
    await c.next('disconnect');
    await sleep(150);
    expect(watcher.messages).toHaveLength(1);
  });
});
