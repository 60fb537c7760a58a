import type { SessionStore, StoredDelivery, StoredSession } from '@junction/broker-core';
import { decodeDelivery, decodeInflight, decodeSession, decodeTime, encodeDelivery, encodeInflight, encodeSession, encodeTime, peekDeliveryExpiry } from './codec.js';
import type { StoreCore, Table, TableName } from './core.js';
import { LmdbStoreError } from './errors.js';
import { clientIdOfKey, clientKey, isHashedClientKey, packetIdKey, readPacketIdSuffix, readSeqSuffix, seqKey, splitKey } from './keys.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NEVER_EXPIRES = 0xffffffff;
/** Bytes of an inflight value (seq, released) and of an awaiting-rel value (time). */
const INFLIGHT_VALUE = 9;
const REL_VALUE = 8;

/** In-memory index entry of one stored delivery; its message stays on disk. */
class DeliveryEntry {
  /** 0 while queued. */
  packetId = 0;
  released = false;
  constructor(
    /** Key plus value bytes. */
    readonly size: number,
    /** The message's expiresAt; NaN when it never expires. */
    readonly expiresAt: number,
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
  constructor(
    readonly id: string,
    readonly key: Buffer,
  ) {}
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
    for (const { key, value } of this.#deliveries.db.getRange({})) {
      guard('deliveries', key, () => {
        const { client, rest } = splitKey(key, 8);
        const seq = readSeqSuffix(key, rest);
        const st = stateOf(client, 'deliveries');
        const entry = new DeliveryEntry(key.length + value.length, peekDeliveryExpiry(value) ?? NaN);
        st.deliveries.set(seq, entry);
        this.#deliveryCount++;
        core.usedBytes += entry.size;
        core.seenSeq(seq);
      });
    }
    for (const { key, value } of this.#inflight.db.getRange({})) {
      guard('inflight', key, () => {
        const { client, rest } = splitKey(key, 2);
        const packetId = readPacketIdSuffix(key, rest);
        const { seq, released } = decodeInflight(value);
        const st = stateOf(client, 'inflight');
        const entry = st.deliveries.get(seq);
        if (entry === undefined || entry.packetId !== 0) {
          // Cannot be left by the write order (a delivery and its packet id go in one batch),
          // but harmless: a marker without its delivery is dropped.
          core.remove(this.#inflight, Buffer.from(key));
          return;
        }
        entry.packetId = packetId;
        entry.released = released;
        st.inflight.set(packetId, seq);
        core.usedBytes += key.length + value.length;
      });
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

  /** Points `packetId` at `seq`, returning any other delivery holding it to the queue. */
  #bind(st: ClientState, seq: number, entry: DeliveryEntry, packetId: number, released: boolean): void {
    const core = this.#core;
    const key = packetIdKey(st.key, packetId);
    const holder = st.inflight.get(packetId);
    if (holder !== undefined && holder !== seq) {
      const other = st.deliveries.get(holder);
      if (other !== undefined) {
        other.packetId = 0;
        other.released = false;
      }
    }
    if (entry.packetId !== 0 && entry.packetId !== packetId) {
      st.inflight.delete(entry.packetId);
      core.remove(this.#inflight, packetIdKey(st.key, entry.packetId));
      core.usedBytes -= key.length + INFLIGHT_VALUE;
    }
    if (holder === undefined) core.usedBytes += key.length + INFLIGHT_VALUE;
    st.inflight.set(packetId, seq);
    entry.packetId = packetId;
    entry.released = released;
    core.put(this.#inflight, key, encodeInflight(seq, released));
  }

  /** Queues the removal of a delivery and of its packet id marker. */
  #drop(st: ClientState, seq: number, entry: DeliveryEntry): void {
    const core = this.#core;
    if (entry.packetId !== 0 && st.inflight.get(entry.packetId) === seq) {
      st.inflight.delete(entry.packetId);
      core.remove(this.#inflight, packetIdKey(st.key, entry.packetId));
      core.usedBytes -= st.key.length + 2 + INFLIGHT_VALUE;
    }
    st.deliveries.delete(seq);
    this.#deliveryCount--;
    core.remove(this.#deliveries, seqKey(st.key, seq));
    core.usedBytes -= entry.size;
  }

  /** Queues the removal of everything of a client; true if it had a record. */
  #deleteState(st: ClientState): boolean {
    const core = this.#core;
    this.#clients.delete(st.id);
    for (const [seq, entry] of st.deliveries) {
      core.remove(this.#deliveries, seqKey(st.key, seq));
      core.usedBytes -= entry.size;
    }
    this.#deliveryCount -= st.deliveries.size;
    for (const packetId of st.inflight.keys()) {
      core.remove(this.#inflight, packetIdKey(st.key, packetId));
      core.usedBytes -= st.key.length + 2 + INFLIGHT_VALUE;
    }
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
    if (d.packetId !== undefined) packetIdKey(Buffer.alloc(0), d.packetId); // validates before any change
    const value = encodeDelivery(d);
    const st = this.#state(clientId);
    const size = st.key.length + 8 + value.length;
    this.#core.reserve(size, `delivery to ${JSON.stringify(clientId)}`);
    const seq = this.#core.nextSeq();
    const entry = new DeliveryEntry(size, d.message.expiresAt ?? NaN);
    st.deliveries.set(seq, entry);
    this.#deliveryCount++;
    this.#core.put(this.#deliveries, seqKey(st.key, seq), value);
    if (d.packetId !== undefined) this.#bind(st, seq, entry, d.packetId, d.released === true);
    return { seq, durable: this.#core.sync() };
  }

  async markInflight(clientId: string, seq: number, packetId: number): Promise<void> {
    this.#check();
    const st = this.#clients.get(clientId);
    const entry = st?.deliveries.get(seq);
    if (st === undefined || entry === undefined || entry.packetId === packetId) return;
    this.#bind(st, seq, entry, packetId, false);
    return this.#core.sync();
  }

  async markReleased(clientId: string, packetId: number): Promise<void> {
    this.#check();
    const st = this.#clients.get(clientId);
    const seq = st?.inflight.get(packetId);
    if (st === undefined || seq === undefined) return;
    const entry = st.deliveries.get(seq);
    if (entry === undefined || entry.released) return;
    entry.released = true;
    this.#core.put(this.#inflight, packetIdKey(st.key, packetId), encodeInflight(seq, true));
    return this.#core.sync();
  }

  async complete(clientId: string, packetId: number): Promise<boolean> {
    this.#check();
    const st = this.#clients.get(clientId);
    const seq = st?.inflight.get(packetId);
    if (st === undefined || seq === undefined) return false;
    const entry = st.deliveries.get(seq);
    if (entry !== undefined) this.#drop(st, seq, entry);
    else {
      st.inflight.delete(packetId);
      this.#core.remove(this.#inflight, packetIdKey(st.key, packetId));
      this.#core.usedBytes -= st.key.length + 2 + INFLIGHT_VALUE;
    }
    await this.#core.sync();
    return entry !== undefined;
  }

  async discard(clientId: string, seq: number): Promise<boolean> {
    this.#check();
    const st = this.#clients.get(clientId);
    const entry = st?.deliveries.get(seq);
    if (st === undefined || entry === undefined) return false;
    this.#drop(st, seq, entry);
    await this.#core.sync();
    return true;
  }

  async deliveries(clientId: string): Promise<StoredDelivery[]> {
    this.#check();
    const st = this.#clients.get(clientId);
    if (st === undefined) return [];
    const out: StoredDelivery[] = [];
    for (const [seq, entry] of st.deliveries) {
      const buf = this.#core.read(this.#deliveries, seqKey(st.key, seq));
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
    return this.#core.flushed();
  }

  /** Detaches this store; the environment closes once both stores are closed. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clients.clear();
    await this.#release();
  }
}
