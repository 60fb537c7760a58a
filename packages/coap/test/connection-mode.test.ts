/**
 * EMQX connection mode (`connection_required: true`): `POST /mqtt/connection` issues a token,
 * `PUT` is the heartbeat, `DELETE` closes, and every `/ps` request carries clientid and token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CoapTestClient } from './coap-client.js';
import { collect, eventually, sleep, startGateway, type Running } from './harness.js';
import { codeOf, RawClient } from './raw-client.js';

let gw: Running;
let clients: CoapTestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  await gw?.stop();
});

function client(): CoapTestClient {
  const c = new CoapTestClient(gw.port);
  clients.push(c);
  return c;
}

async function connect(c: CoapTestClient, query: string): Promise<string> {
  const r = await c.request({ method: 'POST', path: '/mqtt/connection', query });
  expect(r.code).toBe('2.01');
  expect(r.payload.toString()).toMatch(/^\d{1,10}$/);
  return r.payload.toString();
}

describe('connection mode', () => {
  it('connects with 2.01 and a token, publishes and subscribes with clientid and token, closes with DELETE', async () => {
    gw = await startGateway({ coap: { connection_required: true } });
    const c = client();
    const token = await connect(c, 'clientid=dev-1&username=u1&password=p1');
    expect(gw.broker.session('dev-1')?.connected).toBe(true);

    const sub = await gw.mqtt();
    const got = collect(sub);
    await sub.subscribeAsync('cm/#');
    expect((await c.request({ method: 'POST', path: '/ps/cm/up', query: `clientid=dev-1&token=${token}`, payload: 'up' })).code).toBe('2.04');
    expect((await got.next()).payload.toString()).toBe('up');

    const obs = await c.observe({ path: '/ps/cm/down', query: `c=dev-1&t=${token}` });
    expect(obs.response.code).toBe('2.05');
    await sub.publishAsync('cm/down', 'down', { qos: 1 });
    expect((await obs.next()).toString()).toBe('down');
    obs.close();

    const del = await c.request({ method: 'DELETE', path: '/mqtt/connection', query: `clientid=dev-1&token=${token}` });
    expect(del.code).toBe('2.02');
    expect(gw.broker.session('dev-1')).toBeUndefined();
    const after = await c.request({ method: 'POST', path: '/ps/cm/up', query: `clientid=dev-1&token=${token}`, payload: 'x' });
    expect(after.code).toBe('4.01');
  });

  it('answers 4.00 without clientid or token and 4.01 with a wrong one', async () => {
    gw = await startGateway({ coap: { connection_required: true } });
    const c = client();
    const token = await connect(c, 'c=dev-2');
    const r = async (query?: string) => {
      const res = await c.request({ method: 'POST', path: '/ps/cm/x', query, payload: 'x' });
      return `${res.code} ${res.payload.toString()}`;
    };
    expect(await r()).toBe('4.00 Missing token or clientid in connection mode');
    expect(await r(`t=${token}`)).toBe('4.00 Missing token or clientid in connection mode');
    expect(await r('c=dev-2')).toBe('4.00 Missing token or clientid in connection mode');
    expect(await r('c=dev-2&t=1')).toBe('4.01 Invalid token or clientid in connection mode');
    expect(await r(`c=other&t=${token}`)).toBe('4.01 Invalid token or clientid in connection mode');
    expect(await r(`c=dev-2&t=${token}`)).toBe('2.04 ');
    const noId = await c.request({ method: 'POST', path: '/mqtt/connection' });
    expect([noId.code, noId.payload.toString()]).toEqual(['4.00', 'Login Failed: clientid is required']);
    expect((await c.request({ method: 'GET', path: '/mqtt/connection', query: 'c=dev-2' })).code).toBe('4.05');
  });

  it('keeps the connection while heartbeats come, closes it and drops its subscriptions when they stop', async () => {
    gw = await startGateway({ coap: { connection_required: true, heartbeat: 1000 } });
    const c = client();
    const token = await connect(c, 'clientid=hb&username=u');
    const q = `clientid=hb&token=${token}`;
    const obs = await c.observe({ path: '/ps/hb/t', query: q });
    expect(gw.broker.session('hb')?.subscriptions).toEqual(['hb/t']);
    for (let i = 0; i < 3; i++) {
      await sleep(700);
      expect((await c.request({ method: 'PUT', path: '/mqtt/connection', query: q })).code).toBe('2.04');
    }
    expect(gw.broker.session('hb')?.connected).toBe(true);
    // heartbeat x keepalive_multiplier (1.5) without a request: closed.
    await eventually(() => gw.broker.session('hb') === undefined, 'the session to end', 2500);
    const mqtt = await gw.mqtt();
    await mqtt.publishAsync('hb/t', 'gone', { qos: 1 });
    await expect(obs.next(300)).rejects.toThrow();
    const r = await c.request({ method: 'PUT', path: '/mqtt/connection', query: q });
    expect(r.code).toBe('4.01');
    obs.close();
  });

  it('authenticates clientid, username and password through the broker chain: 4.01 when refused', async () => {
    gw = await startGateway({ coap: { connection_required: true }, broker: { config: { allow_anonymous: false } } });
    gw.broker.hooks.intercept('client.authenticate', (info) =>
      info.username === 'admin' && info.password?.toString() === 'public' ? { result: 'allow' } : { result: 'deny', reason: 'bad_credentials' },
    );
    const c = client();
    const bad = await c.request({ method: 'POST', path: '/mqtt/connection', query: 'clientid=a1&username=admin&password=nope' });
    expect([bad.code, bad.payload.toString()]).toEqual(['4.01', 'Login Failed: bad_credentials']);
    const anon = await c.request({ method: 'POST', path: '/mqtt/connection', query: 'clientid=a1' });
    expect(anon.code).toBe('4.01');
    await connect(c, 'c=a1&u=admin&p=public');
    expect(gw.broker.session('a1')?.connected).toBe(true);
  });

  it('refuses a second connect from the same address with 4.00; from another address it takes over', async () => {
    gw = await startGateway({ coap: { connection_required: true } });
    const a = client();
    const first = await connect(a, 'clientid=dup');
    const again = await a.request({ method: 'POST', path: '/mqtt/connection', query: 'clientid=dup' });
    expect([again.code, again.payload.toString()]).toEqual(['4.00', 'Bad Request: client has connected']);
    const b = client();
    const second = await connect(b, 'clientid=dup');
    expect(second).not.toBe(first);
    expect((await a.request({ method: 'PUT', path: '/mqtt/connection', query: `clientid=dup&token=${first}` })).code).toBe('4.01');
    expect((await b.request({ method: 'PUT', path: '/mqtt/connection', query: `clientid=dup&token=${second}` })).code).toBe('2.04');
  });

  it('sends notifications to the address of the client\'s latest request', async () => {
    gw = await startGateway({ coap: { connection_required: true } });
    const c = client();
    const token = await connect(c, 'clientid=mover');
    const one = await RawClient.open(gw.port);
    const two = await RawClient.open(gw.port);
    try {
      await one.response(one.send({ path: 'ps/mv/t', observe: 0, token: Buffer.from('mv'), query: ['c=mover', `t=${token}`] }));
      const mqtt = await gw.mqtt();
      await mqtt.publishAsync('mv/t', 'to one');
      expect((await one.next((m) => m.code !== 0)).message.payload.toString()).toBe('to one');
      const hb = await two.response(two.send({ code: '0.03', path: 'mqtt/connection', query: ['c=mover', `t=${token}`] }));
      expect(codeOf(hb)).toBe('2.04');
      await mqtt.publishAsync('mv/t', 'to two');
      expect((await two.next((m) => m.code !== 0)).message.payload.toString()).toBe('to two');
    } finally {
      one.close();
      two.close();
    }
  });
});

describe('connection mode requests in connectionless mode', () => {
  it('also accepts /mqtt/connection, and /ps requests carrying a token must match it', async () => {
    gw = await startGateway();
    const c = client();
    const token = await connect(c, 'clientid=mixed');
    expect((await c.request({ method: 'POST', path: '/ps/mx', query: `c=mixed&t=${token}`, payload: 'x' })).code).toBe('2.04');
    expect((await c.request({ method: 'POST', path: '/ps/mx', query: 'c=mixed&t=99', payload: 'x' })).code).toBe('4.01');
    // Without a token, a connectionless client of its own.
    expect((await c.request({ method: 'POST', path: '/ps/mx', payload: 'x' })).code).toBe('2.04');
  });
});
