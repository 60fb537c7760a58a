import { request } from 'node:http';
import type { AuthnResult, ConnectInfo } from '@junction/broker-core';
import { afterEach, describe, expect, it } from 'vitest';
import { bootPayload16, eventually, refusedStatus, rpcErrorOf, startRig, stopRigs } from './helpers.js';

afterEach(stopRigs);

/** Chargers with password `secret-{id}` are let in; everyone else is refused. */
function passwordAuth(info: ConnectInfo): AuthnResult {
  if (info.protocol !== 'ocpp') return { result: 'ignore' };
  const ok = info.username === info.clientId && info.password?.toString() === `secret-${info.clientId}`;
  return ok ? { result: 'allow' } : { result: 'deny', reason: 'bad_credentials' };
}

/** A raw upgrade request, for what RPCClient would not send; resolves with the HTTP status. */
function upgrade(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Protocol': 'ocpp1.6',
        ...headers,
      },
    });
    if (headers['Sec-WebSocket-Protocol'] === '') req.removeHeader('Sec-WebSocket-Protocol');
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('handshake', () => {
  it('Basic auth goes through the authentication chain: the right password connects, a wrong one gets 401', async () => {
    const rig = await startRig();
    rig.broker.hooks.intercept('client.authenticate', passwordAuth);
    const ok = await rig.charger('CP-auth', { password: 'secret-CP-auth' });
    expect(ok.protocol).toBe('ocpp1.6');
    expect(await refusedStatus(rig.charger('CP-auth2', { password: 'wrong' }))).toBe(401);
    expect(await refusedStatus(rig.charger('CP-auth3'))).toBe(401);
    expect(rig.gateway.stats().connections).toBe(1);
  });

  it('a binary password reaches the authenticator byte for byte', async () => {
    const rig = await startRig();
    const key = Buffer.from([0, 1, 2, 0x3a, 0xff, 0xfe]);
    let seen: Buffer | undefined;
    rig.broker.hooks.intercept('client.authenticate', (info) => {
      seen = info.password;
      return { result: 'allow' };
    });
    await rig.charger('CP:with:colons', { password: key });
    expect(seen).toEqual(key);
  });

  it('a Basic user name other than the charge point id is refused with 401', async () => {
    const rig = await startRig();
    const auth = `Basic ${Buffer.from('someone-else:pw').toString('base64')}`;
    expect(await upgrade(rig.port, '/ocpp/CP-1', { Authorization: auth })).toBe(401);
    expect(await upgrade(rig.port, '/ocpp/CP-1', { Authorization: `Basic ${Buffer.from('CP-1:pw').toString('base64')}` })).toBe(101);
  });

  it.each([
    ['/ocpp/a%2Fb', 400],
    ['/ocpp/a%2Bb', 400],
    ['/ocpp/a+b', 400],
    ['/ocpp/a%23b', 400],
    ['/ocpp/a%00b', 400],
    ['/ocpp/%E0%A4%A', 400],
    ['/ocpp/', 400],
    ['/ocpp/x/y', 400],
    ['/other/CP-1', 404],
    ['/ocpp', 404],
  ])('the id in %s is refused with %i', async (path, status) => {
    const rig = await startRig();
    const backend = await rig.backend('#');
    expect(await upgrade(rig.port, path)).toBe(status);
    // Nothing was opened: no connection event, no session.
    expect(rig.gateway.stats().connections).toBe(0);
    expect(rig.broker.stats().sessions).toBe(1); // the back end's
    expect(backend.seen).toEqual([]);
  });

  it('a percent-encoded id is decoded and becomes the client id', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    await rig.charger('CP 1ü');
    const ev = await backend.next('ocpp/cp/CP 1ü/Connection', { event: 'connected' });
    expect(ev.json.clientid).toBe('CP 1ü');
    expect(rig.broker.session('CP 1ü')?.subscriptions).toEqual(['ocpp/cs/CP 1ü']);
  });

  it('refuses unsupported or missing subprotocols; fail_if_no_subprotocol=false falls back to the first supported', async () => {
    const rig = await startRig();
    expect(await refusedStatus(rig.charger('CP-x', { protocols: ['ocpp1.5'] }))).toBe(400);
    expect(await upgrade(rig.port, '/ocpp/CP-none', { 'Sec-WebSocket-Protocol': '' })).toBe(400);
    const cp = await rig.charger('CP-both', { protocols: ['ocpp2.0.1', 'ocpp1.6'] });
    expect(cp.protocol).toBe('ocpp2.0.1');

    const lenient = await startRig({ ocpp: { listeners: { ws: { l: { bind: { host: '127.0.0.1', port: 0 }, websocket: { fail_if_no_subprotocol: false, supported_subprotocols: 'ocpp2.0.1' } } } } } });
    const backend = await lenient.backend();
    expect(await upgrade(lenient.port, '/ocpp/CP-none')).toBe(400); // offers ocpp1.6 only
    const cp2 = await lenient.charger('CP-bare', { protocols: [] });
    expect(cp2.protocol).toBe('');
    const ev = await backend.next('ocpp/cp/CP-bare/Connection');
    expect(ev.json).toMatchObject({ proto_ver: '2.0.1', subprotocol: '' });
  });

  it('checks the Origin header when asked to', async () => {
    const rig = await startRig({
      ocpp: { listeners: { ws: { l: { bind: { host: '127.0.0.1', port: 0 }, websocket: { check_origin_enable: true, allow_origin_absence: false, check_origins: 'https://ops.example' } } } } },
    });
    expect(await upgrade(rig.port, '/ocpp/CP-1', { Origin: 'https://evil.example' })).toBe(403);
    expect(await upgrade(rig.port, '/ocpp/CP-1')).toBe(403);
    expect(await upgrade(rig.port, '/ocpp/CP-1', { Origin: 'https://ops.example' })).toBe(101);
  });

  it('refuses beyond max_connections with 503', async () => {
    const rig = await startRig({ ocpp: { listeners: { ws: { l: { bind: { host: '127.0.0.1', port: 0 }, max_connections: 2 } } } } });
    await rig.charger('CP-1');
    await rig.charger('CP-2');
    expect(await refusedStatus(rig.charger('CP-3'))).toBe(503);
  });

  it('a message larger than max_frame_size closes the connection (1009) and is not published', async () => {
    const rig = await startRig({ ocpp: { listeners: { ws: { l: { bind: { host: '127.0.0.1', port: 0 }, websocket: { max_frame_size: 1024 } } } } } });
    const backend = await rig.backend();
    const cp = await rig.charger('CP-big');
    const closed = new Promise<{ code: number }>((resolve) => cp.once('close', resolve));
    void cp.call('DataTransfer', { vendorId: 'junction', data: 'x'.repeat(2048) }).catch(() => {});
    expect((await closed).code).toBe(1009);
    await backend.next('ocpp/cp/CP-big/Connection', { event: 'disconnected', reason: 'connection_lost' });
    expect(backend.on('ocpp/cp/CP-big')).toEqual([]);
  });

  it('a plain HTTP request gets 426', async () => {
    const rig = await startRig();
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: rig.port, path: '/ocpp/CP-1' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(426);
  });
});

