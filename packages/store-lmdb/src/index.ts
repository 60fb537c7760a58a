/**
 * @junction/store-lmdb: Junction's embedded durable store. One LMDB environment holds retained
 * messages and persistent sessions (records, queued and in-flight deliveries, QoS 2 receive
 * state); see README.md for the layout and the durability semantics.
 */
import { StoreCore, type LmdbStoreOptions, type LmdbStoreStats } from './core.js';
import { LmdbStoreError } from './errors.js';
import { LmdbRecordStore } from './record-store.js';
import { LmdbRetainedStore } from './retained-store.js';
import { LmdbSessionStore } from './session-store.js';

export type { Durability, LmdbStoreOptions, LmdbStoreStats } from './core.js';
export { LmdbStoreError, type LmdbStoreErrorReason } from './errors.js';
export { LmdbRecordStore } from './record-store.js';
export { LmdbRetainedStore } from './retained-store.js';
export { LmdbSessionStore, type PurgeResult } from './session-store.js';

/** The stores over one environment. */
export interface LmdbStores {
  readonly retained: LmdbRetainedStore;
  readonly sessions: LmdbSessionStore;
  /** Bans, built-in users, rules: small JSON records by namespace. */
  readonly records: LmdbRecordStore;
  /** The store directory (absolute). */
  readonly path: string;
  /** Resolves once every write issued so far is flushed to disk, whatever the durability mode. */
  flushed(): Promise<void>;
  stats(): LmdbStoreStats;
  /** Waits for pending writes and closes both stores and the environment. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens (or creates) the store in `opts.path`. Rejects with an {@link LmdbStoreError} naming the
 * directory and the cause when it cannot be used: unreadable, corrupt, incompatible, or locked by
 * another process. Loads the indexes of retained topics and of sessions into memory.
 *
 * The environment stays open until every store is closed (each store's `close` detaches it) or
 * `close` is called here.
 */
export async function openLmdbStores(opts: LmdbStoreOptions): Promise<LmdbStores> {
  const core = await StoreCore.open(opts);
  let retained: LmdbRetainedStore | undefined;
  let sessions: LmdbSessionStore | undefined;
  let records: LmdbRecordStore | undefined;
  try {
    let users = 3;
    const release = async (): Promise<void> => {
      if (--users === 0) await core.close();
    };
    try {
      retained = new LmdbRetainedStore(core, release);
      sessions = new LmdbSessionStore(core, release);
      records = new LmdbRecordStore(core, release);
    } catch (err) {
      if (err instanceof LmdbStoreError) throw err;
      throw new LmdbStoreError('corrupt', core.path, 'cannot read the data file', { cause: err });
    }
    await core.initialise();
  } catch (err) {
    await core.close().catch(() => undefined);
    throw err;
  }
  const r = retained;
  const s = sessions;
  const rec = records;
  return {
    retained: r,
    sessions: s,
    records: rec,
    path: core.path,
    flushed: () => core.flushed(),
    stats: () => ({
      usedBytes: core.usedBytes,
      maxBytes: core.maxBytes,
      fileBytes: core.fileBytes(),
      retained: r.countSync(),
      sessions: s.count(),
      deliveries: s.deliveryCount(),
    }),
    close: async () => {
      await Promise.all([r.close(), s.close(), rec.close()]);
      await core.close();
    },
  };
}
export { durableSessionsSchema, type DurableSessionsConfig } from './config.js';
