import { describe, expect, it } from 'vitest';
import type { RuleOutput, RulesHandle } from '../src/index.js';
import { connect, msg, setup } from './helpers.js';

/** A sink that records what rules send it. */
function capture(rules: RulesHandle, name = 'test:capture'): RuleOutput[] {
  const outs: RuleOutput[] = [];
  rules.sinks.register({ name, send: async (o) => void outs.push(o) });
  return outs;
}

function withRule(sql: string) {
  const env = setup({ rules: { r: { sql, actions: ['test:capture'] } } });
  const outs = capture(env.rules);
  return { ...env, outs, data: () => outs.map((o) => o.data) };
}

describe('events from a real broker core', () => {
  it('$events/client_connected carries the connection in EMQX’s fields', async () => {
    const { broker, clock, data } = withRule('SELECT * FROM "$events/client_connected"');
    await connect(broker, 'c1', { username: 'alice', keepalive: 30, sessionExpiryInterval: 120, peer: '10.1.2.3:4567' });
    expect(data()).toHaveLength(1);
    expect(data()[0]).toMatchObject({
      event: 'client.connected',
      clientid: 'c1',
      username: 'alice',
      peername: '10.1.2.3:4567',
      proto_name: 'MQTT',
      proto_ver: 5,
      keepalive: 30,
      clean_start: true,
      expiry_interval: 120,
      is_bridge: false,
      connected_at: clock.now(),
      timestamp: clock.now(),
      node: 'junction@127.0.0.1',
      conn_props: {},
      metadata: { rule_id: 'r' },
    });
  });

  it('$events/client_connack reports success and refusals with EMQX’s reason codes', async () => {
    const { broker, data } = withRule('SELECT clientid, reason_code, proto_ver FROM "$events/client_connack"');
    broker.hooks.intercept('client.authenticate', (info) =>
      info.username === 'mallory' ? { result: 'deny', reason: 'bad_username_or_password' } : { result: 'ignore' },
    );
    await connect(broker, 'ok');
    await expect(connect(broker, 'bad', { username: 'mallory' })).rejects.toThrow();
    expect(data()).toEqual([
      { clientid: 'ok', reason_code: 'success', proto_ver: 5 },
      { clientid: 'bad', reason_code: 'bad_username_or_password', proto_ver: 5 },
    ]);
  });

  it('$events/client_check_authn_complete carries the outcome, superuser and anonymous flags', async () => {
    const { broker, data } = withRule('SELECT clientid, username, reason_code, is_superuser, is_anonymous FROM "$events/client_check_authn_complete"');
    broker.hooks.intercept('client.authenticate', (info) => {
      if (info.username === 'root') return { result: 'allow', isSuperuser: true };
      if (info.username === 'mallory') return { result: 'deny', reason: 'bad_username_or_password' };
      return { result: 'ignore' };
    });
    await connect(broker, 'a', { username: 'root' });
    await expect(connect(broker, 'b', { username: 'mallory' })).rejects.toThrow();
    await connect(broker, 'c');
    expect(data()).toEqual([
      { clientid: 'a', username: 'root', reason_code: 'success', is_superuser: true, is_anonymous: false },
      { clientid: 'b', username: 'mallory', reason_code: 'bad_username_or_password', is_superuser: false, is_anonymous: false },
      { clientid: 'c', reason_code: 'success', is_superuser: false, is_anonymous: true },
    ]);
  });

  it('$events/client_check_authz_complete names the action, the result and the deciding source', async () => {
    const { broker, data } = withRule('SELECT clientid, topic, action, result, authz_source FROM "$events/client_check_authz_complete"');
    broker.hooks.intercept('client.authorize', (req) => {
      if (!req.topic.startsWith('secret/')) return 'ignore';
      req.source = 'file';
      return 'deny';
    });
    const c = await connect(broker, 'z');
    c.handle.publish(msg('open/x'));
    expect(() => c.handle.publish(msg('secret/x'))).toThrow();
    await c.handle.subscribe([{ filter: 'secret/#', qos: 0 }]);
    expect(data()).toEqual([
      { clientid: 'z', topic: 'open/x', action: 'publish', result: 'allow', authz_source: 'default' },
      { clientid: 'z', topic: 'secret/x', action: 'publish', result: 'deny', authz_source: 'file' },
      { clientid: 'z', topic: 'secret/#', action: 'subscribe', result: 'deny', authz_source: 'file' },
    ]);
  });

  it('accepts the slash spelling of event topics', async () => {
    const { broker, data } = withRule('SELECT clientid FROM "$events/client/connected"');
    await connect(broker, 'c2');
    expect(data()).toEqual([{ clientid: 'c2' }]);
  });

  it('$events/client_disconnected gives EMQX’s reason', async () => {
    const { broker, data } = withRule('SELECT clientid, reason, proto_ver, disconnected_at FROM "$events/client_disconnected"');
    const a = await connect(broker, 'a');
    a.handle.close('normal');
    const b = await connect(broker, 'b');
    broker.kick('b');
    await connect(broker, 'c');
    await connect(broker, 'c');
    const d = await connect(broker, 'd');
    d.handle.close('connection_lost');
    expect(data().map((o) => [o.clientid, o.reason, o.proto_ver])).toEqual([
      ['a', 'normal', 5],
      ['b', 'kicked', 5],
      ['c', 'takenover', 5],
      ['d', 'sock_closed', 5],
    ]);
    void b;
  });

  it('$events/session_subscribed and session_unsubscribed carry topic and QoS', async () => {
    const { broker, data } = withRule("SELECT event, clientid, topic, qos, peerhost FROM \"$events/session_subscribed\", \"$events/session_unsubscribed\" WHERE topic =~ 't/#'");
    const c = await connect(broker, 's1');
    await c.handle.subscribe([{ filter: 't/1', qos: 1 }, { filter: 'other', qos: 0 }]);
    await c.handle.unsubscribe(['t/1']);
    expect(data()).toEqual([
      { event: 'session.subscribed', clientid: 's1', topic: 't/1', qos: 1, peerhost: '127.0.0.1' },
      { event: 'session.unsubscribed', clientid: 's1', topic: 't/1', qos: 1, peerhost: '127.0.0.1' },
    ]);
  });

  it('a message rule sees EMQX’s message.publish fields', async () => {
    const { broker, clock, data } = withRule('SELECT * FROM "t/#"');
    const pub = await connect(broker, 'pub', { username: 'bob', peer: '192.168.0.10:5555' });
    pub.handle.publish(msg('t/a', '{"msg":"hello"}', { qos: 1, retain: true, properties: { userProperties: { foo: 'bar' }, contentType: 'application/json', messageExpiryInterval: 30 } }));
    expect(data()).toHaveLength(1);
    const o = data()[0]!;
    expect(o).toMatchObject({
      event: 'message.publish',
      clientid: 'pub',
      username: 'bob',
      peerhost: '192.168.0.10',
      topic: 't/a',
      qos: 1,
      payload: '{"msg":"hello"}',
      flags: { retain: true, dup: false },
      publish_received_at: clock.now(),
      timestamp: clock.now(),
      node: 'junction@127.0.0.1',
      pub_props: {
        'User-Property': { foo: 'bar' },
        'User-Property-Pairs': [{ key: 'foo', value: 'bar' }],
        'Content-Type': 'application/json',
        'Message-Expiry-Interval': 30,
      },
    });
    expect(o.id).toMatch(/^[0-9A-F]{32}$/);
  });

  it('$events/message_delivered and message_acked name sender and receiver, with the message id of the publish', async () => {
    const env = setup({
      rules: {
        pub: { sql: 'SELECT id FROM "t/#"', actions: ['test:capture'] },
        del: { sql: 'SELECT event, id, from_clientid, from_username, clientid, username, topic, qos, payload FROM "$events/message_delivered", "$events/message_acked"', actions: ['test:capture'] },
      },
    });
    const outs = capture(env.rules);
    const sub = await connect(env.broker, 'sub', { username: 'carol' });
    await sub.handle.subscribe([{ filter: 't/#', qos: 1 }]);
    const pub = await connect(env.broker, 'pub', { username: 'dave' });
    pub.handle.publish(msg('t/x', 'hi', { qos: 1 }));
    const d = sub.sink.deliveries[0]!;
    sub.handle.ack(d.packetId, 'puback');
    const [published, delivered, acked] = outs.map((o) => o.data);
    const common = { id: published!.id, from_clientid: 'pub', from_username: 'dave', clientid: 'sub', username: 'carol', topic: 't/x', qos: 1, payload: 'hi' };
    expect(delivered).toEqual({ event: 'message.delivered', ...common });
    expect(acked).toEqual({ event: 'message.acked', ...common });
  });

  it('$events/message_dropped fires for a message nobody subscribed to', async () => {
    const { broker, data } = withRule('SELECT reason, topic, clientid FROM "$events/message_dropped"');
    const pub = await connect(broker, 'p');
    pub.handle.publish(msg('nobody/here'));
    expect(data()).toEqual([{ reason: 'no_subscribers', topic: 'nobody/here', clientid: 'p' }]);
  });

  it('$events/delivery_dropped fires when a subscriber’s queue is full, naming the receiver', async () => {
    const env = setup({ rules: { r: { sql: 'SELECT reason, from_clientid, clientid, username, payload FROM "$events/delivery_dropped"', actions: ['test:capture'] } } }, { config: { allow_anonymous: true, max_mqueue_len: 1 } });
    const outs = capture(env.rules);
    const sub = await connect(env.broker, 'slow', { username: 'erin', cleanStart: false, sessionExpiryInterval: 600 });
    await sub.handle.subscribe([{ filter: 'q/#', qos: 1 }]);
    sub.handle.close('normal');
    const pub = await connect(env.broker, 'fast');
    pub.handle.publish(msg('q/1', 'one', { qos: 1 }));
    pub.handle.publish(msg('q/1', 'two', { qos: 1 }));
    pub.handle.publish(msg('q/1', 'zero', { qos: 0 }));
    expect(outs.map((o) => o.data)).toEqual([
      { reason: 'queue_full', from_clientid: 'fast', clientid: 'slow', username: 'erin', payload: 'one' },
      { reason: 'queue_full', from_clientid: 'fast', clientid: 'slow', username: 'erin', payload: 'two' },
    ]);
  });

  it('attaches message-path hooks only while a rule needs them', async () => {
    const { broker, rules } = setup();
    expect(broker.hooks.has('message.delivered')).toBe(false);
    expect(broker.hooks.has('message.publish')).toBe(false);
    rules.create('d', { sql: 'SELECT * FROM "$events/message_delivered"' });
    rules.create('p', { sql: 'SELECT * FROM "t/#"' });
    expect(broker.hooks.has('message.delivered')).toBe(true);
    expect(broker.hooks.has('message.publish')).toBe(true);
    rules.disable('d');
    expect(broker.hooks.has('message.delivered')).toBe(false);
    rules.remove('p');
    expect(broker.hooks.has('message.publish')).toBe(false);
    rules.stop();
    expect(broker.hooks.has('client.connected')).toBe(false);
  });

  it('ignores $SYS messages unless told otherwise', async () => {
    const { broker, data } = withRule('SELECT topic FROM "$SYS/#"');
    broker.publish(msg('$SYS/brokers/x'));
    expect(data()).toEqual([]);
    const env = setup({ ignore_sys_message: false, rules: { r: { sql: 'SELECT topic FROM "$SYS/#"', actions: ['test:capture'] } } });
    const outs = capture(env.rules);
    env.broker.publish(msg('$SYS/brokers/x'));
    expect(outs.map((o) => o.data)).toEqual([{ topic: '$SYS/brokers/x' }]);
  });

  it('feeds bridge events to $bridges rules', () => {
    const { rules, data } = withRule('SELECT topic, payload.v as v FROM "$bridges/mqtt:upstream"');
    rules.ingest('mqtt:upstream', { topic: 'remote/t', payload: '{"v": 3}', server: 'peer:1883' });
    rules.ingest('$bridges/mqtt:upstream', { topic: 'remote/u', payload: '{"v": 4}' });
    rules.ingest('mqtt:other', { topic: 'x', payload: '{}' });
    expect(data()).toEqual([
      { topic: 'remote/t', v: 3 },
      { topic: 'remote/u', v: 4 },
    ]);
  });
});

describe('peer addresses', () => {
  it.each([
    ['127.0.0.1:5000', '127.0.0.1'],
    ['::1:5000', '::1'],
    ['::ffff:10.0.0.1:1883', '::ffff:10.0.0.1'],
    ['[fe80::1]:80', 'fe80::1'],
  ])('peerhost of %s is %s', async (peer, host) => {
    const { hostOf } = await import('../src/events/columns.js');
    expect(hostOf(peer)).toBe(host);
  });
});
