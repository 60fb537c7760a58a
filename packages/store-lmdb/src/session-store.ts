import type { SessionStore, StoredDelivery, StoredSession } from '@junction/broker-core';
import { decodeDelivery, decodeInflight, decodeSession, decodeTime, encodeDelivery, encodeSession, encodeTime, peekDelivery, withBinding, writeU64 } from './codec.js';
import type { QueuedWrite, StoreCore, StoreWrite, Table, TableName } from './core.js';
import { LmdbStoreError } from './errors.js';
import { checkPacketId, clientIdOfKey, clientKey, isHashedClientKey, packetIdKey, readPacketIdSuffix, readSeqSuffix, seqKey, splitKey } from './keys.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NEVER_EXPIRES = 0xffffffff;
/** Bytes of an awaiting-rel value (time). */
const REL_VALUE = 8;
/**
 * Encoded deliveries kept in memory once committed, all sessions together, so that marking one
 * in flight (which rewrites its record with the packet id) does not read it back from disk. Beyond
 * this they are read back. Records not committed yet are always kept: reads must see them.
 */
const CACHE_BYTES = 4 * 1024 * 1024;
/**
 * A QoS 1 delivery's in-flight state is written behind by up to this long: one acknowledged
 * sooner (the common case) never has it written, its record is just removed.
 */
const WRITE_BEHIND_MS = 5;

function noop(): void {}

/** In-memory index entry of one stored delivery; its message stays on disk. */
class DeliveryEntry {
  /** 0 while queued. */
  packetId = 0;
  released = false;
  /** The record as last written: while its commit is pending, then while the cache has room. */
  value: Buffer | undefined = undefined;
  /** Its packet id is not written yet (see WRITE_BEHIND_MS). */
  behind = false;
  /** The last write of its record while LMDB has not committed it (replaced or cancelled while
   * still queued). */
  write: QueuedWrite | undefined = undefined;
  /** Its key may exist in LMDB (a removal must be written). */
  onDisk = false;
  constructor(
    /** Key plus value bytes. */
    public size: number,
    /** The message's expiresAt; NaN when it never expires. */
    readonly expiresAt: number,
    readonly qos: number,
  ) {}
}

/** Everything indexed for one client id; a record is optional (deliveries may come first). */
class ClientState {
  /** By sequence number; sequence numbers only grow, so insertion order is delivery order. */
  readonly deliveries = new Map<number, DeliveryEntry>();
  /** Packet id to sequence number. */
  readonly inflight = new Map<number, number>();
  /** Inbound QoS 2 packet id to receive time. */
  readonly awaitingRel = new Map<number, number>();
  hasRecord = false;
  recordSize = 0;
  /** When the session expires (ms), Infinity while connected or for a never-expiring session. */
  expireAt = Infinity;
  hasWill = false;
  #seqKey: Buffer | undefined;
  constructor(
    readonly id: string,
    readonly key: Buffer,
  ) {}

  /**
   * The key of delivery `seq`, in a buffer reused by the next call: LMDB copies a key when a write
   * is queued or a read made, so the hot path allocates none.
   */
  seqKey(seq: number): Buffer {
    const k = (this.#seqKey ??= seqKey(this.key, 0));
    writeU64(k, this.key.length, seq);
    return k;
  }
}

/** What `purgeExpired` removed. */
export interface PurgeResult {
  /** Expired sessions removed with their deliveries and QoS 2 state. */
  sessions: number;
  /** Queued (never sent) deliveries whose message expired. */
  deliveries: number;
}

/**
 * Sessions, their outgoing deliveries and their inbound QoS 2 state in LMDB.
 *
 * An in-memory index (per client: sequence numbers with packet id and release state, packet ids,
 * awaiting-rel ids, record size and expiry) is built when the store opens and answers every
 * decision; LMDB holds the records and messages, read back only by `get`, `list` and
 * `deliveries`. Semantics match `MemorySessionStore` (the reference implementation), with these
 * differences:
 * - sequence numbers come from one counter for the whole store (increasing per session, never
 *   reused, also across `delete` and restarts);
 * - a delivery's `released: false` is not kept (it reads back as absent).
 *
 * A delivery is one record: its packet id and release state are part of it, so marking it in
 * flight rewrites the record and completing it is one removal. (Stores written by earlier
 * versions kept them in the `inflight` table; they are moved into the records on open.)
 *
 * Every write resolves at the store's durability point. Writes are applied in call order, each
 * one visible to reads at once: callers need not wait for one write before issuing the next, and
 * a resolved promise means that write and every earlier one are durable.
 */
export class LmdbSessionStore implements SessionStore {
  readonly #core: StoreCore;
  readonly #sessions: Table;
  readonly #deliveries: Table;
  readonly #inflight: Table;
  readonly #rel: Table;
  readonly #names: Table;
  readonly #clients = new Map<string, ClientState>();
  readonly #release: () => Promise<void>;
  #deliveryCount = 0;
  /** Bytes of the `value` of all delivery entries. */
  #cachedBytes = 0;
  /** Deliveries whose in-flight state is written behind: (client, seq, entry) triples. */
  #behind: (ClientState | number | DeliveryEntry)[] = [];
  #behindTimer: NodeJS.Timeout | undefined;
  /** Delivery records written in the current transaction: (entry, value) pairs. */
  #batch: { write: StoreWrite; items: (DeliveryEntry | Buffer)[] } | undefined;
  #closed = false;

