import { describe, expect, it } from 'vitest';
import { JunctionError } from '../src/errors.js';
import type { Message } from '../src/message.js';
import { MemoryRetainedStore } from '../src/store/memory-retained-store.js';
import { retainedStoreSuite } from '../src/testing/retained-store-suite.js';

retainedStoreSuite('MemoryRetainedStore', () => new MemoryRetainedStore());
retainedStoreSuite('MemoryRetainedStore (with a large maxRetained)', () => new MemoryRetainedStore({ maxRetained: 1_000_000 }));

const msg = (topic: string, over: Partial<Message> = {}): Message => ({
  topic,
  payload: Buffer.from(topic),
  qos: 0,
  retain: true,
  from: { clientId: 'c', protocol: 'mqtt', node: 'n' },
  timestamp: 0,
  ...over,
});

describe('MemoryRetainedStore quota', () => {
  it('refuses a new topic when maxRetained is reached, with quota_exceeded', async () => {
    const store = new MemoryRetainedStore({ maxRetained: 2 });
    await store.put(msg('a'));
    await store.put(msg('b'));
    const err = await store.put(msg('c')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JunctionError);
    expect((err as JunctionError).code).toBe('quota_exceeded');
    expect(() => store.putSync(msg('c'))).toThrow(JunctionError);
    expect(await store.get('c')).toBeUndefined();
    expect(await store.count()).toBe(2);
    await store.close();
  });

  it('always allows replacing an existing topic when full', async () => {
    const store = new MemoryRetainedStore({ maxRetained: 2 });
    await store.put(msg('a'));
    await store.put(msg('b'));
    await store.put(msg('a', { payload: Buffer.from('new') }));
    expect((await store.get('a'))?.payload.toString()).toBe('new');
    expect(await store.count()).toBe(2);
    await store.close();
  });

  it('accepts new topics again after a delete or a purge frees room', async () => {
    const store = new MemoryRetainedStore({ maxRetained: 2 });
    await store.put(msg('a'));
    await store.put(msg('b', { expiresAt: 100 }));
    await store.delete('a');
    await store.put(msg('c'));
    await expect(store.put(msg('d'))).rejects.toMatchObject({ code: 'quota_exceeded' });
    expect(await store.purgeExpired(100)).toBe(1);
    await store.put(msg('d'));
    expect(await store.count()).toBe(2);
    await store.close();
  });

  it('maxRetained 0 refuses everything', async () => {
    const store = new MemoryRetainedStore({ maxRetained: 0 });
    await expect(store.put(msg('a'))).rejects.toMatchObject({ code: 'quota_exceeded' });
    expect(store.countSync()).toBe(0);
    await store.close();
  });

  it('rejects an invalid maxRetained', () => {
    expect(() => new MemoryRetainedStore({ maxRetained: -1 })).toThrow(RangeError);
    expect(() => new MemoryRetainedStore({ maxRetained: Number.NaN })).toThrow(RangeError);
  });
});

describe('MemoryRetainedStore synchronous fast path', () => {
  it('matchSync and countSync agree with the async API and drop expired messages', async () => {
    const store = new MemoryRetainedStore();
    store.putSync(msg('s/1'));
    store.putSync(msg('s/2', { expiresAt: 50 }));
    store.putSync(msg('$SYS/x'));
    expect(store.countSync()).toBe(3);
    expect(store.matchSync('s/+', 0).map((m) => m.topic).sort()).toEqual(['s/1', 's/2']);
    expect(store.matchSync('#', 0).map((m) => m.topic).sort()).toEqual(['s/1', 's/2']);
    expect(store.matchSync('s/#', 50).map((m) => m.topic)).toEqual(['s/1']);
    // The expired message was removed by the match.
    expect(store.countSync()).toBe(2);
    expect(await store.count()).toBe(2);
    expect(store.getSync('s/2')).toBeUndefined();
    expect(store.deleteSync('s/1')).toBe(true);
    expect(store.countSync()).toBe(1);
    await store.close();
  });
});
