import { JunctionError } from '../errors.js';
import type { Message } from '../message.js';
import { RetainedIndex } from '../topic/retained-index.js';
import type { RetainedStore } from './retained-store.js';

export interface MemoryRetainedStoreOptions {
  /** Maximum number of retained topics; a put of a new topic beyond it is refused. Default: unlimited. */
  maxRetained?: number;
}

/**
 * Retained messages in process memory, indexed by a topic trie. Besides the async
 * {@link RetainedStore} API it offers synchronous variants for the broker's hot path.
 */
export class MemoryRetainedStore implements RetainedStore {
  readonly #index = new RetainedIndex<Message>();
  /** Topics whose message carries an expiry, so purging does not scan everything. */
  readonly #expiring = new Map<string, number>();
  readonly #maxRetained: number;

  constructor(opts: MemoryRetainedStoreOptions = {}) {
    const max = opts.maxRetained ?? Infinity;
    if (!(max >= 0)) throw new RangeError(`maxRetained must be a non-negative number, got ${String(opts.maxRetained)}`);
    this.#maxRetained = max;
  }

  /**
   * Synchronous `put`. Throws `JunctionError('quota_exceeded')` when the store is full and the
   * topic has no retained message yet; replacing an existing one is always allowed.
   */
  putSync(msg: Message): void {
    const topic = msg.topic;
    if (this.#index.size >= this.#maxRetained && !this.#index.has(topic)) {
      throw new JunctionError('quota_exceeded', `retained message limit of ${this.#maxRetained} reached`);
    }
    this.#index.set(topic, msg);
    if (msg.expiresAt !== undefined) this.#expiring.set(topic, msg.expiresAt);
    else this.#expiring.delete(topic);
  }

  deleteSync(topic: string): boolean {
    this.#expiring.delete(topic);
    return this.#index.delete(topic);
  }

  getSync(topic: string): Message | undefined {
    return this.#index.get(topic);
  }

  /** Synchronous `match`: expired messages are skipped and removed. */
  matchSync(filter: string, now: number): Message[] {
    const out: Message[] = [];
    let expired: string[] | undefined;
    this.#index.match(filter, (topic, msg) => {
      if (msg.expiresAt !== undefined && msg.expiresAt <= now) (expired ??= []).push(topic);
      else out.push(msg);
    });
    if (expired !== undefined) for (const topic of expired) this.deleteSync(topic);
    return out;
  }

  countSync(): number {
    return this.#index.size;
  }

  purgeExpiredSync(now: number): number {
    let removed = 0;
    for (const [topic, expiresAt] of this.#expiring) {
      if (expiresAt <= now) {
        // Deleting the current entry while iterating a Map is well defined.
        this.#expiring.delete(topic);
        if (this.#index.delete(topic)) removed++;
      }
    }
    return removed;
  }

  async put(msg: Message): Promise<void> {
    this.putSync(msg);
  }

  async delete(topic: string): Promise<boolean> {
    return this.deleteSync(topic);
  }

  async get(topic: string): Promise<Message | undefined> {
    return this.getSync(topic);
  }

  async match(filter: string, now: number): Promise<Message[]> {
    return this.matchSync(filter, now);
  }

  async count(): Promise<number> {
    return this.countSync();
  }

  async purgeExpired(now: number): Promise<number> {
    return this.purgeExpiredSync(now);
  }

  /** Drops everything held in memory. */
  async close(): Promise<void> {
    this.#index.clear();
    this.#expiring.clear();
  }
}
