/**
 * CONNECT and CONNACK at the packet level (MQTT 5.0 §3.1, §3.2; MQTT 3.1.1 §3.1, §3.2): what a
 * well-behaved client never sends.
 */
import { describe, expect, it } from 'vitest';
import { expectClosedWithoutReply, expectDisconnect, hex, useFixture } from './fixture.js';
import { describe as show, frame, RawClient, str, uid } from './raw-client.js';

const fx = useFixture({ mqtt: { idle_timeout: 400 } });

const MQTT = str('MQTT');

/** A CONNECT body by hand: protocol name, level, flags, keepalive, [properties], payload. */
function connectBytes(o: { name?: number[]; level: number; flags: number; props?: number[]; payload: number[] }): Buffer {
  const props = o.level === 5 ? [o.props?.length ?? 0, ...(o.props ?? [])] : [];
  return frame(0x10, [...(o.name ?? MQTT), o.level, o.flags, 0x00, 0x3c, ...props, ...o.payload]);
}

describe('first packet [MQTT-3.1.0-1]', () => {
  it.each([
    ['PINGREQ', [0xc0, 0x00]],
    ['PUBLISH QoS 0', [...frame(0x30, [...str('a/b'), 0x78])]],
    ['SUBSCRIBE', [...frame(0x82, [0x00, 0x01, ...str('a/#'), 0x00])]],
    ['DISCONNECT', [0xe0, 0x00]],
  ])('a first packet that is not CONNECT (%s) closes the connection without any reply', async (_name, bytes) => {
    const c = await RawClient.tcp(fx.port);
    c.sendRaw(bytes);
    await expectClosedWithoutReply(c);
  });

  it('a connection that sends nothing is closed after idle_timeout (no CONNECT)', async () => {
    const c = await RawClient.tcp(fx.port);
    await expectClosedWithoutReply(c, 2000);
  });
});

describe('second CONNECT [MQTT-3.1.0-2]', () => {
  it('v5: a second CONNECT is a Protocol Error: DISCONNECT 0x82, then close', async () => {
    const c = await RawClient.connected(fx.port, uid('twice5'));
    c.send(c.connectPacket({ clientId: uid('twice5b') }));
    await expectDisconnect(c, 0x82);
  });

  it('v5: a second CONNECT sent back-to-back with the first still gets CONNACK first, then DISCONNECT 0x82', async () => {
    const c = await RawClient.tcp(fx.port);
    const id = uid('b2b');
    const connect = c.encode(c.connectPacket({ clientId: id }));
    c.sendRaw(Buffer.concat([connect, connect]));
    const ack = await c.next('connack');
    expect(ack.reasonCode).toBe(0x00);
    await expectDisconnect(c, 0x82);
  });

  it('v3.1.1: a second CONNECT closes the connection without DISCONNECT', async () => {
    const c = await RawClient.connected(fx.port, uid('twice4'), { version: 4 });
    c.send(c.connectPacket({ clientId: uid('twice4b') }));
    await expectClosedWithoutReply(c);
  });
});

describe('protocol name and level [MQTT-3.1.2-1] [MQTT-3.1.2-2]', () => {
  it.each([6, 0, 2, 0x86])('unsupported protocol level %i: CONNACK with return code 0x01, then close [MQTT-3.1.2-2]', async (level) => {
    const c = await RawClient.tcp(fx.port, 4);
    c.sendRaw(frame(0x10, [...MQTT, level, 0x02, 0x00, 0x3c, ...str('lvl')]));
    const ack = await c.next('connack');
    // 3.1.1 form (the server does not speak the client's version): 20 02 00 01.
    expect(ack.raw.toString('hex')).toBe('20020001');
    await c.closed();
    expect(c.pending.map(show), 'nothing after the CONNACK').toEqual([]);
  });

  it('a protocol name other than MQTT/MQIsdp: the connection is closed (at most CONNACK 0x84 / 0x01 first) [MQTT-3.1.2-1]', async () => {
    const c = await RawClient.tcp(fx.port, 5);
    c.sendRaw(connectBytes({ name: str('MQTX'), level: 5, flags: 0x02, payload: str('name') }));
    await c.closed();
    for (const p of c.received) {
      expect(p.cmd, show(p)).toBe('connack');
      expect(['0x84', '0x01']).toContain(hex((p as { reasonCode?: number }).reasonCode ?? (p as { returnCode?: number }).returnCode));
    }
  });
});

