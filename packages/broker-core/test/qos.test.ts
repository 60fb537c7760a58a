import { describe, expect, it } from 'vitest';
import { RecordingSink } from '../src/testing/index.js';
import { connect, msg, newBroker } from './helpers.js';

describe('QoS and the inflight window', () => {
  it('holds QoS 1 deliveries beyond the receive maximum until acknowledged, in order', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a', { receiveMaximum: 2 });
    await a.handle.subscribe([{ filter: 't', qos: 1 }]);
    for (let i = 0; i < 5; i++) broker.publish(msg('t', String(i), { qos: 1 }));
    expect(a.sink.messages.map((m) => m[1])).toEqual(['0', '1']);
    expect(a.handle.ack(a.sink.deliveries[0]!.packetId, 'puback')).toBe(true);
    expect(a.sink.messages.map((m) => m[1])).toEqual(['0', '1', '2']);
    for (const d of a.sink.deliveries.slice(1)) a.handle.ack(d.packetId, 'puback');
    for (const d of a.sink.deliveries.slice(3)) a.handle.ack(d.packetId, 'puback');
    expect(a.sink.messages.map((m) => m[1])).toEqual(['0', '1', '2', '3', '4']);
    expect(broker.session('a')).toMatchObject({ inflight: 0, queued: 0 });
  });

  it('QoS 2 outbound: PUBREC then PUBCOMP completes; acks out of order are refused', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a');
    await a.handle.subscribe([{ filter: 't', qos: 2 }]);
    broker.publish(msg('t', 'm', { qos: 2 }));
    const id = a.sink.deliveries[0]!.packetId;
    expect(a.handle.ack(id, 'pubcomp')).toBe(false);
    expect(a.handle.ack(id, 'puback')).toBe(false);
    expect(a.handle.ack(id, 'pubrec')).toBe(true);
    expect(a.handle.ack(id, 'pubcomp')).toBe(true);
    expect(a.handle.ack(id, 'pubcomp')).toBe(false);
  });

  it('[MQTT-4.3.3-9] a repeated inbound QoS 2 packet id is routed once until released', async () => {
    const { broker } = newBroker();
    const s = await connect(broker, 's');
    await s.handle.subscribe([{ filter: 't', qos: 2 }]);
    const p = await connect(broker, 'p', { cleanStart: false, sessionExpiryInterval: 60 });
    expect(p.handle.publish(msg('t', 'once', { qos: 2, packetId: 7 }))).toEqual({ matched: 1 });
    expect(p.handle.publish(msg('t', 'once', { qos: 2, packetId: 7 }))).toEqual({ matched: 0, duplicate: true });
    // The publisher reconnects before PUBREL: the packet id is still held.
    p.handle.close('connection_lost');
    const p2 = await connect(broker, 'p', { cleanStart: false, sessionExpiryInterval: 60 });
    expect(p2.handle.sessionPresent).toBe(true);
    expect(p2.handle.publish(msg('t', 'once', { qos: 2, packetId: 7 }))).toMatchObject({ duplicate: true });
    expect(p2.handle.release(7)).toBe(true);
    expect(p2.handle.release(7)).toBe(false);
    expect(s.sink.deliveries).toHaveLength(1);
  });

  it('refuses inbound QoS 2 beyond max_awaiting_rel', async () => {
    const { broker } = newBroker({ config: { max_awaiting_rel: 2 } });
    const p = await connect(broker, 'p');
    p.handle.publish(msg('t', '1', { qos: 2, packetId: 1 }));
    p.handle.publish(msg('t', '2', { qos: 2, packetId: 2 }));
    expect(() => p.handle.publish(msg('t', '3', { qos: 2, packetId: 3 }))).toThrow(expect.objectContaining({ code: 'receive_maximum_exceeded' }));
  });

  it('back-pressure: a full sink pauses delivery, ready() resumes it', async () => {
    const { broker } = newBroker();
    const sink = new RecordingSink();
    const a = await connect(broker, 'a', {}, sink);
    await a.handle.subscribe([{ filter: 't', qos: 0 }]);
    sink.full = true;
    broker.publish(msg('t', '1'));
    broker.publish(msg('t', '2'));
    expect(sink.messages.map((m) => m[1])).toEqual(['1']);
    expect(broker.session('a')!.queued).toBe(1);
    sink.full = false;
    a.handle.ready();
    expect(sink.messages.map((m) => m[1])).toEqual(['1', '2']);
  });

  it('bounded queue drops the oldest by default and notifies message.dropped', async () => {
    const { broker } = newBroker({ config: { max_mqueue_len: 2 } });
    const dropped: string[] = [];
    broker.hooks.on('message.dropped', (m, reason, clientId) => dropped.push(`${m.payload}:${reason}:${clientId}`));
    const a = await connect(broker, 'a', { cleanStart: false, sessionExpiryInterval: 60 });
    await a.handle.subscribe([{ filter: 't', qos: 1 }]);
    a.handle.close('connection_lost');
    for (const p of ['1', '2', '3']) broker.publish(msg('t', p, { qos: 1 }));
    expect(dropped).toEqual(['1:queue_full:a']);
    const a2 = await connect(broker, 'a', { cleanStart: false, sessionExpiryInterval: 60 });
    expect(a2.sink.messages.map((m) => m[1])).toEqual(['2', '3']);
  });

  it('drop_newest keeps what was queued first', async () => {
    const { broker } = newBroker({ config: { max_mqueue_len: 2, mqueue_drop_policy: 'drop_newest' } });
    const a = await connect(broker, 'a', { cleanStart: false, sessionExpiryInterval: 60 });
    await a.handle.subscribe([{ filter: 't', qos: 1 }]);
    a.handle.close('connection_lost');
    for (const p of ['1', '2', '3']) broker.publish(msg('t', p, { qos: 1 }));
    const a2 = await connect(broker, 'a', { cleanStart: false, sessionExpiryInterval: 60 });
    expect(a2.sink.messages.map((m) => m[1])).toEqual(['1', '2']);
  });

  it('queued messages past their expiry are dropped, not delivered', async () => {
    const { broker, clock } = newBroker();
    const a = await connect(broker, 'a', { cleanStart: false, sessionExpiryInterval: 600 });
    await a.handle.subscribe([{ filter: 't', qos: 1 }]);
    a.handle.close('connection_lost');
    broker.publish(msg('t', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } }));
    broker.publish(msg('t', 'long', { qos: 1, properties: { messageExpiryInterval: 100 } }));
    clock.advance(2000);
    const a2 = await connect(broker, 'a', { cleanStart: false, sessionExpiryInterval: 600 });
    expect(a2.sink.messages.map((m) => m[1])).toEqual(['long']);
    expect(broker.metrics.counters['messages.dropped.expired']).toBe(1);
  });

  it('[MQTT-4.4.0-1] resumes with unacknowledged PUBLISHes resent with DUP and PUBRELs resent', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a', { cleanStart: false, sessionExpiryInterval: 60 });
    await a.handle.subscribe([{ filter: 't', qos: 2 }]);
    broker.publish(msg('t', 'q1', { qos: 1 }));
    broker.publish(msg('t', 'q2', { qos: 2 }));
    const [d1, d2] = a.sink.deliveries;
    a.handle.ack(d2!.packetId, 'pubrec');
    a.handle.close('connection_lost');
    const sink = new RecordingSink();
    const handle = await broker.open({ clientId: 'a', protocol: 'test', peer: '127.0.0.1:9', cleanStart: false, sessionExpiryInterval: 60, keepalive: 0 }, sink);
    expect(sink.deliveries).toHaveLength(0); // nothing before the adapter is ready (CONNACK first)
    handle.ready();
    expect(sink.deliveries.map((d) => [d.packetId, d.dup, d.message.payload.toString()])).toEqual([[d1!.packetId, true, 'q1']]);
    expect(sink.pubrels).toEqual([d2!.packetId]);
  });
});
