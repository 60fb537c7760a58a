import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RETURN_CODE } from '../src/index.js';
import { startMqttSnGateway } from '../src/testing/index.js';
import { sleep, startStack, uid, type Stack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ config: { retry_interval: 200, max_retries: 2 } });
});
afterAll(() => s.stop());

describe('CONNECT (§6.2)', () => {
  it('opens a session in the core as protocol mqtt-sn, with the peer address and client id', async () => {
    const seen: { clientId: string; protocol: string; peer: string; listener?: string; keepalive: number }[] = [];
    const off = s.broker.hooks.on('client.connected', (_c, info) => seen.push(info));
    try {
      const c = await s.snClient();
      const id = uid();
      expect(await c.connect(id, { duration: 30 })).toEqual({ type: 'connack', returnCode: RETURN_CODE.ACCEPTED });
      expect(seen).toMatchObject([{ clientId: id, protocol: 'mqtt-sn', peer: `127.0.0.1:${c.port}`, listener: 'udp:default', keepalive: 30 }]);
      expect(s.sn.adapter.client(id)).toMatchObject({ state: 'active' });
    } finally {
      off();
    }
  });

  it('refuses another ProtocolId with "not supported"', async () => {
    const c = await s.snClient();
    c.send({ type: 'connect', will: false, cleanSession: true, protocolId: 2, duration: 10, clientId: uid() });
    expect(await c.next('connack')).toEqual({ type: 'connack', returnCode: RETURN_CODE.NOT_SUPPORTED });
  });

  it('a refused authentication answers CONNACK 0x80 (as EMQX), and nothing else is served', async () => {
    const off = s.broker.hooks.intercept('client.authenticate', (info) => (info.clientId.startsWith('bad') ? { result: 'deny', reason: 'not_authorized' } : { result: 'ignore' }));
    try {
      const c = await s.snClient();
      expect(await c.connect(uid('bad'))).toEqual({ type: 'connack', returnCode: RETURN_CODE.NOT_AUTHORIZED });
      c.send({ type: 'register', topicId: 0, msgId: 1, topicName: 'x' });
      await c.nothing('regack', 200);
    } finally {
      off();
    }
  });

  it('a CONNECT repeated because CONNACK was lost is answered again, on the same session', async () => {
    // A wide retransmission window, so that a slow machine does not turn the repeat into a reconnect.
    const gw = await startMqttSnGateway({ config: { retry_interval: 5000 } });
    try {
      const c = await gw.client();
      const id = uid();
      let lost = false;
      c.dropIncoming = (m) => (m.type === 'connack' && !lost ? (lost = true) : false);
      const msg = { type: 'connect' as const, will: false, cleanSession: true, protocolId: 1, duration: 60, clientId: id };
      c.send(msg);
      await c.nothing('connack', 100);
      c.send(msg);
      expect(await c.next('connack')).toMatchObject({ returnCode: 0 });
      await c.subscribe('same/session', 0);
      c.send(msg);
      await c.next('connack');
      // Same session: the subscription is still there.
      expect(gw.broker.session(id)?.subscriptions).toEqual(['same/session']);
    } finally {
      await gw.stop();
    }
  });

  it('a client connecting again later (it restarted) gets a new session, and its old will is not published', async () => {
    const willTopic = `will/${uid()}`;
    const watcher = await s.mqtt();
    await watcher.client.subscribeAsync(willTopic);
    const c = await s.snClient();
    const id = uid();
    await c.connect(id, { will: { topic: willTopic, payload: 'dead' } });
    await c.subscribe('restart/x', 0);
    await sleep(250); // past the retransmission window of the first CONNECT
    expect(await c.connect(id)).toMatchObject({ returnCode: 0 });
    expect(s.broker.session(id)?.subscriptions).toEqual([]);
    await sleep(100);
    expect(watcher.messages).toEqual([]);
  });

  it('the same client id from another peer takes the session over quietly (the device moved)', async () => {
    const willTopic = `will/${uid()}`;
    const watcher = await s.mqtt();
    await watcher.client.subscribeAsync(willTopic);
    const a = await s.snClient();
    const b = await s.snClient();
    const id = uid();
    await a.connect(id, { will: { topic: willTopic, payload: 'dead' } });
    expect(await b.connect(id)).toMatchObject({ returnCode: 0 });
    expect(await a.next('disconnect')).toEqual({ type: 'disconnect' });
    expect(s.sn.adapter.client(id)?.peer).toBe(`127.0.0.1:${b.port}`);
    await sleep(100);
    expect(watcher.messages).toEqual([]);
  });

  it('an MQTT client with the same id takes over: the MQTT-SN client gets DISCONNECT and its will is published', async () => {
    const willTopic = `will/${uid()}`;
    const watcher = await s.mqtt();
    await watcher.client.subscribeAsync(willTopic);
    const c = await s.snClient();
    const id = uid();
    await c.connect(id, { will: { topic: willTopic, payload: 'taken over' } });
    await s.mqtt({ clientId: id });
    expect(await c.next('disconnect')).toEqual({ type: 'disconnect' });
    const [m] = await watcher.waitFor(1, willTopic);
    expect(m!.text).toBe('taken over');
  });

  it('DISCONNECT ends the session normally: acknowledged, no will', async () => {
    const willTopic = `will/${uid()}`;
    const watcher = await s.mqtt();
    await watcher.client.subscribeAsync(willTopic);
    const c = await s.snClient();
    const id = uid();
    await c.connect(id, { will: { topic: willTopic, payload: 'x' } });
    await c.disconnect();
    expect(s.broker.session(id)).toBeUndefined();
    await sleep(100);
    expect(watcher.messages).toEqual([]);
  });

  it('PINGREQ is answered with PINGRESP', async () => {
    const c = await s.snClient();
    await c.connect(uid());
    await c.ping();
  });

  it('messages before CONNECT are dropped and counted', async () => {
    const c = await s.snClient();
    const before = s.sn.adapter.stats()['packets.dropped'] ?? 0;
    c.send({ type: 'subscribe', dup: false, qos: 0, msgId: 1, topic: { kind: 'name', name: 'x' } });
    await c.nothing(undefined, 150);
    expect(s.sn.adapter.stats()['packets.dropped']).toBe(before + 1);
  });
});

