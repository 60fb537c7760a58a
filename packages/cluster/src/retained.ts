import { isSysTopic, MemoryRetainedStore, type Logger, type Message, type RetainedStore } from '@junction/broker-core';
import type { KV, KvEntry, QueuedIterator } from 'nats';
import { decodeFrame, encodeFrame, ORIGIN_BYTES } from './frame.js';

const NO_ORIGIN = Buffer.alloc(ORIGIN_BYTES);
const EMPTY = new Uint8Array(0);

/** KV keys allow `[-/_=.a-zA-Z0-9]`: the topic in base64url. */
export function retainedKey(topic: string): string {
  return Buffer.from(topic, 'utf8').toString('base64url');
}

/**
 * Retained messages shared by every node: JetStream KV holds them (one key per topic, the value
 * a message frame), and each node keeps an in-memory mirror fed by a KV watch, so SUBSCRIBE
 * matches locally. A write lands in the local mirror at once and on the other nodes when the
 * watch brings it (eventually consistent, in KV order: the last write of a topic wins).
 * Retained `$SYS/` messages stay in the local mirror only: `$SYS` is per node.
 */
export class ClusterRetainedStore implements RetainedStore {
  private readonly mirror: MemoryRetainedStore;
  private watch: QueuedIterator<KvEntry> | undefined;
  /** Local writes of a key not yet acknowledged by the KV: the watch must not undo them. */
  private readonly dirty = new Map<string, number>();
  /** The last watch entry of a dirty key, applied after the local write if it is newer. */
  private readonly deferred = new Map<string, KvEntry>();
  /** Revision of this node's last acknowledged write of a key, until the watch reaches it. */
  private readonly floor = new Map<string, number>();

  constructor(
    private readonly kv: KV,
    private readonly log: Logger,
    opts: { maxRetained?: number } = {},
  ) {
    this.mirror = new MemoryRetainedStore({ maxRetained: opts.maxRetained });
  }

  /** Load every retained message and follow changes; resolves once the mirror is complete. */
  async start(): Promise<void> {
    let ready!: () => void;
    const initialized = new Promise<void>((r) => (ready = r));
    this.watch = await this.kv.watch({ key: '>', initializedFn: () => ready() });
    void (async () => {
      for await (const e of this.watch!) this.apply(e);
    })().catch((err) => this.log.error({ err }, 'cluster_retained_watch_failed'));
    await initialized;
  }

  /** A watch entry: applied unless a local write of the key is newer (read your own writes). */
  private apply(e: KvEntry): void {
    if (this.dirty.has(e.key)) {
      this.deferred.set(e.key, e);
      return;
    }
    const floor = this.floor.get(e.key);
    if (floor !== undefined) {
      if (e.revision < floor) return;
      this.floor.delete(e.key);
      if (e.revision === floor) return; // this node's own write coming back
    }
    this.applyEntry(e);
  }

  private applyEntry(e: KvEntry): void {
    try {
      // An empty value is a removed retained message (a put, so that it has a revision).
      if (e.operation === 'PUT' && e.value.length > 0) void this.mirror.put(decodeFrame(e.value).message);
      else void this.mirror.delete(Buffer.from(e.key, 'base64url').toString('utf8'));
    } catch (err) {
      this.log.warn({ err, key: e.key }, 'cluster_retained_entry_invalid');
    }
  }

  async put(msg: Message): Promise<void> {
    await this.mirror.put(msg);
    // `$SYS/` stays on its node, retained ones too.
    if (isSysTopic(msg.topic)) return;
    await this.write(retainedKey(msg.topic), encodeFrame(msg, NO_ORIGIN, 0));
  }

  async delete(topic: string): Promise<boolean> {
    const had = await this.mirror.delete(topic);
    if (isSysTopic(topic)) return had;
    await this.write(retainedKey(topic), EMPTY);
    return had;
  }

  private async write(key: string, value: Uint8Array): Promise<void> {
    this.dirty.set(key, (this.dirty.get(key) ?? 0) + 1);
    let revision = 0;
    try {
      revision = await this.kv.put(key, value);
    } finally {
      const left = this.dirty.get(key)! - 1;
      if (left > 0) this.dirty.set(key, left);
      else this.dirty.delete(key);
      if (revision > (this.floor.get(key) ?? 0)) this.floor.set(key, revision);
      if (left === 0) {
        const e = this.deferred.get(key);
        this.deferred.delete(key);
        if (e) this.apply(e);
      }
    }
  }

  get(topic: string): Promise<Message | undefined> {
    return this.mirror.get(topic);
  }

  match(filter: string, now: number): Promise<Message[]> {
    return this.mirror.match(filter, now);
  }

  count(): Promise<number> {
    return this.mirror.count();
  }

  purgeExpired(now: number): Promise<number> {
    return this.mirror.purgeExpired(now);
  }

  /** Stops following the KV; the KV keeps the messages. */
  async close(): Promise<void> {
    this.watch?.stop();
    this.watch = undefined;
    await this.mirror.close();
  }
}