describe('CONNECT flags [MQTT-3.1.2-3] [MQTT-3.1.2-11] [MQTT-3.1.2-12]', () => {
  /** The server closes; it may first send a CONNACK with 0x81 (Malformed Packet) [MQTT-4.13.1-1]. */
  async function expectRefusedMalformed(c: RawClient): Promise<void> {
    await c.closed();
    const seen = c.received.map(show);
    expect(seen.length, `at most one CONNACK: ${seen.join(', ')}`).toBeLessThanOrEqual(1);
    if (c.received.length === 1) {
      const p = c.received[0]!;
      expect(p.cmd, show(p)).toBe('connack');
      expect(hex((p as { reasonCode?: number }).reasonCode), show(p)).toBe('0x81');
    }
  }

  it('v5: reserved flag bit 0 set: the connection is closed [MQTT-3.1.2-3]', async () => {
    const c = await RawClient.tcp(fx.port, 5);
    c.sendRaw(connectBytes({ level: 5, flags: 0x03, payload: str('rsv') }));
    await expectRefusedMalformed(c);
  });

  it('v3.1.1: reserved flag bit 0 set: the connection is closed without CONNACK [MQTT-3.1.2-3]', async () => {
    const c = await RawClient.tcp(fx.port, 4);
    c.sendRaw(connectBytes({ level: 4, flags: 0x03, payload: str('rsv4') }));
    await expectClosedWithoutReply(c);
  });

  it('v5: Will Flag 0 with Will QoS 1 is malformed: closed [MQTT-3.1.2-11]', async () => {
    const c = await RawClient.tcp(fx.port, 5);
    c.sendRaw(connectBytes({ level: 5, flags: 0x02 | 0x08, payload: str('wq') }));
    await expectRefusedMalformed(c);
  });

  it('v5: Will Flag 0 with Will Retain 1 is malformed: closed [MQTT-3.1.2-13]', async () => {
    const c = await RawClient.tcp(fx.port, 5);
    c.sendRaw(connectBytes({ level: 5, flags: 0x02 | 0x20, payload: str('wr') }));
    await expectRefusedMalformed(c);
  });

  it('v5: Will QoS 3 is a Malformed Packet: closed, CONNACK 0x81 at most [MQTT-3.1.2-12]', async () => {
    const c = await RawClient.tcp(fx.port, 5);
    // flags: will (0x04) + will QoS 3 (0x18) + clean start; will properties (empty), topic, payload.
    c.sendRaw(connectBytes({ level: 5, flags: 0x02 | 0x04 | 0x18, payload: [...str('wq3'), 0x00, ...str('will/t'), ...str('bye')] }));
    await expectRefusedMalformed(c);
  });

  it('v3.1.1: Password Flag without User Name Flag is a protocol violation: closed without CONNACK [MQTT-3.1.2-22]', async () => {
    const c = await RawClient.tcp(fx.port, 4);
    c.sendRaw(connectBytes({ level: 4, flags: 0x02 | 0x40, payload: [...str('pw'), ...str('secret')] }));
    await expectClosedWithoutReply(c);
  });
});

