import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RETURN_CODE } from '../src/index.js';
import { startStack, uid, type Stack } from './helpers.js';

const predefined = [
  { id: 1, topic: 'dev/status' },
  { id: 2, topic: 'dev/cmd' },
  { id: 40000, topic: 'dev/high' },
];

let s: Stack;
beforeAll(async () => {
  s = await startStack({ config: { predefined } });
});
afterAll(() => s.stop());

describe('pre-defined topic ids (§6.7)', () => {
  it('publish on a pre-defined id, without REGISTER', async () => {
    const sub = await s.mqtt();
    await sub.client.subscribeAsync('dev/high', { qos: 1 });
    const c = await s.snClient();
    await c.connect(uid());
    expect(await c.publish({ kind: 'predefined', id: 40000 }, 'up', 1)).toMatchObject({ topicId: 40000, returnCode: 0 });
    expect((await sub.waitFor(1, 'dev/high'))[0]!.text).toBe('up');
  });

  it('subscribe by pre-defined id: SUBACK carries it, deliveries use it', async () => {
    const c = await s.snClient();
    c.autoAck = true;
    await c.connect(uid());
    expect(await c.subscribe({ predefined: 2 }, 1)).toMatchObject({ topicId: 2, returnCode: 0, qos: 1 });
    const pub = await s.mqtt();
    await pub.client.publishAsync('dev/cmd', 'reboot', { qos: 1 });
    const p = await c.next('publish');
    expect(p.topic).toEqual({ kind: 'predefined', id: 2 });
    expect(p.payload.toString()).toBe('reboot');
  });

  it('a wildcard subscription matching a pre-defined topic needs no REGISTER', async () => {
    const c = await s.snClient();
    await c.connect(uid());
    await c.subscribe('dev/+', 0);
    const pub = await s.mqtt();
    await pub.client.publishAsync('dev/status', 'ok');
    expect(await c.next('publish')).toMatchObject({ topic: { kind: 'predefined', id: 1 } });
    expect(c.received.some((m) => m.type === 'register')).toBe(false);
  });

  it('pre-defined ids are the same for every client, and never handed out as normal ids', async () => {
    const a = await s.snClient();
    await a.connect(uid());
    const ids = [await a.register(`n/${uid()}`), await a.register(`n/${uid()}`), await a.register(`n/${uid()}`)];
    expect(ids).not.toContain(1);
    expect(ids).not.toContain(2);
    // REGISTER of a pre-defined name answers the pre-defined id (as EMQX), usable as a normal id.
    expect(await a.register('dev/status')).toBe(1);
    const sub = await s.mqtt();
    await sub.client.subscribeAsync('dev/status');
    await a.publish({ kind: 'id', id: 1 }, 'via normal id', 1);
    expect((await sub.waitFor(1, 'dev/status'))[0]!.text).toBe('via normal id');
  });

  it('an unknown pre-defined id is refused: SUBACK and PUBACK "invalid topic id"', async () => {
    const c = await s.snClient();
    await c.connect(uid());
    expect(await c.subscribe({ predefined: 77 }, 0)).toMatchObject({ returnCode: RETURN_CODE.INVALID_TOPIC_ID });
    expect(await c.publish({ kind: 'predefined', id: 77 }, 'x', 1)).toMatchObject({ topicId: 77, returnCode: RETURN_CODE.INVALID_TOPIC_ID });
  });
});

describe('short topic names (§6.7)', () => {
  it('publish and subscribe with two-character names, no registration', async () => {
    const c = await s.snClient();
    c.autoAck = true;
    await c.connect(uid());
    expect(await c.subscribe({ short: 'ab' }, 1)).toMatchObject({ topicId: 0, returnCode: 0 });
    const sub = await s.mqtt();
    await sub.client.subscribeAsync('ab');
    await c.publish({ kind: 'short', name: 'ab' }, 'loop', 1);
    expect((await sub.waitFor(1, 'ab'))[0]!.text).toBe('loop');
    const p = await c.next('publish');
    expect(p.topic).toEqual({ kind: 'short', name: 'ab' });
  });

  it('a delivery on a two-character topic matched by a wildcard uses the short name', async () => {
    const c = await s.snClient();
    await c.connect(uid());
    await c.subscribe('#', 0);
    const pub = await s.mqtt();
    await pub.client.publishAsync('zz', 'short');
    const p = await c.nextOf(['publish']);
    expect(p.topic).toEqual({ kind: 'short', name: 'zz' });
  });

  it('wildcards in a short name are refused', async () => {
    const c = await s.snClient();
    await c.connect(uid());
    expect(await c.publish({ kind: 'short', name: 'a#' }, 'x', 1)).toMatchObject({ returnCode: RETURN_CODE.NOT_SUPPORTED });
  });
});

describe('mountpoint', () => {
  let m: Stack | undefined;
  afterEach(async () => {
    await m?.stop();
    m = undefined;
  });

  it('prefixes every topic both ways, with ${clientid}', async () => {
    m = await startStack({ config: { mountpoint: 'sn/${clientid}/', predefined } });
    const sub = await m.mqtt();
    await sub.client.subscribeAsync('sn/#');
    const c = await m.snClient();
    c.autoAck = true;
    await c.connect('dev1');
    const id = await c.register('up');
    await c.publish({ kind: 'id', id }, 'a', 1);
    await c.publish({ kind: 'predefined', id: 1 }, 'b', 1);
    await c.publish({ kind: 'short', name: 'ab' }, 'c', 1);
    expect((await sub.waitFor(3)).map((x) => x.topic)).toEqual(['sn/dev1/up', 'sn/dev1/dev/status', 'sn/dev1/ab']);
    const ack = await c.subscribe('down', 1);
    await sub.client.publishAsync('sn/dev1/down', 'cmd', { qos: 1 });
    const p = await c.next('publish');
    expect(p.topic).toEqual({ kind: 'id', id: ack.topicId });
  });

  it('a listener mountpoint replaces the gateway one', async () => {
    m = await startStack({ config: { mountpoint: 'gw/' }, listener: { mountpoint: 'lst/' } });
    const sub = await m.mqtt();
    await sub.client.subscribeAsync('#');
    const c = await m.snClient();
    await c.connect('dev2');
    await c.publish({ kind: 'short', name: 'ab' }, 'x', 1);
    expect((await sub.waitFor(1))[0]!.topic).toBe('lst/ab');
  });
});
