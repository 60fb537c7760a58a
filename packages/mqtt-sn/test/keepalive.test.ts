import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startStack, uid, type Stack } from './helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(() => s.stop());

describe('keepalive (§6.11)', () => {
  it('a client silent for 1.5 x its Duration is lost: DISCONNECT, will published, session closed', async () => {
    const willTopic = `ka/${uid()}`;
    const watcher = await s.mqtt();
    await watcher.client.subscribeAsync(willTopic);
    const c = await s.snClient();
    const id = uid();
    const lostBefore = s.sn.adapter.stats()['clients.lost'] ?? 0;
    const t0 = Date.now();
    await c.connect(id, { duration: 1, will: { topic: willTopic, payload: 'lost' } });
    expect(await c.next('disconnect', 3000)).toEqual({ type: 'disconnect' });
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(4000);
    expect((await watcher.waitFor(1, willTopic))[0]!.text).toBe('lost');
    expect(s.broker.session(id)).toBeUndefined();
    expect(s.sn.adapter.stats()['clients.lost']).toBe(lostBefore + 1);
  });

  it('PINGREQ keeps a client alive, and so does any other message', async () => {
    const c = await s.snClient();
    const id = uid();
    await c.connect(id, { duration: 1 });
    // 1.65 s in all, past the 1.5 s a silent client would get.
    for (let i = 0; i < 3; i++) {
      await sleep(550);
      if (i % 2 === 0) await c.ping();
      else await c.register(`ka/${i}`);
    }
    expect(s.broker.session(id)?.connected).toBe(true);
    await c.nothing('disconnect', 100);
  });
});
