import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encode } from '../src/index.js';
import { startStack, uid, type Stack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(() => s.stop());

describe('malformed datagrams', () => {
  it('are dropped and counted, and every other client keeps being served', async () => {
    const topic = `m/${uid()}`;
    const good = await s.snClient();
    good.autoAck = true;
    await good.connect(uid());
    const sub = await good.subscribe(topic, 1);
    const noisy = await s.snClient();
    await noisy.connect(uid());
    const stranger = await s.snClient();

    const random = fc
      .sample(fc.uint8Array({ maxLength: 40 }), { numRuns: 400, seed: 5 })
      .map((a) => Buffer.from(a))
      .filter((b) => {
        try {
          decode(b);
          return false;
        } catch {
          return true;
        }
      })
      .slice(0, 100);
    const garbage = [
      Buffer.alloc(0),
      Buffer.from([0x05]),
      Buffer.from([0x09, 0x0c, 0x20, 0, 1]), // Length says 9, datagram has 5
      Buffer.from([0x02, 0x03]), // reserved MsgType
      Buffer.from([0x07, 0x0a, 0, 0, 0, 1, 0xff]), // ill-formed UTF-8
      Buffer.from([0x07, 0x0c, 0x03, 0, 1, 0, 0]), // reserved TopicIdType
      Buffer.from([0x01, 0x00]),
      ...random,
    ];
    const before = s.sn.adapter.stats()['packets.malformed'] ?? 0;
    // In batches, each closed by a round trip, so no datagram is lost to a full socket buffer.
    for (let i = 0; i < garbage.length; i += 20) {
      for (const g of garbage.slice(i, i + 20)) {
        noisy.sendRaw(g);
        stranger.sendRaw(g);
      }
      await noisy.ping();
      stranger.send({ type: 'searchgw', radius: 0 });
      await stranger.next('gwinfo');
    }

    // The well-behaved client is still served, and so is the noisy one.
    const pub = await s.mqtt();
    await pub.client.publishAsync(topic, 'still here', { qos: 1 });
    const p = await good.next('publish');
    expect(p).toMatchObject({ topic: { kind: 'id', id: sub.topicId } });
    await noisy.ping();
    await good.ping();
    expect((s.sn.adapter.stats()['packets.malformed'] ?? 0) - before).toBe(garbage.length * 2);
    expect(good.undecodable).toEqual([]);
  });

  it('a client that sends garbage between valid messages keeps its session', async () => {
    const topic = `m/${uid()}`;
    const c = await s.snClient();
    const id = uid();
    await c.connect(id);
    const tid = await c.register(topic);
    c.sendRaw(Buffer.from([0xff, 0xff, 0xff]));
    c.sendRaw(encode({ type: 'pingreq' }).subarray(0, 1));
    const sub = await s.mqtt();
    await sub.client.subscribeAsync(topic, { qos: 1 });
    await c.publish({ kind: 'id', id: tid }, 'ok', 1);
    expect((await sub.waitFor(1, topic))[0]!.text).toBe('ok');
    expect(s.broker.session(id)?.connected).toBe(true);
  });
});
