import { isSysTopic, MemoryRetainedStore, type Logger, type Message, type RetainedStore } from '@junction/broker-core';
import type { KV, KvEntry, QueuedIterator } from 'nats';
import { decodeFrame, encodeFrame, ORIGIN_BYTES } from './frame.js';
import { OwnWrites } from './own-writes.js';

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
  /** Read your own writes: the watch never undoes a local write. */
  private readonly own = new OwnWrites((e) => this.applyEntry(e));

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
      for await (const e of this.watch!) this.own.entry(e);
    })().catch((err) => this.log.error({ err }, 'cluster_retained_watch_failed'));
    await initialized;
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

  private write(key: string, value: Uint8Array): Promise<void> {
    return this.own.write(key, () => this.kv.put(key, value));
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
