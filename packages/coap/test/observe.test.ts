/**
 * Subscribing from CoAP (RFC 7641, EMQX: `GET /ps/{topic}` with Observe 0; Observe 1 to
 * unsubscribe): registration, notifications from MQTT and CoAP publishers with the request's
 * token and rising Observe numbers, CON or NON by notify_type, retransmission, and cancellation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeUint, getOption, Option } from '../src/message/options.js';
import { CoapTestClient } from './coap-client.js';
import { eventually, sleep, startGateway, type Running } from './harness.js';
import { codeOf, observeOf, RawClient } from './raw-client.js';

const token = (s: string) => Buffer.from(s);

describe('observe', () => {
  let gw: Running;
  let coap: CoapTestClient;
  beforeAll(async () => {
    gw = await startGateway();
    coap = new CoapTestClient(gw.port);
  });
  afterAll(async () => {
    await coap.close();
    await gw.stop();
  });

  it('registers with 2.05 and Observe, then notifies MQTT messages with the token and rising Observe values', async () => {
    const raw = await RawClient.open(gw.port);
    try {
      const id = raw.send({ code: '0.01', path: 'ps/obs/basic', observe: 0, token: token('tok1') });
      const reg = await raw.response(id);
      expect([reg.type, codeOf(reg), reg.token.toString(), observeOf(reg)]).toEqual(['ACK', '2.05', 'tok1', 0]);
      const mqtt = await gw.mqtt();
      for (const p of ['one', 'two', 'three']) await mqtt.publishAsync('obs/basic', p, { qos: 0 });
      const seen: number[] = [];
      for (const p of ['one', 'two', 'three']) {
        const n = (await raw.next((m) => m.code !== 0)).message;
        expect([codeOf(n), n.token.toString(), n.payload.toString()]).toEqual(['2.05', 'tok1', p]);
        seen.push(observeOf(n)!);
      }
      expect(seen).toEqual([1, 2, 3]);
    } finally {
      raw.close();
    }
  });

  it('delivers messages from MQTT and from other CoAP clients to node-coap observers', async () => {
    const obs = await coap.observe({ path: '/ps/obs/mix' });
    expect(obs.response.code).toBe('2.05');
    const mqtt = await gw.mqtt();
    await mqtt.publishAsync('obs/mix', 'from mqtt', { qos: 1 });
    expect((await obs.next()).toString()).toBe('from mqtt');
    const other = new CoapTestClient(gw.port);
    try {
      await other.request({ method: 'POST', path: '/ps/obs/mix', payload: 'from coap' });
      expect((await obs.next()).toString()).toBe('from coap');
    } finally {
      await other.close();
    }
    obs.close();
  });

  it('sends notifications by notify_type qos: QoS 0 as NON, QoS 1 and 2 as CON', async () => {
    const raw = await RawClient.open(gw.port);
    try {
      await raw.response(raw.send({ path: 'ps/obs/types', observe: 0, token: token('ty'), query: ['qos=2'] }));
      const mqtt = await gw.mqtt();
      const types: string[] = [];
      for (const qos of [0, 1, 2] as const) {
        await mqtt.publishAsync('obs/types', `q${qos}`, { qos });
        const n = (await raw.next((m) => m.code !== 0)).message;
        types.push(`${n.payload.toString()}:${n.type}`);
        if (n.type === 'CON') raw.ack(n.messageId);
      }
      expect(types).toEqual(['q0:NON', 'q1:CON', 'q2:CON']);
    } finally {
      raw.close();
    }
  });

  it('with a QoS 0 subscription (qos=0 or a NON registration) notifies NON only', async () => {
    const raw = await RawClient.open(gw.port);
    try {
      await raw.response(raw.send({ type: 'NON', path: 'ps/obs/non', observe: 0, token: token('nn') }));
      await raw.response(raw.send({ path: 'ps/obs/non0', observe: 0, token: token('n0'), query: ['q=0'] }));
      const mqtt = await gw.mqtt();
      await mqtt.publishAsync('obs/non', 'a', { qos: 2 });
      await mqtt.publishAsync('obs/non0', 'b', { qos: 1 });
      const a = (await raw.next((m) => m.token.toString() === 'nn' && m.code !== 0)).message;
      const b = (await raw.next((m) => m.token.toString() === 'n0' && m.code !== 0)).message;
      expect([a.type, b.type]).toEqual(['NON', 'NON']);
    } finally {
      raw.close();
    }
  });

  it('sends the retained message on registration, and the content type and expiry as Content-Format and Max-Age', async () => {
    const mqtt = await gw.mqtt();
    await mqtt.publishAsync('obs/retained', '{"t":21}', { qos: 1, retain: true, properties: { contentType: 'application/json', messageExpiryInterval: 300 } });
    const raw = await RawClient.open(gw.port);
    try {
      await raw.response(raw.send({ path: 'ps/obs/retained', observe: 0, token: token('rt') }));
      const n = (await raw.next((m) => m.code !== 0)).message;
      expect(n.payload.toString()).toBe('{"t":21}');
      expect(decodeUint(getOption(n.options, Option.CONTENT_FORMAT)!)).toBe(50);
      const maxAge = decodeUint(getOption(n.options, Option.MAX_AGE)!);
      expect(maxAge).toBeGreaterThan(290);
      expect(maxAge).toBeLessThanOrEqual(300);
    } finally {
      raw.close();
    }
  });

  it('matches wildcard filters, once per message even when two observations match', async () => {
    const raw = await RawClient.open(gw.port);
    try {
      await raw.response(raw.send({ path: 'ps/obs/w/+', observe: 0, token: token('w1') }));
      await raw.response(raw.send({ path: 'ps/obs/w/%23', observe: 0, token: token('w2') }));
      const mqtt = await gw.mqtt();
      await mqtt.publishAsync('obs/w/x', 'both', { qos: 0 });
      await mqtt.publishAsync('obs/w/x/y', 'deep', { qos: 0 });
      const got: string[] = [];
      for (let i = 0; i < 3; i++) {
        const n = (await raw.next((m) => m.code !== 0)).message;
        got.push(`${n.token.toString()}:${n.payload.toString()}`);
      }
      expect(got.sort()).toEqual(['w1:both', 'w2:both', 'w2:deep']);
      await raw.nothing(150, (m) => m.code !== 0);
    } finally {
      raw.close();
    }
  });

  it('unsubscribes with Observe 1: 2.07 and no more notifications', async () => {
    const raw = await RawClient.open(gw.port);
    try {
      await raw.response(raw.send({ path: 'ps/obs/unsub', observe: 0, token: token('us') }));
      const mqtt = await gw.mqtt();
      await mqtt.publishAsync('obs/unsub', 'before');
      await raw.next((m) => m.code !== 0);
      const r = await raw.response(raw.send({ path: 'ps/obs/unsub', observe: 1, token: token('us') }));
      expect(codeOf(r)).toBe('2.07');
      await mqtt.publishAsync('obs/unsub', 'after');
      await raw.nothing(200, (m) => m.code !== 0);
    } finally {
      raw.close();
    }
  });

  it('refuses a registration without a token and a GET without a valid Observe with 4.00', async () => {
    const raw = await RawClient.open(gw.port);
    try {
      const a = await raw.response(raw.send({ path: 'ps/obs/x', observe: 0 }));
      expect([codeOf(a), a.payload.toString()]).toEqual(['4.00', 'observe without token']);
      const b = await raw.response(raw.send({ path: 'ps/obs/x', token: token('x') }));
      expect([codeOf(b), b.payload.toString()]).toEqual(['4.00', 'invalid observe value']);
      const c = await raw.response(raw.send({ path: 'ps/obs/x', observe: 7, token: token('x') }));
      expect(codeOf(c)).toBe('4.00');
    } finally {
      raw.close();
    }
  });

  it('cancels the observation when the client rejects a notification with RST (RFC 7641 §3.6)', async () => {
    const raw = await RawClient.open(gw.port);
    try {
      await raw.response(raw.send({ path: 'ps/obs/rst', observe: 0, token: token('rs'), query: ['c=rst-client'] }));
      expect(gw.broker.session('rst-client')?.subscriptions).toEqual(['obs/rst']);
      const mqtt = await gw.mqtt();
      await mqtt.publishAsync('obs/rst', 'first', { qos: 1 });
      const n = (await raw.next((m) => m.code !== 0)).message;
      raw.rst(n.messageId);
      await eventually(() => gw.broker.session('rst-client')?.subscriptions.length === 0, 'the subscription to go');
      await mqtt.publishAsync('obs/rst', 'second', { qos: 1 });
      await raw.nothing(200, (m) => m.code !== 0);
    } finally {
      raw.close();
    }
  });

  it('cancels a node-coap observation its client dropped (the client answers RST)', async () => {
    const obs = await coap.observe({ path: '/ps/obs/dropped', query: 'c=dropper' });
    const mqtt = await gw.mqtt();
    await mqtt.publishAsync('obs/dropped', 'one');
    await obs.next();
    obs.close();
    await mqtt.publishAsync('obs/dropped', 'two', { qos: 1 });
    await eventually(() => gw.broker.session('dropper')?.subscriptions.length === 0, 'the subscription to go');
  });
});

describe('observe, reliability', () => {
  let gw: Running;
  afterEach(async () => gw?.stop());

  it('retransmits an unacknowledged CON notification with the same Message ID, then gives up and unsubscribes', async () => {
    gw = await startGateway({ coap: { notify_type: 'con', ack_timeout: 100, max_retransmit: 2 } });
    const raw = await RawClient.open(gw.port);
    try {
      await raw.response(raw.send({ path: 'ps/rel/t', observe: 0, token: token('rt'), query: ['c=silent'] }));
      const mqtt = await gw.mqtt();
      await mqtt.publishAsync('rel/t', 'x', { qos: 0 });
      const first = await raw.next((m) => m.code !== 0);
      const again = await raw.next((m) => m.code !== 0);
      const third = await raw.next((m) => m.code !== 0);
      expect(first.message.type).toBe('CON');
      expect([again.raw, third.raw]).toEqual([first.raw, first.raw]);
      // RFC 7252 §4.2: the timeout doubles (100-150 ms, then 200-300 ms).
      expect(third.at - again.at).toBeGreaterThanOrEqual((again.at - first.at) * 1.3);
      await eventually(() => gw.broker.session('silent')?.subscriptions.length === 0, 'the observation to be cancelled', 3000);
      await raw.nothing(300);
    } finally {
      raw.close();
    }
  });

  it('holds further notifications until a CON notification is acknowledged (NSTART 1), then sends them in order', async () => {
    gw = await startGateway({ coap: { notify_type: 'con', ack_timeout: 2000 } });
    const raw = await RawClient.open(gw.port);
    try {
      await raw.response(raw.send({ path: 'ps/rel/order', observe: 0, token: token('or') }));
      const mqtt = await gw.mqtt();
      for (const p of ['1', '2', '3']) await mqtt.publishAsync('rel/order', p, { qos: 1 });
      const got: string[] = [];
      for (let i = 0; i < 3; i++) {
        const n = (await raw.next((m) => m.code !== 0)).message;
        await raw.nothing(100, (m) => m.code !== 0);
        got.push(n.payload.toString());
        raw.ack(n.messageId);
      }
      expect(got).toEqual(['1', '2', '3']);
    } finally {
      raw.close();
    }
  });

  it('with notify_type non sends NON even for QoS 1, and subscribe_qos qos0 downgrades', async () => {
    gw = await startGateway({ coap: { notify_type: 'non' } });
    const raw = await RawClient.open(gw.port);
    try {
      await raw.response(raw.send({ path: 'ps/rel/non', observe: 0, token: token('nn') }));
      const mqtt = await gw.mqtt();
      await mqtt.publishAsync('rel/non', 'x', { qos: 1 });
      expect((await raw.next((m) => m.code !== 0)).message.type).toBe('NON');
    } finally {
      raw.close();
    }
  });

  it('keeps observing after a connectionless client is idle (idle_timeout only ends clients with no observation)', async () => {
    gw = await startGateway({ coap: { idle_timeout: 200 } });
    const raw = await RawClient.open(gw.port);
    try {
      await raw.response(raw.send({ path: 'ps/idle/a', observe: 0, token: token('id'), query: ['c=watcher'] }));
      await raw.response(raw.send({ code: '0.02', path: 'ps/idle/b', query: ['c=poster'], payload: 'x' }));
      await sleep(500);
      expect(gw.broker.session('watcher')).toBeDefined();
      expect(gw.broker.session('poster')).toBeUndefined();
      const mqtt = await gw.mqtt();
      await mqtt.publishAsync('idle/a', 'still here');
      expect((await raw.next((m) => m.code !== 0)).message.payload.toString()).toBe('still here');
    } finally {
      raw.close();
    }
  });
});
