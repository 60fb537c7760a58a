import { createHash } from 'node:crypto';
import { checkRecordAddress, type RecordStore, type StoredRecord } from '@junction/broker-core';
import type { StoreCore, Table } from './core.js';
import { LmdbStoreError } from './errors.js';

/** Keys longer than this (in UTF-8 bytes) are stored under their SHA-256 (LMDB keys are bounded). */
const MAX_PLAIN_KEY = 1000;
const HASHED = 0xff;

/**
 * Small JSON records (bans, users, rules) in the `records` table:
 *
 * ```text
 * records  [ns length u8][ns ASCII][key UTF-8]            keys of up to 1,000 bytes
 *          [ns length u8][ns ASCII][0xFF][SHA-256 of key] longer ones
 *          -> JSON of [key, value]
 * ```
 *
 * The namespace is length-prefixed, so `auth` never sees the records of `auth.users`; the value
 * carries the key, so hashed keys are listed as they were given. Records are always accepted, even
 * past `maxBytes` (they are operator data, not traffic), and counted in the size.
 */
export class LmdbRecordStore implements RecordStore {
  readonly #core: StoreCore;
  readonly #table: Table;
  readonly #release: () => Promise<void>;
  #closed = false;

  /** @internal Use `openLmdbStores`. */
  constructor(core: StoreCore, release: () => Promise<void>) {
    this.#core = core;
    this.#table = core.tables.records;
    this.#release = release;
    for (const { key, value } of this.#table.db.getRange({})) core.usedBytes += key.length + value.length;
  }

  async list(namespace: string): Promise<StoredRecord[]> {
    this.#check();
    checkRecordAddress(namespace);
    // Range reads do not see queued writes: wait for them first.
    await this.#core.sync();
    const prefix = namespacePrefix(namespace);
    // Namespaces are ASCII: bumping the last byte of the prefix bounds exactly its keys.
    const end = Buffer.from(prefix);
    end[end.length - 1]! += 1;
    const out: StoredRecord[] = [];
    for (const { key, value } of this.#table.db.getRange({ start: prefix, end })) out.push(this.#decode(key, value));
    return out;
  }

  async get(namespace: string, key: string): Promise<unknown> {
    this.#check();
    checkRecordAddress(namespace, key);
    const k = recordKey(namespace, key);
    const buf = this.#core.read(this.#table, k);
    return buf === undefined ? undefined : this.#decode(k, buf).value;
  }

  async put(namespace: string, key: string, value: unknown): Promise<void> {
    this.#check();
    checkRecordAddress(namespace, key);
    const json = JSON.stringify([key, value]);
    if (value === undefined || json === undefined) throw new TypeError('record value must be JSON');
    const k = recordKey(namespace, key);
    const v = Buffer.from(json, 'utf8');
    const old = this.#core.read(this.#table, k);
    this.#core.usedBytes += k.length + v.length - (old === undefined ? 0 : k.length + old.length);
    this.#core.put(this.#table, k, v);
    await this.#core.sync();
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    this.#check();
    checkRecordAddress(namespace, key);
    const k = recordKey(namespace, key);
    const old = this.#core.read(this.#table, k);
    if (old === undefined) return false;
    this.#core.usedBytes -= k.length + old.length;
    this.#core.remove(this.#table, k);
    await this.#core.sync();
    return true;
  }

  async clear(namespace: string): Promise<number> {
    const records = await this.list(namespace);
    for (const r of records) {
      const k = recordKey(namespace, r.key);
      const old = this.#core.read(this.#table, k);
      if (old !== undefined) this.#core.usedBytes -= k.length + old.length;
      this.#core.remove(this.#table, k);
    }
    await this.#core.sync();
    return records.length;
  }

  /** Detaches this store; the environment closes once every store is closed. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#release();
  }

  #check(): void {
    if (this.#closed) throw new LmdbStoreError('closed', this.#core.path, 'the record store is closed');
    this.#core.check();
  }

  #decode(key: Buffer, value: Buffer): StoredRecord {
    try {
      const parsed = JSON.parse(value.toString('utf8')) as unknown;
      if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string') throw new Error('not a [key, value] pair');
      return { key: parsed[0], value: parsed[1] as unknown };
    } catch (err) {
      throw this.#core.corrupt('records', `record under key ${key.toString('hex').slice(0, 64)}`, err);
    }
  }
}

function namespacePrefix(namespace: string): Buffer {
  const ns = Buffer.from(namespace, 'ascii');
  const out = Buffer.allocUnsafe(1 + ns.length);
  out[0] = ns.length;
  ns.copy(out, 1);
  return out;
}

function recordKey(namespace: string, key: string): Buffer {
  const prefix = namespacePrefix(namespace);
  const utf8 = Buffer.from(key, 'utf8');
  if (utf8.length <= MAX_PLAIN_KEY) return Buffer.concat([prefix, utf8]);
  return Buffer.concat([prefix, Buffer.of(HASHED), createHash('sha256').update(utf8).digest()]);
}
