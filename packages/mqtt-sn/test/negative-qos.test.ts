import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NEG_QOS_CLIENT_ID, RETURN_CODE } from '../src/index.js';
import { sleep, startStack, uid, type Stack } from './helpers.js';

const predefined = [
  { id: 1, topic: 'sensors/temperature' },
  { id: 20, topic: 'sensors/humidity' },
];

let s: Stack;
beforeAll(async () => {
  s = await startStack({ config: { predefined } });
});
afterAll(() => s.stop());

describe('QoS -1 without a connection (§6.8)', () => {
  it('a pre-defined topic id: published at QoS 0, nothing answered', async () => {
    const sub = await s.mqtt();
    await sub.client.subscribeAsync('sensors/temperature', { qos: 1 });
    const c = await s.snClient();
    await c.publish({ kind: 'predefined', id: 1 }, '21.5', -1);
    const [m] = await sub.waitFor(1, 'sensors/temperature');
    expect(m).toMatchObject({ text: '21.5', qos: 0 });
    await c.nothing(undefined, 150);
    expect(s.sn.adapter.stats()['messages.qos_neg1.received']).toBeGreaterThanOrEqual(1);
  });

  it('a short topic name', async () => {
    const sub = await s.mqtt();
    await sub.client.subscribeAsync('tq', { qos: 1 });
    const c = await s.snClient();
    await c.publish({ kind: 'short', name: 'tq' }, 'short', -1);
    const [m] = await sub.waitFor(1, 'tq');
    expect(m).toMatchObject({ text: 'short', qos: 0 });
  });

  it('a normal topic id means nothing without a connection: dropped', async () => {
    const c = await s.snClient();
    const before = s.sn.adapter.stats()['packets.dropped'] ?? 0;
    await c.publish({ kind: 'id', id: 1 }, 'x', -1);
    await c.nothing(undefined, 150);
    expect(s.sn.adapter.stats()['packets.dropped']).toBe(before + 1);
  });

  it('goes through the authorize hooks as NegQoS-Client, with the peer address', async () => {
    const seen: { clientId: string; peer: string; topic: string }[] = [];
    const off = s.broker.hooks.intercept('client.authorize', (r) => {
      seen.push({ clientId: r.client.clientId, peer: r.client.peer, topic: r.topic });
      return r.topic === 'sensors/humidity' ? 'deny' : 'ignore';
    });
    try {
      const sub = await s.mqtt();
      await sub.client.subscribeAsync('sensors/#');
      const c = await s.snClient();
      await c.publish({ kind: 'predefined', id: 20 }, 'denied', -1);
      await c.publish({ kind: 'predefined', id: 1 }, 'allowed', -1);
      const [m] = await sub.waitFor(1);
      expect(m!.text).toBe('allowed');
      await sleep(100);
      expect(sub.messages).toHaveLength(1);
      expect(seen).toContainEqual({ clientId: NEG_QOS_CLIENT_ID, peer: `127.0.0.1:${c.port}`, topic: 'sensors/humidity' });
    } finally {
      off();
    }
  });

  it('from a connected client, QoS -1 is published at QoS 0', async () => {
    const topic = `nq/${uid()}`;
    const sub = await s.mqtt();
    await sub.client.subscribeAsync(topic, { qos: 1 });
    const c = await s.snClient();
    await c.connect(uid());
    const id = await c.register(topic);
    await c.publish({ kind: 'id', id }, 'connected', -1);
    expect((await sub.waitFor(1, topic))[0]).toMatchObject({ text: 'connected', qos: 0 });
  });
});

describe('enable_qos3 = false', () => {
  let off: Stack | undefined;
  afterEach(async () => {
    await off?.stop();
    off = undefined;
  });

  it('QoS -1 is refused with PUBACK "not supported" (as EMQX)', async () => {
    off = await startStack({ config: { enable_qos3: false, predefined } });
    const sub = await off.mqtt();
    await sub.client.subscribeAsync('sensors/#');
    const c = await off.snClient();
    await c.publish({ kind: 'predefined', id: 1 }, 'x', -1);
    expect(await c.next('puback')).toMatchObject({ topicId: 1, returnCode: RETURN_CODE.NOT_SUPPORTED });
    await sleep(100);
    expect(sub.messages).toEqual([]);
  });
});
