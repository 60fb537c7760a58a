import { retainedStoreSuite, sessionStoreSuite } from '@junction/broker-core/testing';
import { afterAll } from 'vitest';
import { openLmdbStores } from '../src/index.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

// Each test gets a fresh environment; closing the store it uses closes the environment too.
retainedStoreSuite('LmdbRetainedStore', async () => {
  const stores = await openLmdbStores({ path: tempDir() });
  await stores.sessions.close();
  return stores.retained;
});

sessionStoreSuite('LmdbSessionStore', async () => {
  const stores = await openLmdbStores({ path: tempDir() });
  await stores.retained.close();
  return stores.sessions;
});

// The same suites in `commit` durability mode.
retainedStoreSuite('LmdbRetainedStore (durability: commit)', async () => {
  const stores = await openLmdbStores({ path: tempDir(), durability: 'commit' });
  await stores.sessions.close();
  return stores.retained;
});

sessionStoreSuite('LmdbSessionStore (durability: commit)', async () => {
  const stores = await openLmdbStores({ path: tempDir(), durability: 'commit' });
  await stores.retained.close();
  return stores.sessions;
});