describe('listener limits and access', () => {
  let gw: Awaited<ReturnType<typeof startMqttSnGateway>> | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  it('max_connections: one client more gets CONNACK "congestion"', async () => {
    gw = await startMqttSnGateway({ listener: { max_connections: 1 } });
    const a = await gw.client();
    const b = await gw.client();
    expect(await a.connect('one')).toMatchObject({ returnCode: 0 });
    expect(await b.connect('two')).toMatchObject({ returnCode: RETURN_CODE.CONGESTION });
  });

  it('access_rules: a denied peer gets no answer at all', async () => {
    gw = await startMqttSnGateway({ listener: { access_rules: ['deny 127.0.0.0/8', 'allow all'] } });
    const c = await gw.client();
    c.send({ type: 'searchgw', radius: 0 });
    c.send({ type: 'connect', will: false, cleanSession: true, protocolId: 1, duration: 10, clientId: 'x' });
    await c.nothing(undefined, 200);
    expect(gw.adapter.stats()['packets.dropped']).toBe(2);
  });

  it('clientinfo_override gives the authenticators a user name and password', async () => {
    gw = await startMqttSnGateway({ config: { clientinfo_override: { username: 'sn-${clientid}', password: 'secret' } } });
    const seen: { username?: string; password?: string }[] = [];
    gw.broker.hooks.intercept('client.authenticate', (info) => {
      seen.push({ username: info.username, password: info.password?.toString() });
      return { result: 'allow' };
    });
    const c = await gw.client();
    await c.connect('dev7');
    expect(seen).toEqual([{ username: 'sn-dev7', password: 'secret' }]);
  });

  it('enable_authn false admits clients without asking the authenticators', async () => {
    gw = await startMqttSnGateway({ listener: { enable_authn: false } });
    gw.broker.hooks.intercept('client.authenticate', () => ({ result: 'deny', reason: 'not_authorized' }));
    const c = await gw.client();
    expect(await c.connect('free')).toMatchObject({ returnCode: 0 });
  });

  it('a half-open client (no answer to WILLTOPICREQ) is forgotten after Nretry', async () => {
    gw = await startMqttSnGateway({ config: { retry_interval: 100, max_retries: 1 } });
    const c = await gw.client();
    c.send({ type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 10, clientId: 'half' });
    await c.next('willtopicreq');
    await c.next('willtopicreq', 1000);
    await sleep(200);
    c.send({ type: 'willtopic', will: { qos: 0, retain: false, topic: 'x' } });
    await c.nothing('willmsgreq', 200);
  });
});
