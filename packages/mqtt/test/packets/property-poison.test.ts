/**
 * A PUBLISH whose property block is internally inconsistent (a string or binary property whose
 * length runs past the block) is a Malformed Packet (MQTT 5.0 §2.2.2.2, §1.5.4, §4.13). The
 * server must close the publisher with 0x81 [MQTT-4.13.1-1] and must not let the message reach,
 * or harm, anyone else: other clients' connections, sessions and routing are not the
 * publisher's to break.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectClosedMaybeDisconnect, hex, useFixture } from './fixture.js';
import { describe as show, frame, RawClient, str, uid, waitFor } from './raw-client.js';

// A fresh broker per test: one poisoned message can leave state behind that breaks the next test.
const fx = useFixture({}, { perTest: true });

// A broker failure inside an asynchronous step surfaces as an unhandled rejection (which ends a
// Node process running the broker); record them so the test that caused one fails.
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => void rejections.push(reason);
beforeEach(() => {
  rejections.length = 0;
  process.on('unhandledRejection', onRejection);
});
afterEach(() => {
  process.off('unhandledRejection', onRejection);
});

/** v5 PUBLISH QoS 1 whose Content Type announces 16 bytes the 3-byte property block lacks. */
function poisoned(topic: string, opts: { retain?: boolean } = {}): Buffer {
  return frame(0x32 | (opts.retain ? 1 : 0), [...str(topic), 0x00, 0x09, 0x03, 0x03, 0x00, 0x10, ...Buffer.from('poison')]);
}

async function subscriber(filter: string, connect: Parameters<typeof RawClient.connected>[2] = {}, id = uid('victim')): Promise<RawClient> {
  const c = await RawClient.connected(fx.port, id, connect);
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] });
  expect((await c.next('suback')).granted).toEqual([1]);
  return c;
}

/**
 * Send the poisoned PUBLISH from a fresh client and softly expect the close, after DISCONNECT 0x81
 * at most (the test goes on to check what matters to the other clients).
 */
async function poison(topic: string, opts: { retain?: boolean } = {}): Promise<void> {
  const bad = await RawClient.connected(fx.port, uid('poisoner'));
  bad.sendRaw(poisoned(topic, opts));
  const first = await bad.next(undefined, 1000, { lenient: true }).catch(() => undefined);
  const closed = await bad.closed(500).then(() => true, () => false);
  const seen = first ? (first.cmd === 'disconnect' ? `disconnect ${hex((first as { reasonCode?: number }).reasonCode)}` : show(first)) : 'nothing';
  expect.soft(`${seen}${closed ? ', closed' : ', still open'}`, 'publisher of the malformed PUBLISH').toMatch(/^(disconnect 0x81|nothing), closed$/);
  bad.destroy();
}

/** PINGREQ, then accept only (well-formed) PUBLISHes until the PINGRESP: the connection is healthy. */
async function healthy(c: RawClient): Promise<void> {
  c.send({ cmd: 'pingreq' });
  for (;;) {
    const p = await c.next(undefined, 1000);
    if (p.cmd === 'publish') continue;
    expect(show(p), 'expected PINGRESP (connection healthy)').toMatch(/^pingresp/);
    return;
  }
}

async function publishGood(topic: string, payload: string): Promise<void> {
  const good = await RawClient.connected(fx.port, uid('good'));
  good.send({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, messageId: 1, retain: false, dup: false });
  await good.next('puback');
  good.destroy();
}

