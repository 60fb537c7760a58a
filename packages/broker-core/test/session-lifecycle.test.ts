import { describe, expect, it } from 'vitest';
import type { Will } from '../src/index.js';
import { connect, msg, newBroker } from './helpers.js';

const will = (extra: Partial<Will> = {}): Will => ({ topic: 'will/a', payload: Buffer.from('gone'), qos: 0, retain: false, ...extra });

describe('session takeover', () => {
  it('[MQTT-3.1.4-3] a second connection closes the first with takeover and keeps the session', async () => {
    const { broker } = newBroker();
    const first = await connect(broker, 'c', { cleanStart: false, sessionExpiryInterval: 60 });
    await first.handle.subscribe([{ filter: 't', qos: 1 }]);
    const second = await connect(broker, 'c', { cleanStart: false, sessionExpiryInterval: 60 });
    expect(first.sink.closedBy).toEqual(['takeover']);
    expect(first.handle.closed).toBe(true);
    expect(second.handle.sessionPresent).toBe(true);
    broker.publish(msg('t', 'after', { qos: 1 }));
    expect(second.sink.messages).toEqual([['t', 'after']]);
    expect(first.sink.deliveries).toHaveLength(0);
    // The old handle closing late does not disturb the new connection.
    first.handle.close('connection_lost');
    expect(broker.session('c')!.connected).toBe(true);
  });

  it('clean start discards the previous session', async () => {
    const { broker } = newBroker();
    const first = await connect(broker, 'c', { cleanStart: false, sessionExpiryInterval: 60 });
    await first.handle.subscribe([{ filter: 't', qos: 1 }]);
    first.handle.close('normal');
    const second = await connect(broker, 'c', { cleanStart: true });
    expect(second.handle.sessionPresent).toBe(false);
    expect(broker.session('c')!.subscriptions).toEqual([]);
  });

  it('assigns a client id when the client sent none', async () => {
    const { broker } = newBroker();
    const c = await connect(broker, '');
    expect(c.handle.assignedClientId).toMatch(/^junction-[0-9a-f]{16}$/);
    expect(c.handle.clientId).toBe(c.handle.assignedClientId);
  });
});

describe('session expiry', () => {
  it('keeps a session for its expiry interval, then ends it', async () => {
    const { broker, clock } = newBroker();
    const c = await connect(broker, 'c', { cleanStart: false, sessionExpiryInterval: 10 });
    await c.handle.subscribe([{ filter: 't', qos: 1 }]);
    c.handle.close('connection_lost');
    clock.advance(9000);
    expect(broker.session('c')).toBeDefined();
    clock.advance(2000);
    expect(broker.session('c')).toBeUndefined();
    expect(broker.stats().subscriptions).toBe(0);
  });

  it('MQTT 3.x persistent sessions take the broker default expiry', async () => {
    const { broker, clock } = newBroker({ config: { session_expiry_interval: 5000 } });
    const c = await connect(broker, 'c', { cleanStart: false, sessionExpiryInterval: undefined });
    c.handle.close('connection_lost');
    clock.advance(4000);
    expect(broker.session('c')).toBeDefined();
    clock.advance(2000);
    expect(broker.session('c')).toBeUndefined();
  });

  it('a DISCONNECT may change the expiry', async () => {
    const { broker, clock } = newBroker();
    const c = await connect(broker, 'c', { cleanStart: false, sessionExpiryInterval: 100 });
    c.handle.setSessionExpiry(0);
    c.handle.close('normal');
    clock.advance(1);
    expect(broker.session('c')).toBeUndefined();
  });
});

