/**
 * Publishing from CoAP (EMQX: `POST|PUT /ps/{topic}` with `qos`, `retain`, `expiry`, `clientid`;
 * 2.04 Changed): what MQTT subscribers receive, and what is refused.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoapTestClient } from './coap-client.js';
import { collect, sleep, startGateway, type Running } from './harness.js';
import { codeOf, RawClient } from './raw-client.js';

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

async function subscriber(filter: string) {
  const sub = await gw.mqtt();
  const got = collect(sub);
  await sub.subscribeAsync(filter, { qos: 2 });
  return { sub, got };
}

describe('publish', () => {
  it('POST and PUT /ps/{topic} reach MQTT subscribers with 2.04', async () => {
    const { got } = await subscriber('pub/basic/#');
    const post = await coap.request({ method: 'POST', path: '/ps/pub/basic/a', payload: 'via post' });
    expect(post.code).toBe('2.04');
    expect(post.payload.length).toBe(0);
    const m1 = await got.next();
    expect([m1.topic, m1.payload.toString()]).toEqual(['pub/basic/a', 'via post']);
    const put = await coap.request({ method: 'PUT', path: '/ps/pub/basic/b', payload: 'via put' });
    expect(put.code).toBe('2.04');
    const m2 = await got.next();
    expect([m2.topic, m2.payload.toString()]).toEqual(['pub/basic/b', 'via put']);
  });

  it('maps CON to QoS 1 and NON to QoS 0 (publish_qos: coap)', async () => {
    const { got } = await subscriber('pub/type');
    await coap.request({ method: 'POST', path: '/ps/pub/type', payload: 'con', confirmable: true });
    expect((await got.next()).packet.qos).toBe(1);
    const non = await coap.request({ method: 'POST', path: '/ps/pub/type', payload: 'non', confirmable: false });
    expect(non.code).toBe('2.04');
    expect((await got.next()).packet.qos).toBe(0);
  });

  it('takes qos from the query, by its long and its short name', async () => {
    const { got } = await subscriber('pub/qos');
    await coap.request({ method: 'POST', path: '/ps/pub/qos', query: 'qos=2', payload: 'two', confirmable: false });
    expect((await got.next()).packet.qos).toBe(2);
    await coap.request({ method: 'POST', path: '/ps/pub/qos', query: 'q=0', payload: 'zero' });
    expect((await got.next()).packet.qos).toBe(0);
  });

  it('retains with retain=true (or r=true) and clears with an empty retained payload', async () => {
    await coap.request({ method: 'POST', path: '/ps/pub/retained', query: 'retain=true', payload: 'kept' });
    const late = await subscriber('pub/retained');
    const m = await late.got.next('the retained message');
    expect([m.payload.toString(), m.packet.retain]).toEqual(['kept', true]);
    await coap.request({ method: 'POST', path: '/ps/pub/retained', query: 'r=true' });
    const later = await subscriber('pub/retained');
    await sleep(150);
    expect(later.got.messages).toHaveLength(0);
    // Only `true` means retain, as in EMQX.
    await coap.request({ method: 'POST', path: '/ps/pub/retained', query: 'retain=1', payload: 'not kept' });
    const last = await subscriber('pub/retained');
    await sleep(150);
    expect(last.got.messages).toHaveLength(0);
  });

  it('sets the MQTT 5 message expiry from expiry, and an expired retained message is not delivered', async () => {
    const { got } = await subscriber('pub/expiry');
    await coap.request({ method: 'POST', path: '/ps/pub/expiry', query: 'expiry=60', payload: 'x' });
    expect((await got.next()).packet.properties?.messageExpiryInterval).toBe(60);
    await coap.request({ method: 'POST', path: '/ps/pub/expiry', query: 'expiry=1&retain=true', payload: 'short' });
    await sleep(1100);
    const late = await subscriber('pub/expiry');
    await sleep(150);
    expect(late.got.messages).toHaveLength(0);
  });

  it('carries the Content-Format as the MQTT 5 content type', async () => {
    const { got } = await subscriber('pub/cf');
    await coap.request({ method: 'POST', path: '/ps/pub/cf', payload: '{"a":1}', options: { 'Content-Format': 'application/json' } });
    expect((await got.next()).packet.properties?.contentType).toBe('application/json');
    await coap.request({ method: 'POST', path: '/ps/pub/cf', payload: 'x', options: { 'Content-Format': Buffer.from([0xfd, 0xe8]) } });
    expect((await got.next()).packet.properties?.contentType).toBe('65000');
  });

  it('publishes as the client id given in the query (c=)', async () => {
    const seen: string[] = [];
    const off = gw.broker.hooks.intercept('message.publish', (m) => {
      if (m.topic === 'pub/who') seen.push(`${m.from.clientId}/${m.from.protocol}`);
      return m;
    });
    await coap.request({ method: 'POST', path: '/ps/pub/who', query: 'c=sensor-7', payload: 'x' });
    await coap.request({ method: 'POST', path: '/ps/pub/who', payload: 'y' });
    off();
    expect(seen[0]).toBe('sensor-7/coap');
    expect(seen[1]).toMatch(/^junction-[0-9a-f]+\/coap$/);
  });

  it('answers 4.00 for a bad qos, expiry, or topic and 4.05 for DELETE', async () => {
    const bad = async (path: string, query?: string, method: 'POST' | 'DELETE' = 'POST') => {
      const r = await coap.request({ method, path, query, payload: 'x' });
      return `${r.code} ${r.payload.toString()}`;
    };
    expect(await bad('/ps/pub/x', 'qos=3')).toBe('4.00 invalid qos');
    expect(await bad('/ps/pub/x', 'expiry=soon')).toBe('4.00 invalid expiry');
    expect(await bad('/ps')).toBe('4.00 invalid topic');
    expect(await bad('/ps/pub/+')).toMatch(/^4\.00 invalid topic name/);
    expect(await bad('/ps/pub/x', undefined, 'DELETE')).toBe('4.05 ');
  });

  it('answers a NON request with a NON response (RFC 7252 §5.2.3)', async () => {
    const raw = await RawClient.open(gw.port);
    try {
      const id = raw.send({ type: 'NON', code: '0.02', path: 'ps/pub/non', token: Buffer.from('t1'), payload: 'x' });
      const r = await raw.response(id);
      expect([r.type, codeOf(r), r.token.toString()]).toEqual(['NON', '2.04', 't1']);
    } finally {
      raw.close();
    }
  });

  it('publishes once when a confirmable request is retransmitted (RFC 7252 §4.5)', async () => {
    const { got } = await subscriber('pub/dup');
    const raw = await RawClient.open(gw.port);
    try {
      const req = { code: '0.02', messageId: 4242, token: Buffer.from('dd'), path: 'ps/pub/dup', payload: 'once' } as const;
      raw.send(req);
      const first = await raw.response(4242);
      raw.send(req);
      const again = await raw.response(4242);
      expect([codeOf(first), codeOf(again)]).toEqual(['2.04', '2.04']);
      await got.next();
      await sleep(150);
      expect(got.messages).toHaveLength(1);
    } finally {
      raw.close();
    }
  });
});

describe('publish, refused', () => {
  let gw2: Running;
  afterEach(async () => gw2?.stop());

  it('answers 4.03 when authorization denies the topic', async () => {
    gw2 = await startGateway();
    gw2.broker.hooks.intercept('client.authorize', (req) => (req.topic.startsWith('secret/') ? 'deny' : 'ignore'));
    const c = new CoapTestClient(gw2.port);
    try {
      const r = await c.request({ method: 'POST', path: '/ps/secret/x', payload: 'x' });
      expect(r.code).toBe('4.03');
      expect((await c.request({ method: 'POST', path: '/ps/open/x', payload: 'x' })).code).toBe('2.04');
    } finally {
      await c.close();
    }
  });

  it('authenticates connectionless requests with c, u, p through the broker chain (4.01 when refused)', async () => {
    gw2 = await startGateway({ broker: { config: { allow_anonymous: false } } });
    gw2.broker.hooks.intercept('client.authenticate', (info) =>
      info.username === 'dev' && info.password?.toString() === 'secret' ? { result: 'allow' } : { result: 'deny', reason: 'bad_credentials' },
    );
    const c = new CoapTestClient(gw2.port);
    try {
      expect((await c.request({ method: 'POST', path: '/ps/a', query: 'c=x1&u=dev&p=wrong', payload: 'x' })).code).toBe('4.01');
      expect((await c.request({ method: 'POST', path: '/ps/a', query: 'c=x2&u=dev&p=secret', payload: 'x' })).code).toBe('2.04');
      expect((await c.request({ method: 'POST', path: '/ps/a', query: 'clientid=x3&username=dev&password=secret', payload: 'x' })).code).toBe('2.04');
    } finally {
      await c.close();
    }
  });

  it('applies the mountpoint and publish_qos: qos2', async () => {
    gw2 = await startGateway({ coap: { mountpoint: 'coap/${clientid}/', publish_qos: 'qos2' } });
    const sub = await gw2.mqtt();
    const got = collect(sub);
    await sub.subscribeAsync('coap/#', { qos: 2 });
    const c = new CoapTestClient(gw2.port);
    try {
      await c.request({ method: 'POST', path: '/ps/t', query: 'c=m1', payload: 'x', confirmable: false });
      const m = await got.next();
      expect([m.topic, m.packet.qos]).toEqual(['coap/m1/t', 2]);
    } finally {
      await c.close();
    }
  });
});
