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