  /** @internal Use `openLmdbStores`. */
  constructor(core: StoreCore, release: () => Promise<void>) {
    this.#core = core;
    this.#sessions = core.tables.sessions;
    this.#deliveries = core.tables.deliveries;
    this.#inflight = core.tables.inflight;
    this.#rel = core.tables.awaiting_rel;
    this.#names = core.tables.client_names;
    this.#release = release;
    this.#load();
  }

  // --- Loading ---------------------------------------------------------------------------------

  #load(): void {
    const core = this.#core;
    const names = new Map<string, string>();
    for (const { key, value } of this.#names.db.getRange({})) {
      names.set(key.toString('latin1'), value.toString('utf8'));
      core.usedBytes += key.length + value.length;
    }
    const byKey = new Map<string, ClientState>();
    const stateOf = (client: Buffer, table: TableName): ClientState => {
      const k = client.toString('latin1');
      let st = byKey.get(k);
      if (st === undefined) {
        const id = isHashedClientKey(client) ? names.get(k) : clientIdOfKey(client);
        if (id === undefined) throw core.corrupt(table, `entry of an unknown long client id (key ${client.toString('hex')})`, undefined);
        st = new ClientState(id, client);
        byKey.set(k, st);
        this.#clients.set(id, st);
      }
      return st;
    };
    const guard = <T>(table: TableName, key: Buffer, f: () => T): T => {
      try {
        return f();
      } catch (err) {
        if (err instanceof LmdbStoreError) throw err;
        throw core.corrupt(table, `entry ${key.toString('hex').slice(0, 80)}`, err);
      }
    };

