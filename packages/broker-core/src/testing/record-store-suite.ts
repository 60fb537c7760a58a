/**
 * Conformance suite for {@link RecordStore} implementations. Every store registers it from its own
 * test file: `recordStoreSuite('MemoryRecordStore', () => new MemoryRecordStore());`.
 * `reopen`, when given, closes a store and opens it again on the same data (durable stores).
 */
import { describe, expect, it } from 'vitest';
import type { RecordStore, StoredRecord } from '../store/record-store.js';

function byKey(records: StoredRecord[]): StoredRecord[] {
  return [...records].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function recordStoreSuite(
  name: string,
  create: () => Promise<RecordStore> | RecordStore,
  reopen?: (store: RecordStore) => Promise<RecordStore>,
): void {
  async function withStore(body: (store: RecordStore) => Promise<RecordStore | void>): Promise<void> {
    let store = await create();
    try {
      store = (await body(store)) ?? store;
    } finally {
      await store.close();
    }
  }

  describe(`RecordStore conformance: ${name}`, () => {
    it('puts, gets, replaces and deletes records', () =>
      withStore(async (s) => {
        expect(await s.get('auth.users', 'alice')).toBeUndefined();
        await s.put('auth.users', 'alice', { is_superuser: false, tags: ['a'] });
        expect(await s.get('auth.users', 'alice')).toEqual({ is_superuser: false, tags: ['a'] });
        await s.put('auth.users', 'alice', { is_superuser: true });
        expect(await s.get('auth.users', 'alice')).toEqual({ is_superuser: true });
        expect(await s.delete('auth.users', 'alice')).toBe(true);
        expect(await s.delete('auth.users', 'alice')).toBe(false);
        expect(await s.get('auth.users', 'alice')).toBeUndefined();
      }));

    it('lists one namespace, apart from the others', () =>
      withStore(async (s) => {
        await s.put('auth.users', 'bob', 2);
        await s.put('auth.users', 'alice', 1);
        await s.put('auth.users', 'carol', 3);
        await s.put('auth.banned', 'clientid\u0000bob', { reason: 'x' });
        // A namespace that is a prefix of another must not see its records.
        await s.put('auth', 'users', 'not a user');
        expect(byKey(await s.list('auth.users'))).toEqual([
          { key: 'alice', value: 1 },
          { key: 'bob', value: 2 },
          { key: 'carol', value: 3 },
        ]);
        expect(await s.list('auth.banned')).toEqual([{ key: 'clientid\u0000bob', value: { reason: 'x' } }]);
        expect(await s.list('auth')).toEqual([{ key: 'users', value: 'not a user' }]);
        expect(await s.list('rules')).toEqual([]);
      }));

    it('keeps keys of any characters and long keys apart', () =>
      withStore(async (s) => {
        const long = 'k'.repeat(3000);
        const keys = ['a', 'a\u0000b', 'ä/#/+', '${username}', long, `${long}x`];
        for (const [i, k] of keys.entries()) await s.put('ns', k, i);
        for (const [i, k] of keys.entries()) expect(await s.get('ns', k)).toBe(i);
        expect((await s.list('ns')).map((r) => r.key).sort()).toEqual([...keys].sort());
      }));

    it('clears a namespace only', () =>
      withStore(async (s) => {
        await s.put('a', '1', 1);
        await s.put('a', '2', 2);
        await s.put('b', '1', 1);
        expect(await s.clear('a')).toBe(2);
        expect(await s.list('a')).toEqual([]);
        expect(await s.list('b')).toEqual([{ key: '1', value: 1 }]);
      }));

    it('refuses bad namespaces, keys and values', () =>
      withStore(async (s) => {
        await expect(s.put('', 'k', 1)).rejects.toThrow(TypeError);
        await expect(s.put('Bad Space', 'k', 1)).rejects.toThrow(TypeError);
        await expect(s.put('ns', '', 1)).rejects.toThrow(TypeError);
        await expect(s.put('ns', 'k', undefined)).rejects.toThrow(TypeError);
      }));

    if (reopen) {
      it('keeps records across a reopen', () =>
        withStore(async (s) => {
          await s.put('auth.users', 'alice', { n: 1 });
          await s.put('auth.users', 'bob', { n: 2 });
          await s.delete('auth.users', 'bob');
          const again = await reopen(s);
          expect(byKey(await again.list('auth.users'))).toEqual([{ key: 'alice', value: { n: 1 } }]);
          return again;
        }));
    }
  });
}
