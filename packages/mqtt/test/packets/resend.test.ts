/**
 * Outbound resend after reconnect (MQTT 5.0 §4.4 [MQTT-4.4.0-1], [MQTT-3.3.1-1]; MQTT 3.1.1
 * §4.4): unacknowledged PUBLISHes are sent again with their original packet identifiers and
 * DUP=1; a QoS 2 message whose PUBREC arrived is continued with PUBREL, not PUBLISH.
 */
import { describe, expect, it } from 'vitest';
import { useFixture } from './fixture.js';
import { describe as show, RawClient, uid, waitFor, type Received } from './raw-client.js';

const fx = useFixture();

type Version = 4 | 5;

async function persistentSubscriber(id: string, filter: string, version: Version): Promise<RawClient> {
  const s = await RawClient.connected(fx.port, id, { version, connect: persistent(version) });
  s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 2 }] });
  expect((await s.next('suback')).granted).toEqual([2]);
  return s;
}

function persistent(version: Version) {
  return version === 5 ? { clean: false, properties: { sessionExpiryInterval: 60 } } : { clean: false };
}

async function publisher(): Promise<RawClient> {
  return RawClient.connected(fx.port, uid('rsp'));
}

/** Publish at QoS 1 or 2 and finish the publisher's side of the flow. */
async function publish(p: RawClient, topic: string, payload: string, qos: 1 | 2, messageId: number): Promise<void> {
  p.send({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, messageId, retain: false, dup: false });
  if (qos === 1) {
    await p.next('puback');
  } else {
    await p.next('pubrec');
    p.send({ cmd: 'pubrel', messageId });
    await p.next('pubcomp');
  }
}

async function dropAndReconnect(s: RawClient, id: string, version: Version): Promise<[RawClient, Received<'connack'>]> {
  s.destroy();
  await waitFor(() => fx.broker.session(id)?.connected === false, 2000, 'subscriber session offline');
  const again = await RawClient.tcp(fx.port, version);
  const ack = await again.handshake({ clientId: id, ...persistent(version) });
  return [again, ack];
}

/** First byte of a PUBLISH: 0x30 | DUP<<3 | QoS<<1 | RETAIN. */
const publishHeader = (qos: number, dup: boolean) => 0x30 | (dup ? 0x08 : 0) | (qos << 1);

describe.each([5, 4] as const)('MQTT %s', (version) => {
  it('unacknowledged QoS 1 and QoS 2 PUBLISHes are resent after reconnect with the same packet ids, DUP=1, session present 1 [MQTT-4.4.0-1] [MQTT-3.3.1-1]', async () => {
    const id = uid(`rs${version}`);
    const topic = `rs${version}/${id}`;
    const s = await persistentSubscriber(id, `${topic}/#`, version);
    const p = await publisher();
    await publish(p, `${topic}/a`, 'one', 1, 1);
    await publish(p, `${topic}/b`, 'two', 2, 2);

    const a = await s.next('publish');
    const b = await s.next('publish');
    expect([a.raw[0], a.qos, a.dup, a.payload.toString()]).toEqual([publishHeader(1, false), 1, false, 'one']);
    expect([b.raw[0], b.qos, b.dup, b.payload.toString()]).toEqual([publishHeader(2, false), 2, false, 'two']);
    expect(a.messageId).not.toBe(b.messageId);

    // Not acknowledged; one more message arrives while the subscriber is away.
    const [again, ack] = await dropAndReconnect(s, id, version);
    await publish(p, `${topic}/c`, 'three', 1, 3);
    expect(ack.raw[2], 'CONNACK session present').toBe(0x01);
    if (version === 5) expect(ack.reasonCode).toBe(0x00);
    else expect(ack.raw.toString('hex')).toBe('20020100');

    const ra = await again.next('publish');
    const rb = await again.next('publish');
    expect([ra.raw[0], ra.messageId, ra.topic, ra.payload.toString()]).toEqual([publishHeader(1, true), a.messageId, `${topic}/a`, 'one']);
    expect([rb.raw[0], rb.messageId, rb.topic, rb.payload.toString()]).toEqual([publishHeader(2, true), b.messageId, `${topic}/b`, 'two']);
    const c = await again.next('publish');
    expect([c.raw[0], c.payload.toString()]).toEqual([publishHeader(1, false), 'three']);
    expect([a.messageId, b.messageId]).not.toContain(c.messageId);

    // Acknowledge everything: nothing is resent on the next reconnect.
    again.send({ cmd: 'puback', messageId: ra.messageId });
    again.send({ cmd: 'pubrec', messageId: rb.messageId });
    const rel = await again.next('pubrel');
    expect([rel.raw[0], rel.messageId]).toEqual([0x62, rb.messageId]);
    again.send({ cmd: 'pubcomp', messageId: rb.messageId });
    again.send({ cmd: 'puback', messageId: c.messageId });
    await again.barrier();
    const [third, ack3] = await dropAndReconnect(again, id, version);
    expect(ack3.raw[2]).toBe(0x01);
    await third.barrier();
  });

  it('QoS 2 with PUBREC sent before the drop: the server resends PUBREL (not PUBLISH) after reconnect [MQTT-4.4.0-1] §4.3.3', async () => {
    const id = uid(`rr${version}`);
    const topic = `rr${version}/${id}`;
    const s = await persistentSubscriber(id, topic, version);
    const p = await publisher();
    await publish(p, topic, 'two', 2, 9);
    const b = await s.next('publish');
    expect(b.qos).toBe(2);
    s.send({ cmd: 'pubrec', messageId: b.messageId });
    const rel = await s.next('pubrel');
    expect([rel.raw[0], rel.messageId]).toEqual([0x62, b.messageId]);
    if (version === 5) expect(rel.reasonCode ?? 0).toBe(0x00);

    // PUBCOMP never sent.
    const [again, ack] = await dropAndReconnect(s, id, version);
    expect(ack.raw[2]).toBe(0x01);
    const resent = await again.next();
    expect(show(resent)).toMatch(/^pubrel/);
    expect([resent.raw[0], (resent as Received<'pubrel'>).messageId]).toEqual([0x62, b.messageId]);
    again.send({ cmd: 'pubcomp', messageId: b.messageId });
    await again.barrier(); // no PUBLISH of the message again
  });

  it('reconnecting with clean start 1 discards the session: session present 0, nothing resent [MQTT-3.1.2-4] [MQTT-3.2.2-2]', async () => {
    const id = uid(`rc${version}`);
    const topic = `rc${version}/${id}`;
    const s = await persistentSubscriber(id, topic, version);
    const p = await publisher();
    await publish(p, topic, 'lost', 1, 1);
    await s.next('publish');
    s.destroy();
    await waitFor(() => fx.broker.session(id)?.connected === false, 2000, 'subscriber session offline');
    const again = await RawClient.tcp(fx.port, version);
    const ack = await again.handshake({ clientId: id, clean: true });
    expect(ack.raw[2]).toBe(0x00);
    await again.barrier();
  });
});