    for (const { key, value } of this.#sessions.db.getRange({})) {
      guard('sessions', key, () => {
        const record = decodeSession(value);
        const st = stateOf(Buffer.from(key), 'sessions');
        if (st.id !== record.clientId) throw new Error(`record of ${JSON.stringify(record.clientId)} under the key of ${JSON.stringify(st.id)}`);
        this.#setRecord(st, record, key.length + value.length);
        core.usedBytes += st.recordSize;
      });
    }
    /** Entries whose record must be rewritten with their binding as indexed. */
    const fix = new Map<DeliveryEntry, { st: ClientState; seq: number }>();
    /** Points `packetId` at `seq`; a delivery holding it before goes back to the queue. */
    const bind = (st: ClientState, seq: number, entry: DeliveryEntry, packetId: number, released: boolean): void => {
      const holder = st.inflight.get(packetId);
      if (holder !== undefined && holder !== seq) {
        const other = st.deliveries.get(holder)!;
        other.packetId = 0;
        other.released = false;
        fix.set(other, { st, seq: holder });
      }
      if (entry.packetId !== 0 && entry.packetId !== packetId && st.inflight.get(entry.packetId) === seq) st.inflight.delete(entry.packetId);
      st.inflight.set(packetId, seq);
      entry.packetId = packetId;
      entry.released = released;
    };
    for (const { key, value } of this.#deliveries.db.getRange({})) {
      guard('deliveries', key, () => {
        const { client, rest } = splitKey(key, 8);
        const seq = readSeqSuffix(key, rest);
        const st = stateOf(client, 'deliveries');
        const peek = peekDelivery(value);
        const entry = new DeliveryEntry(key.length + value.length, peek.expiresAt ?? NaN, peek.qos);
        entry.onDisk = true;
        st.deliveries.set(seq, entry);
        // In key order: when two records claim one packet id, the later one was bound last.
        if (peek.packetId !== 0) bind(st, seq, entry, peek.packetId, peek.released);
        this.#deliveryCount++;
        core.usedBytes += entry.size;
        core.seenSeq(seq);
      });
    }
    // Packet ids kept apart by earlier versions: moved into the delivery records.
    for (const { key, value } of this.#inflight.db.getRange({})) {
      guard('inflight', key, () => {
        const { client, rest } = splitKey(key, 2);
        const packetId = readPacketIdSuffix(key, rest);
        const { seq, released } = decodeInflight(value);
        const st = stateOf(client, 'inflight');
        const entry = st.deliveries.get(seq);
        // A marker without its delivery (left by a crash between the two) is dropped.
        if (entry !== undefined) {
          bind(st, seq, entry, packetId, released);
          fix.set(entry, { st, seq });
        }
        core.remove(this.#inflight, Buffer.from(key));
      });
    }
    for (const [entry, { st, seq }] of fix) {
      if (st.deliveries.get(seq) === entry) this.#rewrite(st, seq, entry);
    }
    for (const { key, value } of this.#rel.db.getRange({})) {
      guard('awaiting_rel', key, () => {
        const { client, rest } = splitKey(key, 2);
        stateOf(client, 'awaiting_rel').awaitingRel.set(readPacketIdSuffix(key, rest), decodeTime(value));
        core.usedBytes += key.length + value.length;
      });
    }
    core.sync().catch(() => undefined);
  }

  // --- Helpers -------------------------------------------------------------------------------

  #check(): void {
    if (this.#closed) throw new LmdbStoreError('closed', this.#core.path, 'the session store is closed');
    this.#core.check();
  }

  /** The state of a client id, created (with its name entry for a long id) if missing. */
  #state(clientId: string): ClientState {
    let st = this.#clients.get(clientId);
    if (st === undefined) {
      if (typeof clientId !== 'string') throw new TypeError('clientId must be a string');
      st = new ClientState(clientId, clientKey(clientId));
      this.#clients.set(clientId, st);
      if (isHashedClientKey(st.key)) {
        const name = Buffer.from(clientId, 'utf8');
        this.#core.usedBytes += st.key.length + name.length;
        this.#core.put(this.#names, st.key, name);
      }
    }
    return st;
  }

