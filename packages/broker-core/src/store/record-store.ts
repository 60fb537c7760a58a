/**
 * Small durable records that are not messages: banned clients, built-in users, rules, … Each owner
 * keeps its records in its own namespace (`auth.banned`, `auth.users`, `rules`), as JSON values
 * keyed by a string it chooses. Every implementation (memory, durable, cluster) must pass the
 * conformance suite in `src/testing/record-store-suite.ts`.
 *
 * Owners keep their own in-memory view and write through: `put` and `delete` resolve once the
 * change is durable (per the store's durability), and `list` is read at start.
 */
export interface RecordStore {
  /** Every record of a namespace, in no particular order. */
  list(namespace: string): Promise<StoredRecord[]>;
  get(namespace: string, key: string): Promise<unknown>;
  /** Store or replace a record. `value` must survive `JSON.stringify`/`JSON.parse` unchanged. */
  put(namespace: string, key: string, value: unknown): Promise<void>;
  /** Remove a record; resolves true if it existed. */
  delete(namespace: string, key: string): Promise<boolean>;
  /** Remove every record of a namespace; resolves how many there were. */
  clear(namespace: string): Promise<number>;
  close(): Promise<void>;
  /**
   * Optional change feed, for stores shared by several nodes or processes (the cluster's): `fn`
   * is called for every change of `namespace` made by ANOTHER store instance (another node),
   * never for this instance's own `put`/`delete`/`clear`, so an owner can apply it to its
   * in-memory view without writing it back. `value` undefined: the record was deleted. Changes
   * of one key arrive in the store's order; only the latest state of a key may be delivered
   * when several changes come at once. Changes made after this call are delivered; register it
   * before `list` and apply what arrives during the load afterwards to miss none. Returns a
   * function that stops the feed. Stores without other writers (memory, LMDB) leave it out.
   */
  watch?(namespace: string, fn: (change: RecordChange) => void): () => void;
}

/** A record changed by another node: its new value, or undefined when it was deleted. */
export interface RecordChange {
  readonly key: string;
  readonly value: unknown;
}

export interface StoredRecord {
  readonly key: string;
  readonly value: unknown;
}

/** Namespaces are short ASCII names; keys any non-empty string. Throws a TypeError otherwise. */
export function checkRecordAddress(namespace: string, key?: string): void {
  if (typeof namespace !== 'string' || !/^[a-z][a-z0-9_.-]{0,63}$/.test(namespace)) {
    throw new TypeError(`record namespace must match [a-z][a-z0-9_.-]{0,63}, got ${JSON.stringify(namespace)}`);
  }
  if (key !== undefined && (typeof key !== 'string' || key === '')) throw new TypeError('record key must be a non-empty string');
}