describe('will messages', () => {
  async function watcher(broker: Parameters<typeof connect>[0]) {
    const w = await connect(broker, 'watcher');
    await w.handle.subscribe([{ filter: 'will/#', qos: 1 }]);
    return w;
  }

  it('publishes the will on an abnormal close, not on a normal one', async () => {
    const { broker } = newBroker();
    const w = await watcher(broker);
    (await connect(broker, 'a', { will: will() })).handle.close('connection_lost');
    (await connect(broker, 'b', { will: will({ topic: 'will/b' }) })).handle.close('normal');
    (await connect(broker, 'c', { will: will({ topic: 'will/c' }) })).handle.close('normal_with_will');
    expect(w.sink.messages).toEqual([['will/a', 'gone'], ['will/c', 'gone']]);
    expect(w.sink.deliveries[0]!.message.from.clientId).toBe('a');
  });

  it('[MQTT-3.1.3-9] a reconnect within the will delay cancels the will', async () => {
    const { broker, clock } = newBroker();
    const w = await watcher(broker);
    const a = await connect(broker, 'a', { cleanStart: false, sessionExpiryInterval: 60, will: will({ delayInterval: 5 }) });
    a.handle.close('connection_lost');
    clock.advance(3000);
    await connect(broker, 'a', { cleanStart: false, sessionExpiryInterval: 60 });
    clock.advance(10_000);
    expect(w.sink.deliveries).toHaveLength(0);
  });

  it('publishes a delayed will after its delay, or when the session ends first', async () => {
    const { broker, clock } = newBroker();
    const w = await watcher(broker);
    const a = await connect(broker, 'a', { cleanStart: false, sessionExpiryInterval: 60, will: will({ delayInterval: 5 }) });
    a.handle.close('connection_lost');
    clock.advance(4000);
    expect(w.sink.deliveries).toHaveLength(0);
    clock.advance(1500);
    expect(w.sink.messages).toEqual([['will/a', 'gone']]);

    const b = await connect(broker, 'b', { cleanStart: false, sessionExpiryInterval: 2, will: will({ topic: 'will/b', delayInterval: 30 }) });
    b.handle.close('connection_lost');
    clock.advance(2500);
    expect(w.sink.messages.at(-1)).toEqual(['will/b', 'gone']);
  });

  it('publishes the will on takeover when it has no delay', async () => {
    const { broker } = newBroker();
    const w = await watcher(broker);
    await connect(broker, 'a', { will: will() });
    await connect(broker, 'a');
    expect(w.sink.messages).toEqual([['will/a', 'gone']]);
  });
});

describe('keepalive', () => {
  it('closes a silent client after 1.5 x keepalive; traffic keeps it alive', async () => {
    const { broker, clock } = newBroker();
    const a = await connect(broker, 'a', { keepalive: 10, will: will() });
    const w = await connect(broker, 'w');
    await w.handle.subscribe([{ filter: 'will/#', qos: 0 }]);
    clock.advance(14_000);
    a.handle.touch();
    clock.advance(14_000);
    expect(a.sink.closedBy).toEqual([]);
    clock.advance(1_100);
    expect(a.sink.closedBy).toEqual(['keepalive_timeout']);
    expect(a.handle.closed).toBe(true);
    expect(w.sink.messages).toEqual([['will/a', 'gone']]);
  });
});

