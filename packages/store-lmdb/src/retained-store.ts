import { RetainedIndex, type Message, type RetainedStore } from '@junction/broker-core';
import { decodeMessage, encodeMessage, peekMessage } from './codec.js';
import type { StoreCore, Table } from './core.js';
import { LmdbStoreError } from './errors.js';
import { retainedKey } from './keys.js';

/** What the in-memory index holds per topic: the message itself stays on disk. */
interface Entry {
  readonly key: Buffer;
  /** Key plus value bytes, for the size accounting. */
  readonly size: number;
  readonly expiresAt: number | undefined;
}

/**
 * Retained messages in LMDB, keyed by topic.
 *
 * Wildcard filters are answered from an in-memory {@link RetainedIndex} (a trie of topic
 * levels) built when the store opens: it holds each topic's key, size and expiry, not the
 * message, so `match` walks only the matching branches and then reads just the matching values.
 * (A key layout answering filters with LMDB range reads only works for prefixes: `a/b/#` is a
 * range, but `+/b` or `a/+/c` would scan everything under the first wildcard.)
 *
 * Writes resolve at the store's durability point; they are visible to reads at once.
 */
export class LmdbRetainedStore implements RetainedStore {
  readonly #core: StoreCore;
  readonly #table: Table;
  readonly #index = new RetainedIndex<Entry>();
  /** Topics whose message carries an expiry, so purging does not visit everything. */
  readonly #expiring = new Map<string, number>();
  readonly #release: () => Promise<void>;
  #closed = false;

  /** @internal Use `openLmdbStores`. */
  constructor(core: StoreCore, release: () => Promise<void>) {
    this.#core = core;
    this.#table = core.tables.retained;
    this.#release = release;
    this.#load();
  }

  #load(): void {
    for (const { key, value } of this.#table.db.getRange({})) {
      let meta: { topic: string; expiresAt: number | undefined };
      try {
        meta = peekMessage(value);
      } catch (err) {
        throw this.#core.corrupt('retained', `message under key ${key.toString('hex').slice(0, 64)}`, err);
      }
      const entry: Entry = { key: Buffer.from(key), size: key.length + value.length, expiresAt: meta.expiresAt };
      this.#index.set(meta.topic, entry);
      if (meta.expiresAt !== undefined) this.#expiring.set(meta.topic, meta.expiresAt);
      this.#core.usedBytes += entry.size;
    }
  }

  #check(): void {
    if (this.#closed) throw new LmdbStoreError('closed', this.#core.path, 'the retained store is closed');
    this.#core.check();
  }

  /**
   * Stores or replaces the message of `msg.topic`. Rejects with `quota_exceeded` (nothing
   * changed) when the store would grow past `maxBytes`; a replacement counts the old message as
   * freed, so one no larger than its predecessor is always accepted.
   */
  async put(msg: Message): Promise<void> {
    this.#check();
    const value = encodeMessage(msg);
    const old = this.#index.get(msg.topic);
    const key = old?.key ?? retainedKey(msg.topic);
    const size = key.length + value.length;
    this.#core.reserve(size - (old?.size ?? 0), 'retained message on', msg.topic);
    this.#index.set(msg.topic, { key, size, expiresAt: msg.expiresAt });
    if (msg.expiresAt !== undefined) this.#expiring.set(msg.topic, msg.expiresAt);
    else this.#expiring.delete(msg.topic);
    this.#core.put(this.#table, key, value);
    return this.#core.sync();
  }

  async delete(topic: string): Promise<boolean> {
    this.#check();
    if (!this.#remove(topic)) return false;
    await this.#core.sync();
    return true;
  }

  /** Queues the removal of a topic's message; false if there was none. */
  #remove(topic: string): boolean {
    const entry = this.#index.get(topic);
    if (entry === undefined) return false;
    this.#index.delete(topic);
    this.#expiring.delete(topic);
    this.#core.usedBytes -= entry.size;
    this.#core.remove(this.#table, entry.key);
    return true;
  }

  async get(topic: string): Promise<Message | undefined> {
    this.#check();
    const entry = this.#index.get(topic);
    return entry === undefined ? undefined : this.#read(topic, entry);
  }

  #read(topic: string, entry: Entry): Message {
    const buf = this.#core.read(this.#table, entry.key);
    if (buf === undefined) throw this.#core.corrupt('retained', `index entry without a message for ${JSON.stringify(topic)}`, undefined);
    try {
      return decodeMessage(buf);
    } catch (err) {
      throw this.#core.corrupt('retained', `message for ${JSON.stringify(topic)}`, err);
    }
  }

  /** Expired messages are not returned; they are removed (without waiting for the removal). */
  async match(filter: string, now: number): Promise<Message[]> {
    this.#check();
    const found: [string, Entry][] = [];
    let expired: string[] | undefined;
    this.#index.match(filter, (topic, entry) => {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) (expired ??= []).push(topic);
      else found.push([topic, entry]);
    });
    if (expired !== undefined) {
      for (const topic of expired) this.#remove(topic);
      // Nobody waits for these removals; a failure is reported by the store's next operation.
      this.#core.sync().catch(() => undefined);
    }
    return found.map(([topic, entry]) => this.#read(topic, entry));
  }

  async count(): Promise<number> {
    this.#check();
    return this.#index.size;
  }

  /** Number of retained topics, synchronously. */
  countSync(): number {
    return this.#index.size;
  }

  async purgeExpired(now: number): Promise<number> {
    this.#check();
    let removed = 0;
    for (const [topic, expiresAt] of this.#expiring) {
      // Deleting the current entry while iterating a Map is well defined.
      if (expiresAt <= now && this.#remove(topic)) removed++;
    }
    if (removed > 0) await this.#core.sync();
    return removed;
  }

  /** Resolves once every write so far is flushed to disk. */
  flushed(): Promise<void> {
    this.#check();
    return this.#core.flushed();
  }

  /** Detaches this store; the environment closes once both stores are closed. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#index.clear();
    this.#expiring.clear();
    await this.#release();
  }
}
