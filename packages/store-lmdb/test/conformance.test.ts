import type { RecordStore } from '@junction/broker-core';
import { recordStoreSuite, retainedStoreSuite, sessionStoreSuite } from '@junction/broker-core/testing';
import { afterAll } from 'vitest';
import { openLmdbStores } from '../src/index.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

// Each test gets a fresh environment; closing the store it uses closes the environment too.
retainedStoreSuite('LmdbRetainedStore', async () => {
  const stores = await openLmdbStores({ path: tempDir() });
  await Promise.all([stores.sessions.close(), stores.records.close()]);
  return stores.retained;
});

sessionStoreSuite('LmdbSessionStore', async () => {
  const stores = await openLmdbStores({ path: tempDir() });
  await Promise.all([stores.retained.close(), stores.records.close()]);
  return stores.sessions;
});

// The same suites in `commit` durability mode.
retainedStoreSuite('LmdbRetainedStore (durability: commit)', async () => {
  const stores = await openLmdbStores({ path: tempDir(), durability: 'commit' });
  await Promise.all([stores.sessions.close(), stores.records.close()]);
  return stores.retained;
});

sessionStoreSuite('LmdbSessionStore (durability: commit)', async () => {
  const stores = await openLmdbStores({ path: tempDir(), durability: 'commit' });
  await Promise.all([stores.retained.close(), stores.records.close()]);
  return stores.sessions;
});

// Records (bans, users, rules), including a reopen of the same directory.
const recordDirs = new WeakMap<RecordStore, string>();
async function openRecords(path: string): Promise<RecordStore> {
  const stores = await openLmdbStores({ path });
  await Promise.all([stores.retained.close(), stores.sessions.close()]);
  recordDirs.set(stores.records, path);
  return stores.records;
}
recordStoreSuite(
  'LmdbRecordStore',
  () => openRecords(tempDir()),
  async (store) => {
    const path = recordDirs.get(store)!;
    await store.close();
    return openRecords(path);
  },
);
