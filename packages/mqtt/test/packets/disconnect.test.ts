/**
 * Client DISCONNECT (MQTT 5.0 §3.14; MQTT 3.1.1 §3.14) and its effect on the will and session.
 */
import { describe, expect, it } from 'vitest';
import { expectClosedWithoutReply, expectDisconnect, useFixture } from './fixture.js';
import { ManualClock } from '@junction/broker-core/testing';
import { RawClient, uid, waitFor } from './raw-client.js';

const fx = useFixture();

const will = (topic: string) => ({ topic, payload: Buffer.from('gone'), qos: 1 as const, retain: false });

async function watcher(filter: string): Promise<RawClient> {
  const w = await RawClient.connected(fx.port, uid('watch'));
  w.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] });
  await w.next('suback');
  return w;
}

describe('DISCONNECT', () => {
  it('session expiry > 0 on DISCONNECT after 0 on CONNECT is a Protocol Error: DISCONNECT 0x82 [MQTT-3.14.2-2]', async () => {
    const c = await RawClient.connected(fx.port, uid('dse'), { connect: { properties: { sessionExpiryInterval: 0 } } });
    c.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 30 } });
    await expectDisconnect(c, 0x82);
  });

  it('the same when CONNECT had no Session Expiry Interval at all (absent means 0) [MQTT-3.14.2-2]', async () => {
    const c = await RawClient.connected(fx.port, uid('dse0'));
    c.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 1 } });
    await expectDisconnect(c, 0x82);
  });

  it('a normal DISCONNECT: the server closes the connection and sends nothing [MQTT-3.14.4-1] [MQTT-3.14.4-2]', async () => {
    const c = await RawClient.connected(fx.port, uid('dn'));
    c.sendRaw([0xe0, 0x00]);
    await expectClosedWithoutReply(c);
  });

  it('DISCONNECT 0x00 discards the will [MQTT-3.14.4-3]; DISCONNECT 0x04 publishes it', async () => {
    const w = await watcher('dw/#');
    const a = await RawClient.connected(fx.port, uid('dw0'), { connect: { will: will('dw/zero') } });
    a.send({ cmd: 'disconnect', reasonCode: 0x00 });
    await a.closed();
    const b = await RawClient.connected(fx.port, uid('dw4'), { connect: { will: will('dw/four') } });
    b.send({ cmd: 'disconnect', reasonCode: 0x04 });
    await b.closed();
    const p = await w.next('publish');
    expect(p.topic).toBe('dw/four');
    await w.barrier();
  });

  it('a connection lost without DISCONNECT publishes the will [MQTT-3.1.2-8]', async () => {
    const w = await watcher('dl/#');
    const a = await RawClient.connected(fx.port, uid('dl'), { connect: { will: will('dl/lost') } });
    a.destroy();
    expect((await w.next('publish')).topic).toBe('dl/lost');
  });

  it('a server-initiated close for a protocol error publishes the will [MQTT-3.1.2-8]', async () => {
    const w = await watcher('dp/#');
    const a = await RawClient.connected(fx.port, uid('dp'), { connect: { will: will('dp/err') } });
    a.send({ cmd: 'publish', topic: 'dp/+', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await expectDisconnect(a, 0x90);
    expect((await w.next('publish')).topic).toBe('dp/err');
  });

  it('DISCONNECT with session expiry 0 after CONNECT with 60 ends the session §3.14.2.2.2', async () => {
    const id = uid('dend');
    const c = await RawClient.connected(fx.port, id, { connect: { clean: false, properties: { sessionExpiryInterval: 60 } } });
    c.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    await c.closed();
    await waitFor(() => fx.broker.session(id) === undefined, 2000, 'session ended');
  });

  it('v3.1.1: DISCONNECT (e0 00) closes without any packet and discards the will [MQTT-3.14.4-3]', async () => {
    const w = await watcher('d4/#');
    const c = await RawClient.connected(fx.port, uid('d4'), { version: 4, connect: { will: will('d4/w') } });
    c.sendRaw([0xe0, 0x00]);
    await expectClosedWithoutReply(c);
    await w.barrier();
  });
});

describe('max_session_expiry_interval (60 s) bounds every Session Expiry Interval, also one set by DISCONNECT §3.14.2.2.2', () => {
  // The broker's timers run on a manual clock: expiry is checked without waiting.
  const clock = new ManualClock(Date.now());
  const capped = useFixture({ broker: { clock, config: { max_session_expiry_interval: 60_000 } } });

  it('CONNECT asking 0xFFFFFFFF (never expire): the session still ends 60 s after the connection', async () => {
    const id = uid('capc');
    const c = await RawClient.connected(capped.port, id, { connect: { clean: false, properties: { sessionExpiryInterval: 0xffffffff } } });
    c.destroy();
    await waitFor(() => capped.broker.session(id)?.connected === false, 2000, 'session offline');
    clock.advance(61_000);
    expect(capped.broker.session(id)).toBeUndefined();
  });

  it('DISCONNECT raising the interval to 0xFFFFFFFF: the session still ends 60 s after the connection', async () => {
    const id = uid('capd');
    const c = await RawClient.connected(capped.port, id, { connect: { clean: false, properties: { sessionExpiryInterval: 30 } } });
    c.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0xffffffff } });
    await c.closed();
    await waitFor(() => capped.broker.session(id)?.connected === false, 2000, 'session offline');
    clock.advance(61_000);
    expect(capped.broker.session(id), 'session left after 61 s').toBeUndefined();
  });
});
