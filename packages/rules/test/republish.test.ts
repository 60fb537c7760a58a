import { describe, expect, it } from 'vitest';
import { Template } from '../src/index.js';
import { connect, msg, received, setup } from './helpers.js';

describe('republish action', () => {
  it('publishes the whole output as JSON when the payload template is empty, to a templated topic', async () => {
    const { broker, rules } = setup({
      rules: { hot: { sql: 'SELECT payload.temp as t, clientid FROM "sensors/#" WHERE payload.temp > 30', actions: [{ function: 'republish', args: { topic: 'alerts/${clientid}' } }] } },
    });
    const sub = await connect(broker, 'watcher');
    await sub.handle.subscribe([{ filter: 'alerts/#', qos: 0 }]);
    const dev = await connect(broker, 'dev1');
    dev.handle.publish(msg('sensors/room1', '{"temp": 35}'));
    dev.handle.publish(msg('sensors/room1', '{"temp": 20}'));
    expect(received(sub)).toEqual([['alerts/dev1', '{"t":35,"clientid":"dev1"}']]);
    expect(rules.metrics('hot')).toMatchObject({ matched: 2, passed: 1, 'failed.no_result': 1, 'actions.total': 1, 'actions.success': 1 });
  });

  it('renders payload, QoS, retain, MQTT 5 properties and user properties from templates', async () => {
    const { broker } = setup({
      rules: {
        r: {
          sql: "SELECT payload.v as v, 2 as q, true as keep, map_put('src', clientid, map_new()) as user_properties, clientid FROM \"in/#\"",
          actions: [
            {
              function: 'republish',
              args: {
                topic: 'out/${clientid}',
                payload: 'value=${v} from ${clientid}',
                qos: '${q}',
                retain: '${keep}',
                mqtt_properties: { 'Content-Type': 'text/plain', 'Message-Expiry-Interval': '60', 'Response-Topic': 'reply/${clientid}' },
              },
            },
          ],
        },
      },
    });
    const sub = await connect(broker, 's');
    await sub.handle.subscribe([{ filter: 'out/#', qos: 2 }]);
    const p = await connect(broker, 'p');
    p.handle.publish(msg('in/1', '{"v": 42}'));
    const d = sub.sink.deliveries[0]!;
    expect(d.message.topic).toBe('out/p');
    expect(d.message.payload.toString()).toBe('value=42 from p');
    expect(d.message.qos).toBe(2);
    expect(d.message.retain).toBe(true);
    expect(d.message.properties).toEqual({ contentType: 'text/plain', messageExpiryInterval: 60, responseTopic: 'reply/p', userProperties: { src: 'p' } });
    expect(d.message.from.clientId).toBe('r');
    expect(await broker.retained.get('out/p')).toBeDefined();
  });

  it('keeps the bytes of a binary payload', async () => {
    const { broker } = setup({ rules: { r: { sql: 'SELECT gzip(payload) as z FROM "raw"', actions: [{ function: 'republish', args: { topic: 'zipped', payload: '${z}', qos: 0 } }] } } });
    const sub = await connect(broker, 's');
    await sub.handle.subscribe([{ filter: 'zipped', qos: 0 }]);
    const p = await connect(broker, 'p');
    p.handle.publish(msg('raw', 'hello world'));
    const { gunzipSync } = await import('node:zlib');
    expect(gunzipSync(sub.sink.deliveries[0]!.message.payload).toString()).toBe('hello world');
  });

  it('uses EMQX’s defaults: QoS and retain of the original message when the output does not say', async () => {
    const { broker } = setup({ rules: { r: { sql: 'SELECT payload FROM "a"', actions: [{ function: 'republish', args: { topic: 'b', payload: '${payload}' } }] } } });
    const sub = await connect(broker, 's');
    await sub.handle.subscribe([{ filter: 'b', qos: 2 }]);
    const p = await connect(broker, 'p');
    p.handle.publish(msg('a', 'x', { qos: 1 }));
    expect(sub.sink.deliveries[0]!.message).toMatchObject({ qos: 1, retain: false });
    expect(received(sub)).toEqual([['b', 'x']]);
  });

  it('counts a failed republish (invalid topic) without disturbing the original message', async () => {
    const { broker, rules } = setup({ rules: { r: { sql: 'SELECT * FROM "a"', actions: [{ function: 'republish', args: { topic: 'bad/#/topic' } }] } } });
    const sub = await connect(broker, 's');
    await sub.handle.subscribe([{ filter: 'a', qos: 0 }]);
    const p = await connect(broker, 'p');
    p.handle.publish(msg('a', 'still here'));
    expect(received(sub)).toEqual([['a', 'still here']]);
    expect(rules.metrics('r')).toMatchObject({ passed: 1, 'actions.failed': 1, 'actions.failed.unknown': 1, 'actions.success': 0 });
  });

  describe('loop guard', () => {
    it('a rule does not republish what its own republish produced (EMQX)', async () => {
      const { broker, rules } = setup({ rules: { self: { sql: 'SELECT * FROM "loop/#"', actions: [{ function: 'republish', args: { topic: 'loop/again', payload: '${payload}' } }] } } });
      const sub = await connect(broker, 's');
      await sub.handle.subscribe([{ filter: 'loop/#', qos: 0 }]);
      const p = await connect(broker, 'p');
      p.handle.publish(msg('loop/start', 'x'));
      expect(received(sub)).toEqual([
        ['loop/again', 'x'],
        ['loop/start', 'x'],
      ]);
      expect(rules.metrics('self')).toMatchObject({ matched: 2, passed: 2, 'actions.success': 1, 'actions.discarded': 1 });
    });

    it('a cycle through two rules stops when it comes back to the first', async () => {
      const { broker, rules } = setup({
        rules: {
          a: { sql: 'SELECT * FROM "ping"', actions: [{ function: 'republish', args: { topic: 'pong', payload: '${payload}' } }] },
          b: { sql: 'SELECT * FROM "pong"', actions: [{ function: 'republish', args: { topic: 'ping', payload: '${payload}' } }] },
        },
      });
      const sub = await connect(broker, 's');
      await sub.handle.subscribe([{ filter: '#', qos: 0 }]);
      const p = await connect(broker, 'p');
      p.handle.publish(msg('ping', '1'));
      // ping (client) -> a -> pong -> b -> ping -> a refuses.
      expect(received(sub).map(([t]) => t).sort()).toEqual(['ping', 'ping', 'pong']);
      expect(rules.metrics('a')).toMatchObject({ matched: 2, 'actions.success': 1, 'actions.discarded': 1 });
      expect(rules.metrics('b')).toMatchObject({ matched: 1, 'actions.success': 1 });
    });

    it('a chain of distinct rules stops at max_republish_depth', async () => {
      const rules: Record<string, { sql: string; actions: unknown[] }> = {};
      for (let i = 0; i < 6; i++) rules[`r${i}`] = { sql: `SELECT * FROM "hop/${i}"`, actions: [{ function: 'republish', args: { topic: `hop/${i + 1}`, payload: '${payload}' } }] };
      const env = setup({ max_republish_depth: 3, rules: rules as never });
      const sub = await connect(env.broker, 's');
      await sub.handle.subscribe([{ filter: 'hop/#', qos: 0 }]);
      const p = await connect(env.broker, 'p');
      p.handle.publish(msg('hop/0', 'x'));
      expect(received(sub).map(([t]) => t).sort()).toEqual(['hop/0', 'hop/1', 'hop/2', 'hop/3']);
      expect(env.rules.metrics('r3')).toMatchObject({ matched: 1, 'actions.discarded': 1 });
    });

    it('an event rule that republishes what triggers it again is stopped too', async () => {
      const { broker, rules } = setup({ rules: { d: { sql: 'SELECT topic FROM "$events/message_delivered"', actions: [{ function: 'republish', args: { topic: 'seen', payload: '${topic}' } }] } } });
      const sub = await connect(broker, 's');
      await sub.handle.subscribe([{ filter: '#', qos: 0 }]);
      const p = await connect(broker, 'p');
      p.handle.publish(msg('x', '1'));
      // x is delivered, the rule republishes "seen", whose delivery the rule refuses to republish.
      expect(received(sub)).toEqual([
        ['x', '1'],
        ['seen', 'x'],
      ]);
      expect(rules.metrics('d')).toMatchObject({ matched: 2, 'actions.success': 1, 'actions.discarded': 1 });
    });
  });
});

describe('templates', () => {
  it.each([
    ['${a}', { a: 'x' }, 'x'],
    ['t/${a}/${b.c}', { a: 1, b: { c: true } }, 't/1/true'],
    ['${missing}!', {}, '!'],
    ['${m}', { m: { k: [1, 2] } }, '{"k":[1,2]}'],
    ['${payload.temp}', { payload: '{"temp": 21.5}' }, '21.5'],
    ['plain', {}, 'plain'],
  ] as [string, Record<string, never>, string][])('%s renders %j as %s', (tpl, data, out) => {
    expect(new Template(tpl).render(data)).toBe(out);
  });

  it('falls back to the event columns for a variable the output lacks', () => {
    expect(new Template('${clientid}/${t}').render({ t: 1 }, { clientid: 'c', t: 2 })).toBe('c/1');
  });

  it('keeps the type of a lone variable', () => {
    expect(new Template('${n}').value({ n: 2 })).toBe(2);
  });
});