describe('malformed PUBLISH properties do not poison other clients', () => {
  it('the publisher is closed with 0x81 (Malformed Packet) [MQTT-4.13.1-1]', async () => {
    const sub = await subscriber('pz0/#');
    const bad = await RawClient.connected(fx.port, uid('poisoner'));
    bad.sendRaw(poisoned('pz0/x'));
    await expectClosedMaybeDisconnect(bad, [0x81]);
    await sub.barrier();
  });

  it('a subscriber matching the malformed message stays connected and receives the next message', async () => {
    const sub = await subscriber('pz1/#');
    await poison('pz1/x');
    await publishGood('pz1/y', 'after');
    const p = await sub.next('publish');
    expect(p.topic).toBe('pz1/y');
    expect(p.payload.toString()).toBe('after');
  });

  it('routing stays correct: clients that matched the malformed message do not receive later messages on other topics', async () => {
    const a = await subscriber('pz2/#');
    const b = await subscriber('pz2/#');
    const c = await subscriber('pz2other/#');
    await poison('pz2/x');
    await publishGood('pz2other/t', 'for c only');
    expect((await c.next('publish')).topic).toBe('pz2other/t');
    for (const [name, s] of [['a', a], ['b', b]] as const) {
      await s.barrier().catch((err: Error) => {
        throw new Error(`subscriber ${name} of pz2/# got something else first: ${err.message}`);
      });
    }
  });

  it('a subscriber with Receive Maximum 1 still gets the next message (the malformed one does not hold its only inflight slot) [MQTT-3.3.4-9]', async () => {
    const sub = await subscriber('pz3/#', { connect: { properties: { receiveMaximum: 1 } } });
    await poison('pz3/x');
    await publishGood('pz3/y', 'next');
    const p = await sub.next('publish', 1000);
    expect(p.topic).toBe('pz3/y');
  });

  it('a persistent subscriber can resume its session after a malformed message matched it [MQTT-4.4.0-1]', async () => {
    const id = uid('persist');
    const sub = await subscriber('pz4/#', { connect: { clean: false, properties: { sessionExpiryInterval: 60 } } }, id);
    await poison('pz4/x');
    sub.destroy();
    await waitFor(() => fx.broker.session(id)?.connected === false, 2000, 'session offline');
    const again = await RawClient.tcp(fx.port, 5);
    const ack = await again.handshake({ clientId: id, clean: false, properties: { sessionExpiryInterval: 0 } });
    expect(ack.reasonCode).toBe(0);
    expect(ack.sessionPresent).toBe(true);
    // Whatever is resent must be well-formed, and the connection must stay up.
    await healthy(again);
  });

  it('a subscriber whose SUBSCRIBE carried its Subscription Identifier twice (§3.8.2.1.2) cannot make publishers fail', async () => {
    const s = await RawClient.connected(fx.port, uid('dupsid'));
    s.sendRaw(frame(0x82, [0x00, 0x01, 0x04, 0x0b, 0x01, 0x0b, 0x02, ...str('sid3/#'), 0x01]));
    const first = await s.next(undefined, 1000, { lenient: true }).catch(() => undefined);
    if (s.isClosed || first?.cmd !== 'suback') return; // refused: the right outcome (subscribe.test.ts checks it)
    s.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'sid3/+', qos: 1 }], properties: { subscriptionIdentifier: 3 } });
    await s.next('suback');
    const p = await RawClient.connected(fx.port, uid('pub'));
    p.send({ cmd: 'publish', topic: 'sid3/a', payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false });
    const ack = await p.next(undefined, 1000, { lenient: true });
    expect(ack.cmd === 'puback' ? 'puback' : `${ack.cmd} 0x${(ack as { reasonCode?: number }).reasonCode?.toString(16)}`, 'the publisher').toBe('puback');
    const got = await s.next('publish'); // strict: must parse
    expect(got.topic).toBe('sid3/a');
  });

  it('a retained malformed message does not break later subscribers to its topic', async () => {
    await poison('pz5/retained', { retain: true });
    const sub = await RawClient.connected(fx.port, uid('late'));
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'pz5/#', qos: 1 }] });
    expect((await sub.next('suback')).granted).toEqual([1]);
    // Either no retained message, or a well-formed one; the connection stays up.
    await new Promise((r) => setTimeout(r, 50)); // retained messages follow the SUBACK asynchronously
    expect(rejections.map(String), 'unhandled rejections in the broker (fatal for a Node process)').toEqual([]);
    await healthy(sub);
  });
});