describe('CONNACK', () => {
  it('v3.1.1: CONNACK is exactly 20 02 00 00 for a clean session [MQTT-3.2.2-1]', async () => {
    const c = await RawClient.tcp(fx.port, 4);
    const ack = await c.handshake({ clientId: uid('v4ack') });
    expect(ack.raw.toString('hex')).toBe('20020000');
  });

  it('v5: CONNACK 0x00, session present 0 on clean start, announces the broker limits [MQTT-3.2.2-2]', async () => {
    const c = await RawClient.tcp(fx.port, 5);
    const ack = await c.handshake({ clientId: uid('v5ack') });
    expect(ack.raw[0]).toBe(0x20);
    expect(ack.raw[2], 'acknowledge flags').toBe(0x00);
    expect(ack.raw[3], 'reason code').toBe(0x00);
    expect(ack.properties?.maximumPacketSize).toBe(1024 * 1024);
    expect(ack.properties?.topicAliasMaximum).toBe(65535);
    expect(ack.properties?.receiveMaximum).toBeGreaterThan(0);
    expect(ack.properties?.assignedClientIdentifier).toBeUndefined();
  });

  it('v5: a zero-length client id gets an Assigned Client Identifier [MQTT-3.2.2-16]', async () => {
    const c = await RawClient.tcp(fx.port, 5);
    const ack = await c.handshake({ clientId: '' });
    expect(ack.reasonCode).toBe(0);
    expect(ack.properties?.assignedClientIdentifier).toMatch(/.+/);
  });

  it('v3.1.1: a zero-length client id with clean session 0: CONNACK 0x02, then close [MQTT-3.1.3-8]', async () => {
    const c = await RawClient.tcp(fx.port, 4);
    c.sendRaw(connectBytes({ level: 4, flags: 0x00, payload: str('') })); // mqtt-packet refuses to generate it
    const ack = await c.next('connack');
    expect(ack.raw.toString('hex')).toBe('20020002');
    await expectClosedWithoutReply(c);
  });
});

describe('enhanced authentication (§4.12)', () => {
  it('v5: CONNECT with an Authentication Method nobody supports: CONNACK 0x8C, then close', async () => {
    const c = await RawClient.tcp(fx.port, 5);
    const ack = await c.handshake({ clientId: uid('authm'), properties: { authenticationMethod: 'SCRAM-SHA-1' } });
    expect(ack.raw[3], show(ack)).toBe(0x8c);
    expect(ack.sessionPresent).toBe(false);
    await c.closed();
    expect(c.pending).toHaveLength(0);
  });

  it('v5: AUTH after a CONNECT without Authentication Method: DISCONNECT 0x8C (or 0x82), then close §4.12, §3.15', async () => {
    const c = await RawClient.connected(fx.port, uid('auth'));
    c.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-SHA-1' } });
    await expectDisconnect(c, [0x8c, 0x82]);
  });

  it('v5: that DISCONNECT uses a reason code the DISCONNECT table allows (§3.14.2.1), so MQTT.js can parse it', async () => {
    // §3.14.2.1 has no 0x8C; mqtt-packet (MQTT.js) rejects such a DISCONNECT as malformed, and the
    // client sees a parse error instead of the reason. 0x82 (Protocol Error) is the listed code.
    const c = await RawClient.connected(fx.port, uid('auth2'));
    c.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-SHA-1' } });
    const d = await c.next('disconnect', 2000, { lenient: true });
    expect(d.malformed, show(d)).toBeUndefined();
    await c.closed();
  });
});