  #setRecord(st: ClientState, record: StoredSession, size: number): void {
    st.hasRecord = true;
    st.recordSize = size;
    st.hasWill = record.pendingWill !== undefined;
    st.expireAt =
      record.disconnectedAt === undefined || record.expiryInterval === NEVER_EXPIRES ? Infinity : record.disconnectedAt + record.expiryInterval * 1000;
  }

  #readRecord(st: ClientState): StoredSession {
    const buf = this.#core.read(this.#sessions, st.key);
    if (buf === undefined) throw this.#core.corrupt('sessions', `missing record of ${JSON.stringify(st.id)}`, undefined);
    try {
      return decodeSession(buf);
    } catch (err) {
      throw this.#core.corrupt('sessions', `record of ${JSON.stringify(st.id)}`, err);
    }
  }

  /**
   * Writes a delivery record and keeps it in memory (reads must see it before it commits). A
   * write of it still queued is replaced: one LMDB write for an append and its in-flight mark.
   */
  #putDelivery(st: ClientState, seq: number, entry: DeliveryEntry, value: Buffer): void {
    const core = this.#core;
    let w = entry.write;
    if (w !== undefined && !w.issued) core.replace(w, value);
    else {
      if (w !== undefined) entry.onDisk = true;
      w = entry.write = core.queue(this.#deliveries, st.key, seq, value, !entry.onDisk);
    }
    const write = w.batch.committed;
    if (entry.value !== undefined) this.#cachedBytes -= entry.value.length;
    entry.value = value;
    this.#cachedBytes += value.length;
    // Records of one transaction share its promise: one callback per transaction.
    let batch = this.#batch;
    if (batch === undefined || batch.write !== write) {
      const items: (DeliveryEntry | Buffer)[] = [];
      batch = this.#batch = { write, items };
      write.then(() => this.#committed(items), noop); // a failure is reported through sync()
    }
    batch.items.push(entry, value);
  }

  /** Records of a committed transaction: readable from disk now, kept while the cache has room. */
  #committed(items: (DeliveryEntry | Buffer)[]): void {
    for (let i = 0; i < items.length; i += 2) {
      const entry = items[i] as DeliveryEntry;
      if (entry.write?.issued === true) {
        entry.write = undefined;
        entry.onDisk = true;
      }
    }
    for (let i = 0; i < items.length && this.#cachedBytes > CACHE_BYTES; i += 2) {
      const entry = items[i] as DeliveryEntry;
      const value = items[i + 1] as Buffer;
      if (entry.value === value) {
        entry.value = undefined;
        this.#cachedBytes -= value.length;
      }
    }
  }

  /** A delivery's record rewritten with another packet id and release state. */
  #withBinding(st: ClientState, seq: number, entry: DeliveryEntry, packetId: number, released: boolean): Buffer {
    // A record still in memory is the one this store wrote: its checksum need not be checked.
    const cached = entry.value;
    const value = cached ?? this.#core.read(this.#deliveries, st.seqKey(seq));
    if (value === undefined) throw this.#core.corrupt('deliveries', `missing delivery ${seq} of ${JSON.stringify(st.id)}`, undefined);
    try {
      return withBinding(value, packetId, released, cached !== undefined);
    } catch (err) {
      throw this.#core.corrupt('deliveries', `delivery ${seq} of ${JSON.stringify(st.id)}`, err);
    }
  }

  /** Queues the rewrite of a delivery's record with its binding as indexed. */
  #rewrite(st: ClientState, seq: number, entry: DeliveryEntry): void {
    this.#store(st, seq, entry, this.#withBinding(st, seq, entry, entry.packetId, entry.released));
  }

  #store(st: ClientState, seq: number, entry: DeliveryEntry, value: Buffer): void {
    entry.behind = false;
    const size = st.key.length + 8 + value.length;
    this.#core.usedBytes += size - entry.size;
    entry.size = size;
    this.#putDelivery(st, seq, entry, value);
  }

  /**
   * Points `packetId` at `seq` (rewriting its record), returning any other delivery holding it to
   * the queue (rewriting that one too).
   */
  #bind(st: ClientState, seq: number, entry: DeliveryEntry, packetId: number, released: boolean): void {
    this.#flushBehind();
    const holder = st.inflight.get(packetId);
    const other = holder !== undefined && holder !== seq ? st.deliveries.get(holder) : undefined;
    // Both records are made before anything changes: a damaged one leaves the index as it was.
    const value = this.#withBinding(st, seq, entry, packetId, released);
    const otherValue = other !== undefined ? this.#withBinding(st, holder!, other, 0, false) : undefined;
    if (entry.packetId !== 0 && entry.packetId !== packetId && st.inflight.get(entry.packetId) === seq) st.inflight.delete(entry.packetId);
    st.inflight.set(packetId, seq);
    entry.packetId = packetId;
    entry.released = released;
    if (other !== undefined) {
      other.packetId = 0;
      other.released = false;
      this.#store(st, holder!, other, otherValue!);
    }
    this.#store(st, seq, entry, value);
  }

  /** Queues the removal of a delivery (its packet id goes with it). */
  #drop(st: ClientState, seq: number, entry: DeliveryEntry): void {
    const core = this.#core;
    if (entry.packetId !== 0 && st.inflight.get(entry.packetId) === seq) st.inflight.delete(entry.packetId);
    st.deliveries.delete(seq);
    this.#deliveryCount--;
    if (entry.value !== undefined) {
      this.#cachedBytes -= entry.value.length;
      entry.value = undefined;
    }
    this.#removeRecord(st, seq, entry);
    core.usedBytes -= entry.size;
  }

  /** Queues the removal of a delivery's record; one that never reached LMDB is just not written. */
  #removeRecord(st: ClientState, seq: number, entry: DeliveryEntry): void {
    const core = this.#core;
    const w = entry.write;
    entry.write = undefined;
    if (w !== undefined && !w.issued) {
      if (w.fresh) core.cancel(w);
      else core.replace(w, undefined);
    } else core.queue(this.#deliveries, st.key, seq, undefined, false);
  }

  /** Queues the removal of everything of a client; true if it had a record. */
  #deleteState(st: ClientState): boolean {
    const core = this.#core;
    this.#clients.delete(st.id);
    for (const [seq, entry] of st.deliveries) {
      this.#removeRecord(st, seq, entry);
      core.usedBytes -= entry.size;
      if (entry.value !== undefined) {
        this.#cachedBytes -= entry.value.length;
        entry.value = undefined;
      }
    }
    this.#deliveryCount -= st.deliveries.size;
    for (const packetId of st.awaitingRel.keys()) {
      core.remove(this.#rel, packetIdKey(st.key, packetId));
      core.usedBytes -= st.key.length + 2 + REL_VALUE;
    }
    if (st.hasRecord) {
      core.remove(this.#sessions, st.key);
      core.usedBytes -= st.recordSize;
    }
    if (isHashedClientKey(st.key)) {
      core.remove(this.#names, st.key);
      core.usedBytes -= st.key.length + Buffer.byteLength(st.id, 'utf8');
    }
    return st.hasRecord;
  }

  // --- Records -------------------------------------------------------------------------------

  async get(clientId: string): Promise<StoredSession | undefined> {
    this.#check();
    const st = this.#clients.get(clientId);
    return st?.hasRecord ? this.#readRecord(st) : undefined;
  }

  async put(session: StoredSession): Promise<void> {
    this.#check();
    const value = encodeSession(session);
    const st = this.#state(session.clientId);
    const size = st.key.length + value.length;
    this.#core.usedBytes += size - (st.hasRecord ? st.recordSize : 0);
    this.#setRecord(st, session, size);
    this.#core.put(this.#sessions, st.key, value);
    return this.#core.sync();
  }

  async delete(clientId: string): Promise<boolean> {
    this.#check();
    const st = this.#clients.get(clientId);
    if (st === undefined) return false;
    const existed = this.#deleteState(st);
    await this.#core.sync();
    return existed;
  }

  async *list(): AsyncIterable<StoredSession> {
    this.#check();
    // Snapshot first: the caller may change the store between iterations.
    const states = [...this.#clients.values()].filter((st) => st.hasRecord);
    for (const st of states) {
      if (st.hasRecord && this.#clients.get(st.id) === st) yield this.#readRecord(st);
    }
  }

  /** Number of stored session records. */
  count(): number {
    let n = 0;
    for (const st of this.#clients.values()) if (st.hasRecord) n++;
    return n;
  }

  /** Number of stored deliveries, all sessions together. */
  deliveryCount(): number {
    return this.#deliveryCount;
  }

  // --- Deliveries ----------------------------------------------------------------------------

  /**
   * Appends a delivery. Rejects with `quota_exceeded` (nothing stored) when it would take the
   * store past `maxBytes`.
   */
  async enqueue(clientId: string, d: Omit<StoredDelivery, 'seq'>): Promise<number> {
    const { seq, durable } = this.append(clientId, d);
    await durable;
    return seq;
  }

  /**
   * `enqueue` that hands the sequence number back at once, so a caller can issue the next write
   * of the delivery (`markInflight`, `discard`) without waiting for this one to be durable;
   * `durable` resolves as `enqueue` would. Throws (nothing stored) as `enqueue` rejects.
   */
  append(clientId: string, d: Omit<StoredDelivery, 'seq'>): { seq: number; durable: Promise<void> } {
    this.#check();
    const packetId = d.packetId ?? 0;
    if (d.packetId !== undefined) checkPacketId(d.packetId); // validates before any change
    const released = packetId !== 0 && d.released === true;
    const value = encodeDelivery(d, packetId, released);
    const st = this.#state(clientId);
    const core = this.#core;
    const size = st.key.length + 8 + value.length;
    core.reserve(size, 'delivery to', clientId);
    const seq = core.nextSeq();
    const entry = new DeliveryEntry(size, d.message.expiresAt ?? NaN, d.qos);
    if (packetId !== 0) {
      this.#flushBehind();
      const holder = st.inflight.get(packetId);
      const other = holder !== undefined ? st.deliveries.get(holder) : undefined;
      if (other !== undefined) {
        // The delivery that held the packet id goes back to the queue.
        let otherValue: Buffer;
        try {
          otherValue = this.#withBinding(st, holder!, other, 0, false);
        } catch (err) {
          core.usedBytes -= size;
          throw err;
        }
        other.packetId = 0;
        other.released = false;
        this.#store(st, holder!, other, otherValue);
      }
      st.inflight.set(packetId, seq);
      entry.packetId = packetId;
      entry.released = released;
    }
    st.deliveries.set(seq, entry);
    this.#deliveryCount++;
    this.#putDelivery(st, seq, entry, value);
    return { seq, durable: core.sync() };
  }

  async markInflight(clientId: string, seq: number, packetId: number): Promise<void> {
    return this.markInflightNow(clientId, seq, packetId);
  }

  /**
   * `markInflight` applied at once, returning the promise that resolves once it and every earlier
   * write are durable (the same promise for the writes of one transaction). Throws as
   * `markInflight` rejects.
   */
  markInflightNow(clientId: string, seq: number, packetId: number): Promise<void> {
    this.#check();
    const st = this.#clients.get(clientId);
    const entry = st?.deliveries.get(seq);
    if (st !== undefined && entry !== undefined && entry.packetId !== packetId) {
      checkPacketId(packetId);
      const holder = st.inflight.get(packetId);
      if (entry.qos === 1 && entry.packetId === 0 && (holder === undefined || holder === seq)) {
        // Written behind: an acknowledgement within WRITE_BEHIND_MS saves the write.
        st.inflight.set(packetId, seq);
        entry.packetId = packetId;
        entry.behind = true;
        this.#behind.push(st, seq, entry);
        this.#behindTimer ??= setTimeout(this.#writeBehind, WRITE_BEHIND_MS);
      } else {
        this.#bind(st, seq, entry, packetId, false);
      }
    }
    return this.#core.sync();
  }

  /**
   * Writes what is behind now, before another packet id is written: deliveries are sent in
   * sequence order, so those marked in flight on disk stay the first ones sent (a restart resends
   * them, then sends the rest in order).
   */
  #flushBehind(): void {
    if (this.#behind.length === 0) return;
    clearTimeout(this.#behindTimer);
    this.#writeBehind();
  }

  /** Writes the in-flight state of the deliveries still waiting for it. */
  readonly #writeBehind = (): void => {
    this.#behindTimer = undefined;
    const list = this.#behind;
    if (list.length === 0) return;
    this.#behind = [];
    if (this.#closed || this.#core.closed) return;
    for (let i = 0; i < list.length; i += 3) {
      const st = list[i] as ClientState;
      const seq = list[i + 1] as number;
      const entry = list[i + 2] as DeliveryEntry;
      if (!entry.behind || st.deliveries.get(seq) !== entry || this.#clients.get(st.id) !== st) continue;
      try {
        this.#rewrite(st, seq, entry);
      } catch {
        // A damaged record (it stays queued on disk; reading it reports the damage), or a failed
        // store (every later call reports that).
      }
    }
  };

  async markReleased(clientId: string, packetId: number): Promise<void> {
    this.#check();
    const st = this.#clients.get(clientId);
    const seq = st?.inflight.get(packetId);
    if (st === undefined || seq === undefined) return;
    const entry = st.deliveries.get(seq);
    if (entry === undefined || entry.released) return;
    this.#flushBehind();
    const value = this.#withBinding(st, seq, entry, packetId, true);
    entry.released = true;
    this.#store(st, seq, entry, value);
    return this.#core.sync();
  }

  async complete(clientId: string, packetId: number): Promise<boolean> {
    const existed = this.#complete(clientId, packetId);
    await this.#core.sync();
    return existed;
  }

  /** `complete` applied at once, without its result: see {@link markInflightNow}. */
  completeNow(clientId: string, packetId: number): Promise<void> {
    this.#complete(clientId, packetId);
    return this.#core.sync();
  }

  #complete(clientId: string, packetId: number): boolean {
    this.#check();
    const st = this.#clients.get(clientId);
    const seq = st?.inflight.get(packetId);
    if (st === undefined || seq === undefined) return false;
    const entry = st.deliveries.get(seq);
    if (entry === undefined) {
      st.inflight.delete(packetId);
      return false;
    }
    this.#drop(st, seq, entry);
    return true;
  }

  async discard(clientId: string, seq: number): Promise<boolean> {
    const existed = this.#discard(clientId, seq);
    await this.#core.sync();
    return existed;
  }

  /** `discard` applied at once, without its result: see {@link markInflightNow}. */
  discardNow(clientId: string, seq: number): Promise<void> {
    this.#discard(clientId, seq);
    return this.#core.sync();
  }

  #discard(clientId: string, seq: number): boolean {
    this.#check();
    const st = this.#clients.get(clientId);
    const entry = st?.deliveries.get(seq);
    if (st === undefined || entry === undefined) return false;
    this.#drop(st, seq, entry);
    return true;
  }

  async deliveries(clientId: string): Promise<StoredDelivery[]> {
    this.#check();
    const st = this.#clients.get(clientId);
    if (st === undefined) return [];
    const out: StoredDelivery[] = [];
    for (const [seq, entry] of st.deliveries) {
      const buf = entry.value ?? this.#core.read(this.#deliveries, st.seqKey(seq));
      if (buf === undefined) throw this.#core.corrupt('deliveries', `missing delivery ${seq} of ${JSON.stringify(st.id)}`, undefined);
      let d: Mutable<StoredDelivery>;
      try {
        d = { seq, ...decodeDelivery(buf) };
      } catch (err) {
        throw this.#core.corrupt('deliveries', `delivery ${seq} of ${JSON.stringify(st.id)}`, err);
      }
      if (entry.packetId !== 0) d.packetId = entry.packetId;
      if (entry.released) d.released = true;
      out.push(d);
    }
    return out;
  }

  // --- Inbound QoS 2 -------------------------------------------------------------------------

  async addAwaitingRel(clientId: string, packetId: number, at: number): Promise<void> {
    this.#check();
    const st = this.#state(clientId);
    const key = packetIdKey(st.key, packetId);
    if (!st.awaitingRel.has(packetId)) this.#core.usedBytes += key.length + REL_VALUE;
    st.awaitingRel.set(packetId, at);
    this.#core.put(this.#rel, key, encodeTime(at));
    return this.#core.sync();
  }

  async removeAwaitingRel(clientId: string, packetId: number): Promise<boolean> {
    this.#check();
    const st = this.#clients.get(clientId);
    if (st === undefined || !st.awaitingRel.delete(packetId)) return false;
    const key = packetIdKey(st.key, packetId);
    this.#core.usedBytes -= key.length + REL_VALUE;
    this.#core.remove(this.#rel, key);
    await this.#core.sync();
    return true;
  }

  async awaitingRel(clientId: string): Promise<Map<number, number>> {
    this.#check();
    return new Map(this.#clients.get(clientId)?.awaitingRel);
  }

  // --- Expiry, durability, close ---------------------------------------------------------------

  /**
   * Removes sessions that expired by `now` (disconnected for longer than their expiry interval)
   * with their deliveries and QoS 2 state, and queued deliveries whose message expired.
   * Sessions with a pending will are kept: the broker publishes the will, then deletes them.
   * In-flight deliveries are kept even when expired: the client may still acknowledge them.
   */
  async purgeExpired(now: number): Promise<PurgeResult> {
    this.#check();
    const result: PurgeResult = { sessions: 0, deliveries: 0 };
    for (const st of [...this.#clients.values()]) {
      if (st.hasRecord && !st.hasWill && st.expireAt <= now) {
        this.#deleteState(st);
        result.sessions++;
        continue;
      }
      for (const [seq, entry] of st.deliveries) {
        if (entry.packetId === 0 && entry.expiresAt <= now) {
          this.#drop(st, seq, entry);
          result.deliveries++;
        }
      }
    }
    if (result.sessions + result.deliveries > 0) await this.#core.sync();
    return result;
  }

  /** Resolves once every write so far is flushed to disk. */
  flushed(): Promise<void> {
    this.#check();
    this.#flushBehind();
    return this.#core.flushed();
  }

  /** Detaches this store; the environment closes once both stores are closed. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flushBehind();
    this.#closed = true;
    this.#clients.clear();
    await this.#release();
  }
}
