/**
 * Topic aliases (MQTT 5.0 §3.3.2.3.4): the broker announces Topic Alias Maximum 10.
 */
import { describe, expect, it } from 'vitest';
import { expectDisconnect, useFixture } from './fixture.js';
import { frame, RawClient, str, uid, waitFor } from './raw-client.js';

const fx = useFixture({ mqtt: { max_topic_alias: 10 } });

const TOPIC_ALIAS_INVALID = 0x94;
const PROTOCOL_ERROR = 0x82;

function pub(topic: string, alias: number | undefined, payload: string, qos: 0 | 1 = 0, messageId?: number) {
  return {
    cmd: 'publish' as const,
    topic,
    payload: Buffer.from(payload),
    qos,
    messageId,
    retain: false,
    dup: false,
    properties: alias === undefined ? undefined : { topicAlias: alias },
  };
}

async function subscriber(filter: string, connect: Parameters<typeof RawClient.connected>[2] = {}): Promise<RawClient> {
  const s = await RawClient.connected(fx.port, uid('tas'), connect);
  s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 0 }] });
  await s.next('suback');
  return s;
}

describe('inbound topic aliases (client to server)', () => {
  it('CONNACK announces Topic Alias Maximum 10', async () => {
    const c = await RawClient.tcp(fx.port);
    const ack = await c.handshake({ clientId: uid('ta') });
    expect(ack.properties?.topicAliasMaximum).toBe(10);
  });

  it('Topic Alias 0: DISCONNECT 0x94, then close [MQTT-3.3.2-8]', async () => {
    const c = await RawClient.connected(fx.port, uid('ta0'));
    c.send(pub('ta/zero', 0, 'x'));
    await expectDisconnect(c, TOPIC_ALIAS_INVALID);
  });

  it('Topic Alias above the announced maximum (11 > 10): DISCONNECT 0x94, then close [MQTT-3.3.2-9]', async () => {
    const c = await RawClient.connected(fx.port, uid('ta11'));
    c.send(pub('ta/eleven', 11, 'x'));
    await expectDisconnect(c, TOPIC_ALIAS_INVALID);
  });

  it('Topic Alias 10 (the maximum) is accepted [MQTT-3.3.2-10]', async () => {
    const c = await RawClient.connected(fx.port, uid('ta10'));
    c.send(pub('ta/ten', 10, 'x', 1, 4));
    const ack = await c.next('puback');
    expect(ack.messageId).toBe(4);
    expect(ack.reasonCode! < 0x80).toBe(true);
  });

  it('empty topic with an alias never set on this connection: DISCONNECT 0x82, then close §3.3.2.3.4', async () => {
    const c = await RawClient.connected(fx.port, uid('taunk'));
    c.send(pub('', 3, 'x'));
    await expectDisconnect(c, PROTOCOL_ERROR);
  });

  it('a known alias with an empty topic publishes to the aliased topic; re-mapping the alias switches topics', async () => {
    const s = await subscriber('tak/#');
    const c = await RawClient.connected(fx.port, uid('tak'));
    c.send(pub('tak/first', 3, 'one'));
    c.send(pub('', 3, 'two'));
    c.send(pub('tak/second', 3, 'three')); // alias 3 now means tak/second
    c.send(pub('', 3, 'four'));
    const got: [string, string][] = [];
    for (let i = 0; i < 4; i++) {
      const p = await s.next('publish');
      got.push([p.topic, p.payload.toString()]);
    }
    expect(got).toEqual([
      ['tak/first', 'one'],
      ['tak/first', 'two'],
      ['tak/second', 'three'],
      ['tak/second', 'four'],
    ]);
    await c.barrier();
  });

  it('an empty topic with a known alias is also fine at QoS 1 (PUBACK carries the packet id)', async () => {
    const s = await subscriber('taq/#');
    const c = await RawClient.connected(fx.port, uid('taq'));
    c.send(pub('taq/t', 1, 'a', 1, 10));
    expect((await c.next('puback')).messageId).toBe(10);
    c.send(pub('', 1, 'b', 1, 11));
    const ack = await c.next('puback');
    expect(ack.messageId).toBe(11);
    expect(ack.reasonCode).toBe(0x00);
    expect((await s.next('publish')).topic).toBe('taq/t');
    expect((await s.next('publish')).topic).toBe('taq/t');
  });

  it('aliases do not carry over to a new connection, even with a resumed session [MQTT-3.3.2-7]', async () => {
    const id = uid('tarc');
    const c = await RawClient.connected(fx.port, id, { connect: { clean: false, properties: { sessionExpiryInterval: 30 } } });
    c.send(pub('tarc/t', 2, 'x'));
    await c.barrier();
    c.destroy();
    await waitFor(() => fx.broker.session(id)?.connected === false, 2000, 'session offline');
    const again = await RawClient.tcp(fx.port);
    const ack = await again.handshake({ clientId: id, clean: false, properties: { sessionExpiryInterval: 0 } });
    expect(ack.sessionPresent).toBe(true);
    again.send(pub('', 2, 'y'));
    await expectDisconnect(again, PROTOCOL_ERROR);
  });

  it('a PUBLISH with two Topic Alias properties is a Protocol Error: closed §3.3.2.3.4', async () => {
    const c = await RawClient.connected(fx.port, uid('ta2x'));
    c.sendRaw(frame(0x30, [...str('ta/dup'), 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x02, 0x78]));
    await c.closed();
    for (const p of c.pending) expect(p.cmd).toBe('disconnect');
  });
});