describe('re-authentication (§4.12.1) with a registered method', () => {
  /** Allows when the authentication data is "good", else denies as bad credentials. */
  const register = () =>
    fx.broker.enhancedAuth.register({
      method: 'TOKEN-TEST',
      start: async (info) => (info.authData?.toString() === 'good' ? { result: 'allow' } : { result: 'deny', reason: 'bad_credentials' }),
    });

  it('a successful re-authentication is answered with AUTH 0x00 carrying the method', async () => {
    const unregister = register();
    try {
      const c = await RawClient.tcp(fx.port, 5);
      const ack = await c.handshake({ clientId: uid('reauth'), properties: { authenticationMethod: 'TOKEN-TEST', authenticationData: Buffer.from('good') } });
      expect(ack.reasonCode).toBe(0);
      expect(ack.properties?.authenticationMethod).toBe('TOKEN-TEST');
      c.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'TOKEN-TEST', authenticationData: Buffer.from('good') } });
      const auth = await c.next('auth');
      expect(auth.reasonCode).toBe(0x00);
      expect(auth.properties?.authenticationMethod).toBe('TOKEN-TEST');
    } finally {
      unregister();
    }
  });

  it('a failed re-authentication ends with a DISCONNECT whose reason code §3.14.2.1 allows (MQTT.js must be able to parse it)', async () => {
    const unregister = register();
    try {
      const c = await RawClient.tcp(fx.port, 5);
      const ack = await c.handshake({ clientId: uid('reauthbad'), properties: { authenticationMethod: 'TOKEN-TEST', authenticationData: Buffer.from('good') } });
      expect(ack.reasonCode).toBe(0);
      c.send({ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'TOKEN-TEST', authenticationData: Buffer.from('bad') } });
      const d = await c.next('disconnect', 1000, { lenient: true });
      expect(d.malformed, show(d)).toBeUndefined();
      expect(hex(d.reasonCode)).toBe('0x87'); // Not authorized: the DISCONNECT code for a refused client
      await c.closed();
    } finally {
      unregister();
    }
  });
});

describe('no DISCONNECT before a successful CONNACK [MQTT-3.2.0-1] [MQTT-3.14.0-1]', () => {
  it.each([
    ['PUBREL with header flags 0', [0x60, 0x02, 0x00, 0x01]],
    ['a PUBLISH with QoS 3', [0x36, 0x04, 0x00, 0x01, 0x61, 0x78]],
    ['an oversize packet header (100 MB)', [0x30, 0x80, 0x80, 0x80, 0x32]],
  ])('v5: CONNECT and then %s in the same write: CONNACK comes first, then DISCONNECT (or a bare close)', async (_n, bad) => {
    const c = await RawClient.tcp(fx.port, 5);
    c.sendRaw(Buffer.concat([c.encode(c.connectPacket({ clientId: uid('cm') })), Buffer.from(bad)]));
    await c.closed();
    const seen = c.received.map(show);
    if (seen.length > 0) expect(seen[0], `packets: ${seen.join(', ')}`).toMatch(/^connack/);
  });

  it('v5: CONNECT, PUBLISH QoS 1, then a malformed packet in one write: the PUBLISH before it is still processed (PUBACK) §4.13', async () => {
    const c = await RawClient.tcp(fx.port, 5);
    const pub = c.encode({ cmd: 'publish', topic: 'cm/order', payload: Buffer.from('x'), qos: 1, messageId: 6, retain: false, dup: false });
    c.sendRaw(Buffer.concat([c.encode(c.connectPacket({ clientId: uid('cmo') })), pub, Buffer.from([0x60, 0x02, 0x00, 0x01])]));
    await c.closed();
    const cmds = c.received.map((p) => p.cmd);
    expect(cmds.slice(0, 2), c.received.map(show).join(', ')).toEqual(['connack', 'puback']);
    expect(cmds.slice(2).every((cmd) => cmd === 'disconnect') && cmds.length <= 3, 'then at most a DISCONNECT').toBe(true);
  });

  it.each([
    ['Receive Maximum 0', { receiveMaximum: 0 }],
    ['Maximum Packet Size 0', { maximumPacketSize: 0 }],
  ])('v5: CONNECT with %s is a Protocol Error: CONNACK 0x82 (or a bare close), never DISCONNECT', async (_n, properties) => {
    const c = await RawClient.tcp(fx.port, 5);
    c.send(c.connectPacket({ clientId: uid('rm0'), properties }));
    await c.closed();
    const seen = c.received.map(show);
    expect(seen.length, seen.join(', ')).toBeLessThanOrEqual(1);
    if (c.received.length === 1) {
      expect(c.received[0]!.cmd, `first packet must be CONNACK, got ${seen[0]}`).toBe('connack');
      expect((c.received[0] as { reasonCode?: number }).reasonCode).toBe(0x82);
    }
  });

});
