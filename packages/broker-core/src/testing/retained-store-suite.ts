/**
 * Conformance suite for {@link RetainedStore} implementations. Every store (memory, durable,
 * cluster) registers it from its own test file:
 *
 * ```ts
 * retainedStoreSuite('MemoryRetainedStore', () => new MemoryRetainedStore());
 * ```
 *
 * Each test creates a fresh store through `create` and closes it at the end.
 */
import { describe, expect, it } from 'vitest';
import type { Message, QoS } from '../message.js';
import type { RetainedStore } from '../store/retained-store.js';

const NOW = 1_700_000_000_000;

/** A retained test message; `over` replaces any field. */
function retained(topic: string, over: Partial<Message> = {}): Message {
  return {
    topic,
    payload: Buffer.from(`payload of ${topic}`),
    qos: 1 as QoS,
    retain: true,
    from: { clientId: 'publisher', protocol: 'mqtt', node: 'junction@127.0.0.1' },
    timestamp: NOW,
    ...over,
  };
}

function sortedTopics(msgs: readonly Message[]): string[] {
  return msgs.map((m) => m.topic).sort();
}

export function retainedStoreSuite(name: string, create: () => Promise<RetainedStore> | RetainedStore): void {
  /** Runs `body` against a fresh store and always closes it. */
  async function withStore(body: (store: RetainedStore) => Promise<void>): Promise<void> {
    const store = await create();
    try {
      await body(store);
    } finally {
      await store.close();
    }
  }

  /** Puts `topics`, up to 500 at a time (a store may batch concurrent writes). */
  async function putAll(store: RetainedStore, topics: readonly string[]): Promise<void> {
    for (let i = 0; i < topics.length; i += 500) await Promise.all(topics.slice(i, i + 500).map((topic) => store.put(retained(topic))));
  }

  async function matched(store: RetainedStore, filter: string, now = NOW): Promise<string[]> {
    return sortedTopics(await store.match(filter, now));
  }

  describe(name, () => {
    it('starts empty', () =>
      withStore(async (store) => {
        expect(await store.count()).toBe(0);
        expect(await store.get('a/b')).toBeUndefined();
        expect(await store.match('#', NOW)).toEqual([]);
      }));

    it('put then get returns the message', () =>
      withStore(async (store) => {
        const msg = retained('a/b', { payload: Buffer.from('hello') });
        await store.put(msg);
        const got = await store.get('a/b');
        expect(got?.topic).toBe('a/b');
        expect(got?.payload.toString()).toBe('hello');
        expect(await store.get('a')).toBeUndefined();
        expect(await store.get('a/b/c')).toBeUndefined();
      }));

    it('put replaces the message of the same topic', () =>
      withStore(async (store) => {
        await store.put(retained('a/b', { payload: Buffer.from('one') }));
        await store.put(retained('a/b', { payload: Buffer.from('two'), qos: 2 }));
        expect(await store.count()).toBe(1);
        const got = await store.get('a/b');
        expect(got?.payload.toString()).toBe('two');
        expect(got?.qos).toBe(2);
        const all = await store.match('a/b', NOW);
        expect(all).toHaveLength(1);
        expect(all[0]!.payload.toString()).toBe('two');
      }));

    it('delete resolves true when a message existed and false otherwise', () =>
      withStore(async (store) => {
        await putAll(store, ['a/b', 'a/b/c']);
        expect(await store.delete('a/b')).toBe(true);
        expect(await store.get('a/b')).toBeUndefined();
        expect(await store.delete('a/b')).toBe(false);
        expect(await store.delete('never/stored')).toBe(false);
        // A prefix of a stored topic holds no message of its own.
        expect(await store.delete('a')).toBe(false);
        expect(await store.get('a/b/c')).toBeDefined();
        expect(await store.count()).toBe(1);
      }));

    it('match with an exact filter returns only that topic', () =>
      withStore(async (store) => {
        await putAll(store, ['a', 'a/b', 'a/b/c', 'a/bb', 'b/b']);
        expect(await matched(store, 'a/b')).toEqual(['a/b']);
        expect(await matched(store, 'a')).toEqual(['a']);
        expect(await matched(store, 'a/c')).toEqual([]);
      }));

    it("match with '+' matches exactly one level", () =>
      withStore(async (store) => {
        await putAll(store, ['a', 'a/b', 'a/c', 'a/b/c', 'x/b', 'x/y/b']);
        expect(await matched(store, 'a/+')).toEqual(['a/b', 'a/c']);
        expect(await matched(store, '+/b')).toEqual(['a/b', 'x/b']);
        expect(await matched(store, '+/+/c')).toEqual(['a/b/c']);
        expect(await matched(store, '+')).toEqual(['a']);
      }));

    it("match with '#' matches all levels below", () =>
      withStore(async (store) => {
        await putAll(store, ['a/b', 'a/b/c', 'a/b/c/d', 'a/x', 'b']);
        expect(await matched(store, 'a/b/#')).toEqual(['a/b', 'a/b/c', 'a/b/c/d']);
        expect(await matched(store, '#')).toEqual(['a/b', 'a/b/c', 'a/b/c/d', 'a/x', 'b']);
        expect(await matched(store, 'a/+/#')).toEqual(['a/b', 'a/b/c', 'a/b/c/d', 'a/x']);
        expect(await matched(store, 'c/#')).toEqual([]);
      }));

    it("'a/#' matches the parent level 'a'", () =>
      withStore(async (store) => {
        await putAll(store, ['a', 'a/b', 'ab']);
        expect(await matched(store, 'a/#')).toEqual(['a', 'a/b']);
      }));

    it("'#' and '+/...' do not match $SYS or other '$' topics", () =>
      withStore(async (store) => {
        await putAll(store, ['$SYS/broker/uptime', '$SYS', '$other/x', 'a/broker/uptime', 'x']);
        expect(await matched(store, '#')).toEqual(['a/broker/uptime', 'x']);
        expect(await matched(store, '+/broker/uptime')).toEqual(['a/broker/uptime']);
        expect(await matched(store, '+')).toEqual(['x']);
        expect(await matched(store, '+/#')).toEqual(['a/broker/uptime', 'x']);
      }));

    it("'$SYS/#' matches $SYS topics", () =>
      withStore(async (store) => {
        await putAll(store, ['$SYS/x', '$SYS/broker/uptime', 'SYS/x', 'a']);
        expect(await matched(store, '$SYS/#')).toEqual(['$SYS/broker/uptime', '$SYS/x']);
        expect(await matched(store, '$SYS/+')).toEqual(['$SYS/x']);
        expect(await matched(store, '$SYS/+/uptime')).toEqual(['$SYS/broker/uptime']);
      }));

    it('handles empty levels', () =>
      withStore(async (store) => {
        await putAll(store, ['a//b', '/a', 'a/', '/', 'a/b']);
        expect(await matched(store, 'a//b')).toEqual(['a//b']);
        expect(await matched(store, 'a/+/b')).toEqual(['a//b']);
        expect(await matched(store, '+/a')).toEqual(['/a']);
        expect(await matched(store, 'a/+')).toEqual(['a/', 'a/b']);
        expect(await matched(store, '/#')).toEqual(['/', '/a']);
        expect(await matched(store, '+/+')).toEqual(['/', '/a', 'a/', 'a/b']);
        expect(await matched(store, '/')).toEqual(['/']);
        expect(await matched(store, 'a/')).toEqual(['a/']);
        expect(await store.get('/')).toBeDefined();
        expect(await store.delete('a//b')).toBe(true);
        expect(await matched(store, 'a/#')).toEqual(['a/', 'a/b']);
      }));

    it('does not return expired messages', () =>
      withStore(async (store) => {
        await store.put(retained('t/expiring', { expiresAt: NOW + 1000 }));
        await store.put(retained('t/forever'));
        expect(await matched(store, 't/#', NOW)).toEqual(['t/expiring', 't/forever']);
        expect(await matched(store, 't/#', NOW + 999)).toEqual(['t/expiring', 't/forever']);
        // expiresAt <= now counts as expired.
        expect(await matched(store, 't/#', NOW + 1000)).toEqual(['t/forever']);
        expect(await matched(store, 't/expiring', NOW + 5000)).toEqual([]);
      }));

    it('purgeExpired removes expired messages and resolves how many', () =>
      withStore(async (store) => {
        await store.put(retained('e/1', { expiresAt: NOW + 100 }));
        await store.put(retained('e/2', { expiresAt: NOW + 200 }));
        await store.put(retained('e/3', { expiresAt: NOW + 300 }));
        await store.put(retained('k/1'));
        await store.put(retained('k/2'));
        expect(await store.purgeExpired(NOW)).toBe(0);
        expect(await store.purgeExpired(NOW + 200)).toBe(2);
        expect(await store.count()).toBe(3);
        expect(await store.get('e/1')).toBeUndefined();
        expect(await store.get('e/2')).toBeUndefined();
        expect(await store.get('e/3')).toBeDefined();
        expect(await store.purgeExpired(NOW + 200)).toBe(0);
        expect(await store.purgeExpired(NOW + 10_000)).toBe(1);
        expect(sortedTopics(await store.match('#', NOW + 10_000))).toEqual(['k/1', 'k/2']);
      }));

    it('replacing an expiring message with a non-expiring one clears the expiry', () =>
      withStore(async (store) => {
        await store.put(retained('r', { expiresAt: NOW + 100 }));
        await store.put(retained('r'));
        expect(await store.purgeExpired(NOW + 1000)).toBe(0);
        expect(await matched(store, 'r', NOW + 1000)).toEqual(['r']);
      }));

    it('count follows puts, replacements and deletes', () =>
      withStore(async (store) => {
        await putAll(store, ['a', 'b', 'c', 'a/b']);
        expect(await store.count()).toBe(4);
        await store.put(retained('a'));
        expect(await store.count()).toBe(4);
        await store.delete('b');
        expect(await store.count()).toBe(3);
        await store.delete('b');
        expect(await store.count()).toBe(3);
      }));

    it('round-trips payload, properties, qos and publisher', () =>
      withStore(async (store) => {
        const binary = Buffer.alloc(256);
        for (let i = 0; i < 256; i++) binary[i] = i;
        const msg: Message = {
          topic: 'dev/42/state',
          payload: binary,
          qos: 2,
          retain: true,
          properties: {
            payloadFormatIndicator: false,
            messageExpiryInterval: 3600,
            contentType: 'application/octet-stream',
            responseTopic: 'dev/42/reply',
            correlationData: Buffer.from([0, 1, 2, 0xfe, 0xff]),
            userProperties: { single: 'v', repeated: ['x', 'y', 'x'], unicode: 'héllo ✓' },
          },
          from: { clientId: 'dev-42', username: 'alice', protocol: 'mqtt', peer: '10.0.0.1:50000', node: 'n1@host' },
          timestamp: NOW,
          expiresAt: NOW + 3_600_000,
        };
        await store.put(msg);
        await store.put(retained('dev/43/state', { payload: Buffer.alloc(0), qos: 0 }));

        for (const got of [await store.get('dev/42/state'), (await store.match('dev/42/+', NOW))[0]]) {
          expect(got).toBeDefined();
          expect(Buffer.isBuffer(got!.payload)).toBe(true);
          expect(got!.payload.equals(binary)).toBe(true);
          expect(Buffer.isBuffer(got!.properties?.correlationData)).toBe(true);
          expect(got!.properties!.correlationData!.equals(Buffer.from([0, 1, 2, 0xfe, 0xff]))).toBe(true);
          expect(got!.properties!.userProperties).toEqual({ single: 'v', repeated: ['x', 'y', 'x'], unicode: 'héllo ✓' });
          expect(got).toEqual(msg);
        }
        const empty = await store.get('dev/43/state');
        expect(Buffer.isBuffer(empty?.payload)).toBe(true);
        expect(empty?.payload.length).toBe(0);
        expect(empty?.qos).toBe(0);
        expect(empty?.properties).toBeUndefined();
        expect(empty?.expiresAt).toBeUndefined();
      }));

    it('keeps unicode and $-prefixed topics exact', () =>
      withStore(async (store) => {
        await putAll(store, ['température/salle/°C', '$aws/things/x', 'emoji/😀']);
        expect(await matched(store, 'température/+/°C')).toEqual(['température/salle/°C']);
        expect(await matched(store, '$aws/things/+')).toEqual(['$aws/things/x']);
        expect(await matched(store, 'emoji/#')).toEqual(['emoji/😀']);
      }));

    it('matches a narrow filter among 5,000 topics', () =>
      withStore(async (store) => {
        const all: string[] = [];
        for (let i = 0; i < 5000; i++) all.push(`site/${i % 50}/dev/${i}/${i % 2 === 0 ? 'temp' : 'hum'}`);
        await putAll(store, all);
        expect(await store.count()).toBe(5000);

        const site7 = all.filter((t) => t.startsWith('site/7/'));
        expect(await matched(store, 'site/7/#')).toEqual([...site7].sort());
        expect(await matched(store, 'site/7/dev/+/temp')).toEqual(site7.filter((t) => t.endsWith('/temp')).sort());
        expect(await matched(store, 'site/+/dev/1234/+')).toEqual(['site/34/dev/1234/temp']);
        expect(await matched(store, 'site/7/dev/1234/temp')).toEqual([]);
        expect(await matched(store, '+/+/+/+/hum')).toHaveLength(2500);
      }));

    it('close resolves, also when called twice', async () => {
      const store = await create();
      await store.put(retained('a'));
      await expect(store.close()).resolves.toBeUndefined();
      await expect(store.close()).resolves.toBeUndefined();
    });
  });
}