describe('server without topic aliases (max_topic_alias 0)', () => {
  it('any Topic Alias is refused with DISCONNECT 0x94 [MQTT-3.3.2-9]', async () => {
    const { tcpFixture } = await import('../../src/testing/harness.js');
    const h = await tcpFixture.start({ mqtt: { max_topic_alias: 0 } });
    try {
      const c = await RawClient.tcp(h.port);
      const ack = await c.handshake({ clientId: uid('nota') });
      // Absent or 0: no aliases accepted [MQTT-3.2.2-17].
      expect(ack.properties?.topicAliasMaximum ?? 0).toBe(0);
      c.send(pub('nota/t', 1, 'x'));
      await expectDisconnect(c, TOPIC_ALIAS_INVALID);
    } finally {
      RawClient.destroyAll();
      await h.stop();
    }
  });
});

describe('outbound topic aliases (server to client)', () => {
  it('with Topic Alias Maximum 2 from the client, the server sends the topic once with an alias, then the alias alone [MQTT-3.3.2-11]', async () => {
    const s = await subscriber('tao/#', { connect: { properties: { topicAliasMaximum: 2 } } });
    const c = await RawClient.connected(fx.port, uid('taop'));
    for (const t of ['tao/a', 'tao/a', 'tao/b', 'tao/c', 'tao/c', 'tao/a']) c.send(pub(t, undefined, t));
    const seen: { topic: string; alias: number | undefined; payload: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await s.next('publish');
      seen.push({ topic: p.topic, alias: p.properties?.topicAlias, payload: p.payload.toString() });
    }
    // Resolve as a client would; every alias must be within 1..2 and known when the topic is empty.
    const map = new Map<number, string>();
    for (const m of seen) {
      if (m.alias !== undefined) {
        expect(m.alias).toBeGreaterThanOrEqual(1);
        expect(m.alias).toBeLessThanOrEqual(2);
        if (m.topic !== '') map.set(m.alias, m.topic);
      }
      const resolved = m.topic !== '' ? m.topic : map.get(m.alias!);
      expect(resolved, `delivery ${JSON.stringify(m)}`).toBe(m.payload);
    }
    expect(seen[1]).toEqual({ topic: '', alias: seen[0]!.alias, payload: 'tao/a' });
  });

  it('no alias is used towards a client that did not announce Topic Alias Maximum [MQTT-3.3.2-11]', async () => {
    const s = await subscriber('tan/#');
    const c = await RawClient.connected(fx.port, uid('tanp'));
    c.send(pub('tan/a', undefined, '1'));
    c.send(pub('tan/a', undefined, '2'));
    for (let i = 0; i < 2; i++) {
      const p = await s.next('publish');
      expect(p.topic).toBe('tan/a');
      expect(p.properties?.topicAlias).toBeUndefined();
    }
  });

  it('a message dropped for the client\'s Maximum Packet Size does not consume the alias: the next one still carries the topic [MQTT-3.1.2-25]', async () => {
    const s = await subscriber('tad/#', { connect: { properties: { topicAliasMaximum: 5, maximumPacketSize: 100 } } });
    const c = await RawClient.connected(fx.port, uid('tadp'));
    c.send(pub('tad/t', undefined, 'x'.repeat(300))); // too large for the subscriber: dropped
    c.send(pub('tad/t', undefined, 'small'));
    const p = await s.next('publish');
    expect(p.payload.toString()).toBe('small');
    // The client never saw tad/t with an alias, so the topic must be sent in full.
    expect(p.topic).toBe('tad/t');
  });
});
