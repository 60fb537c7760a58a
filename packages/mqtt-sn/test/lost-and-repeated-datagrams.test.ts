import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETURN_CODE, type Publish } from '../src/index.js';
import { sleep, startStack, uid, type Stack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ config: { retry_interval: 200, max_retries: 3 } });
});
afterAll(() => s.stop());

/** Lose the first `n` datagrams that `match`. */
function loseFirst<T>(n: number, match: (m: T) => boolean): (m: T) => boolean {
  let lost = 0;
  return (m) => (match(m) && lost < n ? (lost++, true) : false);
}

describe('client to gateway (§6.13: the client retransmits)', () => {
  it('QoS 1: PUBACK lost, the PUBLISH is repeated with DUP and acknowledged again', async () => {
    const topic = `l/${uid()}`;
    const sub = await s.mqtt();
    await sub.client.subscribeAsync(topic, { qos: 1 });
    const c = await s.snClient();
    await c.connect(uid());
    const id = await c.register(topic);
    c.dropIncoming = loseFirst(1, (m) => m.type === 'puback');
    const publish: Publish = { type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'id', id }, msgId: 41, payload: Buffer.from('once?') };
    c.send(publish);
    await c.nothing('puback', 250);
    c.send({ ...publish, dup: true });
    expect(await c.next('puback')).toMatchObject({ msgId: 41, returnCode: RETURN_CODE.ACCEPTED });
    // QoS 1 is at least once: the repeat may be delivered again.
    const got = await sub.waitFor(1, topic);
    expect(got[0]!.text).toBe('once?');
  });

  it('QoS 2: PUBREC lost, the repeated PUBLISH is acknowledged but delivered once', async () => {
    const topic = `l/${uid()}`;
    const sub = await s.mqtt();
    await sub.client.subscribeAsync(topic, { qos: 2 });
    const c = await s.snClient();
    await c.connect(uid());
    const id = await c.register(topic);
    c.dropIncoming = loseFirst(2, (m) => m.type === 'pubrec');
    const publish: Publish = { type: 'publish', dup: false, qos: 2, retain: false, topic: { kind: 'id', id }, msgId: 42, payload: Buffer.from('exactly once') };
    c.send(publish);
    c.send({ ...publish, dup: true });
    c.send({ ...publish, dup: true });
    expect(await c.next('pubrec')).toEqual({ type: 'pubrec', msgId: 42 });
    c.send({ type: 'pubrel', msgId: 42 });
    expect(await c.next('pubcomp')).toEqual({ type: 'pubcomp', msgId: 42 });
    await sub.waitFor(1, topic);
    await sleep(200);
    expect(sub.messages.filter((m) => m.topic === topic)).toHaveLength(1);
  });

  it('QoS 2: PUBCOMP lost, a repeated PUBREL gets PUBCOMP again', async () => {
    const topic = `l/${uid()}`;
    const c = await s.snClient();
    await c.connect(uid());
    const id = await c.register(topic);
    c.dropIncoming = loseFirst(1, (m) => m.type === 'pubcomp');
    c.send({ type: 'publish', dup: false, qos: 2, retain: false, topic: { kind: 'id', id }, msgId: 43, payload: Buffer.from('x') });
    await c.next('pubrec');
    c.send({ type: 'pubrel', msgId: 43 });
    await c.nothing('pubcomp', 200);
    c.send({ type: 'pubrel', msgId: 43 });
    expect(await c.next('pubcomp')).toEqual({ type: 'pubcomp', msgId: 43 });
  });

  it('QoS 2: a PUBLISH lost on the way is simply sent again, and delivered', async () => {
    const topic = `l/${uid()}`;
    const sub = await s.mqtt();
    await sub.client.subscribeAsync(topic, { qos: 2 });
    const c = await s.snClient();
    await c.connect(uid());
    const id = await c.register(topic);
    c.dropOutgoing = loseFirst(1, (m) => m.type === 'publish');
    const ack = c.publish({ kind: 'id', id }, 'retry', 2, { msgId: 44 });
    await sleep(100);
    c.send({ type: 'publish', dup: true, qos: 2, retain: false, topic: { kind: 'id', id }, msgId: 44, payload: Buffer.from('retry') });
    expect(await ack).toMatchObject({ type: 'pubcomp', msgId: 44 });
    await sub.waitFor(1, topic);
  });
});

describe('gateway to client (§6.13: the gateway retransmits after Tretry)', () => {
  it('QoS 1: the first PUBLISH is lost, the gateway resends it with DUP', async () => {
    const topic = `l/${uid()}`;
    const c = await s.snClient();
    await c.connect(uid());
    const sub = await c.subscribe(topic, 1);
    c.dropIncoming = loseFirst(1, (m) => m.type === 'publish');
    const pub = await s.mqtt();
    const t0 = Date.now();
    await pub.client.publishAsync(topic, 'resent', { qos: 1 });
    const p = await c.next('publish', 2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(p).toMatchObject({ dup: true, qos: 1, topic: { kind: 'id', id: sub.topicId } });
    c.send({ type: 'puback', topicId: sub.topicId, msgId: p.msgId, returnCode: 0 });
    await c.nothing('publish', 300);
  });

  it('QoS 1: the PUBACK is lost, the client sees the PUBLISH twice (DUP the second time)', async () => {
    const topic = `l/${uid()}`;
    const c = await s.snClient();
    await c.connect(uid());
    const sub = await c.subscribe(topic, 1);
    c.dropOutgoing = loseFirst(1, (m) => m.type === 'puback');
    c.autoAck = true;
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'twice', { qos: 1 });
    const first = await c.next('publish');
    const second = await c.next('publish', 2000);
    expect(first.dup).toBe(false);
    expect(second).toMatchObject({ dup: true, msgId: first.msgId, topic: { kind: 'id', id: sub.topicId } });
    await c.nothing('publish', 300);
  });

  it('QoS 2: PUBLISH and PUBREL are each resent until answered', async () => {
    const topic = `l/${uid()}`;
    const c = await s.snClient();
    await c.connect(uid());
    await c.subscribe(topic, 2);
    const lostPublish = loseFirst(1, (m: { type: string }) => m.type === 'publish');
    const lostPubrel = loseFirst(1, (m: { type: string }) => m.type === 'pubrel');
    c.dropIncoming = (m) => lostPublish(m) || lostPubrel(m);
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'q2', { qos: 2 });
    const p = await c.next('publish', 2000);
    expect(p.dup).toBe(true);
    c.send({ type: 'pubrec', msgId: p.msgId });
    const t0 = Date.now();
    const rel = await c.next('pubrel', 2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(rel.msgId).toBe(p.msgId);
    c.send({ type: 'pubcomp', msgId: p.msgId });
    await c.nothing('pubrel', 300);
  });

  it('a client that never acknowledges is lost after Nretry retransmissions, and its will published', async () => {
    const topic = `l/${uid()}`;
    const willTopic = `l/${uid()}/will`;
    const watcher = await s.mqtt();
    await watcher.client.subscribeAsync(willTopic, { qos: 1 });
    const c = await s.snClient();
    await c.connect(uid(), { will: { topic: willTopic, payload: 'gone' } });
    await c.subscribe(topic, 1);
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'unanswered', { qos: 1 });
    const copies = [await c.next('publish')];
    for (let i = 0; i < 3; i++) copies.push(await c.next('publish', 1000));
    expect(copies.map((p) => p.dup)).toEqual([false, true, true, true]);
    expect(await c.next('disconnect', 1000)).toEqual({ type: 'disconnect' });
    const [will] = await watcher.waitFor(1, willTopic);
    expect(will!.text).toBe('gone');
  });
});
