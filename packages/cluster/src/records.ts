import { createHash } from 'node:crypto';
import { checkRecordAddress, type Logger, type RecordChange, type RecordStore, type StoredRecord } from '@junction/broker-core';
import { headers, KvWatchInclude, type JetStreamClient, type KV, type KvEntry, type QueuedIterator } from 'nats';
import { OwnWrites } from './own-writes.js';

/** Keys whose base64url form is longer than this are stored under their SHA-256 (subjects have a size limit). */
const MAX_PLAIN_KEY = 240;
/** Parallel reads of one `list`. */
const LIST_BATCH = 64;

/** What a KV value holds: the record's key (the KV key may be a hash of it) and its value. */
interface Envelope {
  k: string;
  v?: unknown;
}

/**
 * KV key of a record: `{namespace with "/" for "."}.{token}`, the token `k` + the key in
 * base64url, or `h` + its SHA-256 for long keys. One token after the namespace, so `auth.*`
 * never lists `auth/users.*`.
 */
export function recordKey(namespace: string, key: string): string {
  const plain = Buffer.from(key, 'utf8').toString('base64url');
  const token = plain.length <= MAX_PLAIN_KEY ? `k${plain}` : `h${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
  return `${namespace.replaceAll('.', '/')}.${token}`;
}

/**
 * {@link RecordStore} for a cluster: every node reads and writes one JetStream KV bucket, so
 * banned clients, built-in users and rules are the same on every node. `get` and `list` read
 * the KV (records are control-plane data, read at start), `put` and `delete` resolve once the
 * KV acknowledged them.
 *
 * The change feed (`watch`) follows the bucket and tells owners about other nodes' changes only:
 * this store's own writes are recognised by their KV revision (as in the retained store: an
 * entry of a key with a write in flight waits for it, and entries up to this node's last write
 * of the key are its own or superseded by it).
 */
export class ClusterRecordStore implements RecordStore {
  private watcher: QueuedIterator<KvEntry> | undefined;
  private readonly listeners = new Map<string, Set<(change: RecordChange) => void>>();
  private readonly own = new OwnWrites((e) => this.entry(e));
  private closed = false;

  private constructor(
    private readonly kv: KV,
    private readonly js: JetStreamClient,
    private readonly bucket: string,
    private readonly log: Logger,
  ) {}

  /** A store over `kv` (the bucket named `bucket`), following its changes from now on. */
  static async open(kv: KV, js: JetStreamClient, bucket: string, log: Logger): Promise<ClusterRecordStore> {
    const store = new ClusterRecordStore(kv, js, bucket, log);
    store.watcher = await kv.watch({ key: '>', include: KvWatchInclude.UpdatesOnly });
    const it = store.watcher;
    void (async () => {
      for await (const e of it) store.own.entry(e);
    })().catch((err) => {
      if (!store.closed) log.error({ err }, 'cluster_records_watch_failed');
    });
    return store;
  }

  async list(namespace: string): Promise<StoredRecord[]> {
    checkRecordAddress(namespace);
    const keys: string[] = [];
    for await (const k of await this.kv.keys(`${namespace.replaceAll('.', '/')}.*`)) keys.push(k);
    const out: StoredRecord[] = [];
    for (let i = 0; i < keys.length; i += LIST_BATCH) {
      const entries = await Promise.all(keys.slice(i, i + LIST_BATCH).map((k) => this.kv.get(k)));
      for (const e of entries) {
        const env = e?.operation === 'PUT' ? this.envelope(e) : undefined;
        if (env && 'v' in env) out.push({ key: env.k, value: env.v });
      }
    }
    return out;
  }

  async get(namespace: string, key: string): Promise<unknown> {
    checkRecordAddress(namespace, key);
    const e = await this.kv.get(recordKey(namespace, key));
    const env = e?.operation === 'PUT' ? this.envelope(e) : undefined;
    return env?.k === key ? env.v : undefined;
  }

  async put(namespace: string, key: string, value: unknown): Promise<void> {
    checkRecordAddress(namespace, key);
    if (JSON.stringify(value) === undefined) throw new TypeError('record value must be JSON');
    const kk = recordKey(namespace, key);
    const data = Buffer.from(JSON.stringify({ k: key, v: value } satisfies Envelope));
    await this.own.write(kk, () => this.kv.put(kk, data));
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    if ((await this.get(namespace, key)) === undefined) return false;
    const kk = recordKey(namespace, key);
    // A KV delete marker, with the record's key as its body (a hashed KV key cannot be decoded).
    const h = headers();
    h.set('KV-Operation', 'DEL');
    const body = Buffer.from(JSON.stringify({ k: key } satisfies Envelope));
    await this.own.write(kk, async () => (await this.js.publish(this.editSubject(kk), body, { headers: h })).seq);
    return true;
  }

  /**
   * The subject a write of `kk` is published to: `$KV.{bucket}.{key}`, behind the JetStream API
   * prefix when the KV is reached through a domain (as the NATS client's own KV writes do).
   */
  private editSubject(kk: string): string {
    const kv = this.kv as KV & { subjectForKey?: (key: string, edit?: boolean) => string };
    return typeof kv.subjectForKey === 'function' ? kv.subjectForKey(kk, true) : `$KV.${this.bucket}.${kk}`;
  }

  async clear(namespace: string): Promise<number> {
    const records = await this.list(namespace);
    let n = 0;
    for (const r of records) if (await this.delete(namespace, r.key)) n++;
    return n;
  }

  watch(namespace: string, fn: (change: RecordChange) => void): () => void {
    checkRecordAddress(namespace);
    let set = this.listeners.get(namespace);
    if (!set) this.listeners.set(namespace, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /** Stops the change feed; the KV keeps the records (the node owns the NATS connection). */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.watcher?.stop();
    this.watcher = undefined;
  }

  /** A change from another node (own writes are filtered out by `own`): to the listeners. */
  private entry(e: KvEntry): void {
    const dot = e.key.indexOf('.');
    const set = dot > 0 ? this.listeners.get(e.key.slice(0, dot).replaceAll('/', '.')) : undefined;
    if (!set || set.size === 0) return;
    const change = this.change(e);
    if (!change) return;
    for (const fn of [...set]) {
      try {
        fn(change);
      } catch (err) {
        this.log.error({ err, key: change.key }, 'cluster_records_listener_failed');
      }
    }
  }

  private change(e: KvEntry): RecordChange | undefined {
    if (e.operation === 'PUT') {
      const env = this.envelope(e);
      return env && 'v' in env ? { key: env.k, value: env.v } : undefined;
    }
    // A delete: ours carry the key; a bare one (another tool) only when the KV key is not a hash.
    const token = e.key.slice(e.key.indexOf('.') + 1);
    const env = e.value.length > 0 ? this.envelope(e) : undefined;
    if (env) return { key: env.k, value: undefined };
    if (token.startsWith('k')) return { key: Buffer.from(token.slice(1), 'base64url').toString('utf8'), value: undefined };
    this.log.warn({ key: e.key }, 'cluster_records_entry_invalid');
    return undefined;
  }

  private envelope(e: KvEntry): Envelope | undefined {
    try {
      const env = JSON.parse(Buffer.from(e.value).toString('utf8')) as Envelope;
      if (typeof env?.k === 'string') return env;
    } catch {
      // below
    }
    this.log.warn({ key: e.key }, 'cluster_records_entry_invalid');
    return undefined;
  }
}