describe('connection events and takeover', () => {
  it('publishes retained connected and disconnected events with version and address', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('CP-ev', { protocol: 'ocpp2.0.1' });
    const up = await backend.next('ocpp/cp/CP-ev/Connection', { event: 'connected' });
    expect(up.json).toMatchObject({
      clientid: 'CP-ev',
      proto_name: 'OCPP',
      proto_ver: '2.0.1',
      subprotocol: 'ocpp2.0.1',
      peername: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      listener: 'ws:default',
      keepalive: 60,
    });
    await cp.close();
    const down = await backend.next('ocpp/cp/CP-ev/Connection', { event: 'disconnected' });
    expect(down.json).toMatchObject({ clientid: 'CP-ev', proto_ver: '2.0.1', reason: 'normal' });

    // A back end that starts later learns the last state from the retained message.
    const late = await rig.backend('ocpp/cp/+/Connection');
    const last = await late.next('ocpp/cp/CP-ev/Connection');
    expect(last).toMatchObject({ retain: true, json: { event: 'disconnected' } });
  });

  it('a second connection with the same id takes over: the old one is closed, the new one works', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const first = await rig.charger('CP-take');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => first.once('close', resolve));
    const second = await rig.charger('CP-take');
    expect(await closed).toEqual({ code: 1000, reason: 'takeover' });
    const events = backend.on('ocpp/cp/CP-take/Connection').map((s) => [s.json.event, s.json.reason]);
    expect(events).toEqual([
      ['connected', undefined],
      ['disconnected', 'takeover'],
      ['connected', undefined],
    ]);
    const answer = second.call('BootNotification', bootPayload16);
    const call = await backend.next('ocpp/cp/CP-take', { Action: 'BootNotification' });
    await backend.send('CP-take', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 60 } });
    expect(await answer).toMatchObject({ status: 'Accepted' });
    expect(rig.gateway.stats().connections).toBe(1);
  });

  it('the core can kick a charger: 1008 and a disconnected event with reason kicked', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('CP-kick');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => cp.once('close', resolve));
    await backend.next('ocpp/cp/CP-kick/Connection', { event: 'connected' });
    expect(rig.broker.kick('CP-kick')).toBe(true);
    expect(await closed).toEqual({ code: 1008, reason: 'kicked' });
    await backend.next('ocpp/cp/CP-kick/Connection', { event: 'disconnected', reason: 'kicked' });
    await eventually(() => rig.gateway.stats().connections === 0, 'the charger to be gone');
  });

  it('a subscription the authorizer refuses ends the handshake with 403', async () => {
    const rig = await startRig();
    rig.broker.hooks.intercept('client.authorize', (req) => (req.action === 'subscribe' && req.client.clientId === 'CP-no' ? 'deny' : 'allow'));
    expect(await refusedStatus(rig.charger('CP-no'))).toBe(403);
    expect(rig.broker.session('CP-no')).toBeUndefined();
  });

  it('a CALL the authorizer refuses to publish gets CALLERROR SecurityError', async () => {
    const rig = await startRig();
    rig.broker.hooks.intercept('client.authorize', (req) => (req.action === 'publish' && req.topic === 'ocpp/cp/CP-pub' ? 'deny' : 'allow'));
    const backend = await rig.backend();
    const cp = await rig.charger('CP-pub');
    const err = await rpcErrorOf(cp.call('BootNotification', bootPayload16));
    expect(err.code).toBe('SecurityError');
    expect(backend.on('ocpp/cp/CP-pub')).toEqual([]);
  });

  it('stop() closes chargers with 1001 and reports server_shutdown', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('CP-stop');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => cp.once('close', resolve));
    await backend.next('ocpp/cp/CP-stop/Connection', { event: 'connected' });
    await rig.gateway.stop({ drainMs: 500 });
    expect(await closed).toEqual({ code: 1001, reason: 'server_shutdown' });
    await backend.next('ocpp/cp/CP-stop/Connection', { event: 'disconnected', reason: 'server_shutdown' });
    await rig.gateway.stop(); // idempotent
  });
});