describe('shared subscriptions', () => {
  it('round robin: each message goes to exactly one member, alternating', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a');
    const b = await connect(broker, 'b');
    await a.handle.subscribe([{ filter: '$share/g/s/+', qos: 0 }]);
    await b.handle.subscribe([{ filter: '$share/g/s/+', qos: 0 }]);
    for (let i = 0; i < 6; i++) broker.publish(msg('s/x', String(i)));
    expect(a.sink.deliveries.length).toBe(3);
    expect(b.sink.deliveries.length).toBe(3);
    expect([...a.sink.messages, ...b.sink.messages].map((m) => m[1]).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  it('$queue/ is a shared group, and two groups each get a copy', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a');
    const b = await connect(broker, 'b');
    await a.handle.subscribe([{ filter: '$queue/q', qos: 0 }]);
    await b.handle.subscribe([{ filter: '$share/other/q', qos: 0 }]);
    broker.publish(msg('q'));
    expect(a.sink.deliveries).toHaveLength(1);
    expect(b.sink.deliveries).toHaveLength(1);
  });

  it('prefers online members', async () => {
    const { broker } = newBroker();
    const a = await connect(broker, 'a', { cleanStart: false, sessionExpiryInterval: 60 });
    const b = await connect(broker, 'b');
    await a.handle.subscribe([{ filter: '$share/g/t', qos: 1 }]);
    await b.handle.subscribe([{ filter: '$share/g/t', qos: 1 }]);
    a.handle.close('connection_lost');
    for (let i = 0; i < 4; i++) broker.publish(msg('t', String(i), { qos: 1 }));
    expect(b.sink.deliveries).toHaveLength(4);
  });

  it.each(['random', 'hash_clientid', 'sticky'] as const)('%s strategy delivers each message to one member', async (strategy) => {
    const { broker } = newBroker({ config: { shared_subscription_strategy: strategy } });
    const members = [await connect(broker, 'a'), await connect(broker, 'b'), await connect(broker, 'c')];
    for (const m of members) await m.handle.subscribe([{ filter: '$share/g/t', qos: 0 }]);
    for (let i = 0; i < 30; i++) broker.publish(msg('t', String(i)));
    expect(members.reduce((n, m) => n + m.sink.deliveries.length, 0)).toBe(30);
    if (strategy !== 'random') expect(members.filter((m) => m.sink.deliveries.length > 0)).toHaveLength(1);
  });
});

describe('hooks', () => {
  it('client.authenticate can refuse a client with a reason', async () => {
    const { broker } = newBroker();
    broker.hooks.intercept('client.authenticate', (info) => (info.username === 'bad' ? { result: 'deny', reason: 'bad_credentials' } : { result: 'ignore' }));
    await expect(connect(broker, 'x', { username: 'bad' })).rejects.toMatchObject({ code: 'bad_credentials' });
    await expect(connect(broker, 'y', { username: 'good' })).resolves.toBeDefined();
    expect(broker.metrics.counters['client.auth.failure']).toBe(1);
  });

  it('client.authorize denies publish and subscribe, sync or async', async () => {
    const { broker } = newBroker();
    broker.hooks.intercept('client.authorize', (r) => (r.topic.startsWith('secret') ? 'deny' : 'ignore'));
    broker.hooks.intercept('client.authorize', async (r) => (r.topic === 'slow/deny' ? 'deny' : 'allow'));
    const a = await connect(broker, 'a');
    const r = await a.handle.subscribe([{ filter: 'secret/#', qos: 0 }, { filter: 'open', qos: 0 }]);
    expect(r.map((x) => x.ok)).toEqual([false, true]);
    expect(() => a.handle.publish(msg('secret/x'))).toThrow(expect.objectContaining({ code: 'not_authorized' }));
    await expect(a.handle.publish(msg('slow/deny'))).rejects.toMatchObject({ code: 'not_authorized' });
    await expect(a.handle.publish(msg('open'))).resolves.toEqual({ matched: 1 });
  });

  it('message.publish can rewrite or drop, notifications report connect and disconnect', async () => {
    const { broker } = newBroker();
    const events: string[] = [];
    broker.hooks.on('client.connected', (c) => events.push(`connected:${c.clientId}`));
    broker.hooks.on('client.disconnected', (c, why) => events.push(`disconnected:${c.clientId}:${why}`));
    broker.hooks.intercept('message.publish', (m) => (m.topic === 'drop' ? null : { ...m, payload: Buffer.from('changed') }));
    const a = await connect(broker, 'a');
    await a.handle.subscribe([{ filter: '#', qos: 0 }]);
    broker.publish(msg('drop'));
    broker.publish(msg('keep', 'orig'));
    expect(a.sink.messages).toEqual([['keep', 'changed']]);
    a.handle.close('normal');
    expect(events).toEqual(['connected:a', 'disconnected:a:normal']);
  });

  it('a throwing listener does not break the broker', async () => {
    const { broker } = newBroker();
    broker.hooks.on('client.connected', () => {
      throw new Error('boom');
    });
    await expect(connect(broker, 'a')).resolves.toBeDefined();
  });
});

describe('anonymous access', () => {
  it('by default admits anonymous clients only from loopback', async () => {
    const { broker } = newBroker();
    await expect(connect(broker, 'local', { peer: '127.0.0.1:5000' })).resolves.toBeDefined();
    await expect(connect(broker, 'local6', { peer: '[::1]:5000' })).resolves.toBeDefined();
    await expect(connect(broker, 'mapped', { peer: '::ffff:127.0.0.1:5000' })).resolves.toBeDefined();
    await expect(connect(broker, 'remote', { peer: '192.0.2.7:5000' })).rejects.toMatchObject({ code: 'not_authorized' });
  });

  it('allow_anonymous true admits everyone, false no one', async () => {
    const open = newBroker({ config: { allow_anonymous: true } }).broker;
    await expect(connect(open, 'remote', { peer: '192.0.2.7:5000' })).resolves.toBeDefined();
    const closed = newBroker({ config: { allow_anonymous: false } }).broker;
    await expect(connect(closed, 'local', { peer: '127.0.0.1:5000' })).rejects.toMatchObject({ code: 'not_authorized' });
  });
});
