import type { Message, QoS, SessionStore, StoredDelivery, StoredSession } from '@junction/broker-core';
import {
  decodeBody,
  decodeInflight,
  decodeSession,
  decodeTime,
  deliveryBodySize,
  encodeSession,
  encodeTime,
  peekBody,
  readRun,
  RUN_MEMBER_OVERHEAD,
  RUN_OVERHEAD,
  RunWriter,
  writeU64,
} from './codec.js';
import type { LateValue, LateWrite, StoreCore, Table, TableName } from './core.js';
import { LmdbStoreError } from './errors.js';
import { checkPacketId, clientIdOfKey, clientKey, isHashedClientKey, packetIdKey, readPacketIdSuffix, readSeqSuffix, seqKey, splitKey } from './keys.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const NEVER_EXPIRES = 0xffffffff;
/** Bytes of an awaiting-rel value (time). */
const REL_VALUE = 8;
/**
 * A QoS 1 delivery's in-flight state is written behind by up to this long: one acknowledged
 * sooner (the common case) never has it written.
 */
const WRITE_BEHIND_MS = 5;
/** Bounds on one run: a run is rewritten whole while any of its deliveries is left. */
const RUN_MAX_DELIVERIES = 512;
const RUN_MAX_BYTES = 64 * 1024;

function noop(): void {}

const QOS_MASK = 3;
const RETAIN = 4;
const RELEASED = 8;
const BEHIND = 16;
const DEAD = 32;

/**
 * In-memory index entry of one stored delivery. Kept small (there may be millions): the flags
 * share one field, and the message is held only until the delivery is first written.
 */
class DeliveryEntry {
  #flags: number;
  /** 0 while queued. */
  packetId = 0;
  /** The message until the delivery is first written; then its body is in the run's value. */
  message: Message | undefined = undefined;
  subscriptionIds: readonly number[] | undefined = undefined;
  /** Where its body lies in the run's value (when the run has one). */
  off = 0;
  /** Length of its body (known before it is encoded). */
  len: number;
  constructor(
    readonly seq: number,
    readonly run: Run,
    len: number,
    /** The message's expiresAt; undefined when it never expires. */
    readonly expiresAt: number | undefined,
    qos: QoS,
    retain: boolean,
  ) {
    this.len = len;
    this.#flags = (qos & QOS_MASK) | (retain ? RETAIN : 0);
  }

  get qos(): QoS {
    return (this.#flags & QOS_MASK) as QoS;
  }
  get retain(): boolean {
    return (this.#flags & RETAIN) !== 0;
  }
  /** PUBREC received (QoS 2). */
  get released(): boolean {
    return (this.#flags & RELEASED) !== 0;
  }
  set released(v: boolean) {
    this.#flags = v ? this.#flags | RELEASED : this.#flags & ~RELEASED;
  }
  /** Its packet id is not written yet (see WRITE_BEHIND_MS). */
  get behind(): boolean {
    return (this.#flags & BEHIND) !== 0;
  }
  set behind(v: boolean) {
    this.#flags = v ? this.#flags | BEHIND : this.#flags & ~BEHIND;
  }
  /** Not completed or discarded. */
  get live(): boolean {
    return (this.#flags & DEAD) === 0;
  }
  kill(): void {
    this.#flags |= DEAD;
    this.message = undefined;
    this.subscriptionIds = undefined;
  }
  /** Bytes it accounts for in the store's total. */
  get size(): number {
    return this.len + RUN_MEMBER_OVERHEAD;
  }
}

/**
 * The deliveries of one session written in one transaction: one LMDB record under the sequence
 * number of the first, rewritten (with the deliveries left) whenever one of them changes, and
 * removed when none is left. Changes between two transactions cost one write. Kept small: a
 * session that gets one message per transaction has a run per message.
 */
class Run implements LateValue {
  /** The first member; the others follow in `#rest`, in sequence order (a run of one has no array). */
  #first: DeliveryEntry | undefined = undefined;
  #rest: DeliveryEntry[] | undefined = undefined;
  live = 0;
  /** Its write queued for the next transaction. */
  write: LateWrite | undefined = undefined;
  /** Its key may exist in LMDB (a removal must be written). */
  onDisk = false;
  /** The value last written or read, while kept in memory (the members' `off` point into it). */
  value: Buffer | undefined = undefined;
  constructor(
    readonly st: ClientState,
    readonly seq: number,
  ) {}

  /** The value to write, called when the write goes to LMDB. */
  build(): Buffer | null | undefined {
    return this.st.build(this);
  }

  /** Members, completed ones included until the run is next written. */
  get size(): number {
    return this.#first === undefined ? 0 : 1 + (this.#rest?.length ?? 0);
  }

  member(i: number): DeliveryEntry {
    return i === 0 ? this.#first! : this.#rest![i - 1]!;
  }

  /** Appends a member (the highest sequence number so far). */
  add(e: DeliveryEntry): void {
    if (this.#first === undefined) this.#first = e;
    else (this.#rest ??= []).push(e);
  }

  /** Drops the completed members; returns how many are left. */
  compact(): number {
    let first = this.#first !== undefined && this.#first.live ? this.#first : undefined;
    const rest = this.#rest;
    let k = 0;
    if (rest !== undefined) {
      for (const e of rest) {
        if (!e.live) continue;
        if (first === undefined) first = e;
        else rest[k++] = e;
      }
      rest.length = k;
      if (k === 0) this.#rest = undefined;
    }
    this.#first = first;
    return first === undefined ? 0 : 1 + k;
  }
}

/** Everything indexed for one client id; a record is optional (deliveries may come first). */
class ClientState {
  /** By sequence number; sequence numbers only grow, so insertion order is delivery order. */
  readonly deliveries = new Map<number, DeliveryEntry>();
  /** Packet id to sequence number. */
  readonly inflight = new Map<number, number>();
  /** Inbound QoS 2 packet id to receive time. */
  readonly awaitingRel = new Map<number, number>();
  /** The run new deliveries join while its write is still queued, and its body bytes. */
  openRun: Run | undefined = undefined;
  openBytes = 0;
  hasRecord = false;
  recordSize = 0;
  /** When the session expires (ms), Infinity while connected or for a never-expiring session. */
  expireAt = Infinity;
  hasWill = false;
  #seqKey: Buffer | undefined;
  constructor(
    readonly id: string,
    readonly key: Buffer,
    /** The store's run encoder (see {@link Run.build}). */
    readonly build: (run: Run) => Buffer | null | undefined,
  ) {}

  /** Bytes a run with deliveries accounts for besides them: its key and value overhead. */
  get runSize(): number {
    return this.key.length + 8 + RUN_OVERHEAD;
  }

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
 * The deliveries a session gets between two transactions are stored together, as one run
 * record, with each delivery's packet id and release state. A change to any of them (sent,
 * released, acknowledged) rewrites the run once in the next transaction, whatever the number of
 * changes; the run is removed with its last delivery, and one that never reached LMDB is never
 * written. So a busy session costs a few LMDB writes per transaction, not two per message, and a
 * delivery acknowledged before its transaction is not even encoded. (Stores written by earlier
 * versions hold one delivery per record, read as runs of one; format 1 kept packet ids in the
 * `inflight` table, moved into the records on open.)
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
  readonly #runWriter = new RunWriter();
  readonly #buildRun = (run: Run): Buffer | null | undefined => this.#build(run);
  #deliveryCount = 0;
  /** Bytes of the `value` of all runs (bounded by the store's `cacheBytes` once they commit). */
  #cachedBytes = 0;
  /** Deliveries whose in-flight state is written behind. */
  #behind: DeliveryEntry[] = [];
  #behindTimer: NodeJS.Timeout | undefined;
  /** Runs written in the transaction being built: (run, value) pairs, to trim the cache once it commits. */
  #built: { write: LateWrite; items: (Run | Buffer)[] } | undefined;
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
        st = new ClientState(id, client, this.#buildRun);
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
    /** Runs to rewrite with their bindings as indexed. */
    const fix = new Set<Run>();
    /** Points `packetId` at `entry`; a delivery holding it before goes back to the queue. */
    const bind = (st: ClientState, entry: DeliveryEntry, packetId: number, released: boolean): void => {
      const holder = st.inflight.get(packetId);
      if (holder !== undefined && holder !== entry.seq) {
        const other = st.deliveries.get(holder)!;
        other.packetId = 0;
        other.released = false;
        fix.add(other.run);
      }
      if (entry.packetId !== 0 && entry.packetId !== packetId && st.inflight.get(entry.packetId) === entry.seq) st.inflight.delete(entry.packetId);
      st.inflight.set(packetId, entry.seq);
      entry.packetId = packetId;
      entry.released = released;
    };
    for (const { key, value } of this.#deliveries.db.getRange({})) {
      guard('deliveries', key, () => {
        const { client, rest } = splitKey(key, 8);
        const runSeq = readSeqSuffix(key, rest);
        const st = stateOf(client, 'deliveries');
        const { value: buf, members } = readRun(value);
        const run = new Run(st, runSeq);
        run.onDisk = true;
        core.usedBytes += st.runSize;
        for (let i = 0; i < members.length; i += 3) {
          const seq = runSeq + members[i]!;
          const len = members[i + 2]!;
          const peek = peekBody(buf, members[i + 1]!, len);
          const entry = new DeliveryEntry(seq, run, len, peek.expiresAt, peek.qos, false);
          run.add(entry);
          run.live++;
          st.deliveries.set(seq, entry);
          // In key order: when two records claim one packet id, the later one was bound last.
          if (peek.packetId !== 0) bind(st, entry, peek.packetId, peek.released);
          this.#deliveryCount++;
          core.usedBytes += entry.size;
          core.seenSeq(seq);
        }
      });
    }
    // Packet ids kept apart by format 1: moved into the delivery records.
    for (const { key, value } of this.#inflight.db.getRange({})) {
      guard('inflight', key, () => {
        const { client, rest } = splitKey(key, 2);
        const packetId = readPacketIdSuffix(key, rest);
        const { seq, released } = decodeInflight(value);
        const st = stateOf(client, 'inflight');
        const entry = st.deliveries.get(seq);
        // A marker without its delivery (left by a crash between the two) is dropped.
        if (entry !== undefined) {
          bind(st, entry, packetId, released);
          fix.add(entry.run);
        }
        core.remove(this.#inflight, Buffer.from(key));
      });
    }
    for (const run of fix) guard('deliveries', run.st.seqKey(run.seq), () => this.#dirty(run));
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
      st = new ClientState(clientId, clientKey(clientId), this.#buildRun);
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
   * Queues the write of a run that changed, unless it is queued already. Its members' bodies are
   * read back first if they are not in memory, so that a damaged record is reported to the caller
   * (with nothing changed yet) rather than when the transaction is built.
   */
  #dirty(run: Run): void {
    if (run.write !== undefined) return;
    if (run.value === undefined && run.onDisk && run.live > 0) this.#loadRun(run);
    run.write = this.#core.queueLate(this.#deliveries, run.st.key, run.seq, run);
  }

  /**
   * Reads a run's value back from LMDB, pointing its members at their bodies; `keep`: it stays in
   * memory as the run's value (until the run is next written).
   */
  #loadRun(run: Run, keep = true): Buffer {
    const st = run.st;
    const core = this.#core;
    const stored = core.read(this.#deliveries, st.seqKey(run.seq));
    if (stored === undefined) throw core.corrupt('deliveries', `missing deliveries ${run.seq} of ${JSON.stringify(st.id)}`, undefined);
    let value: Buffer;
    let members: number[];
    try {
      ({ value, members } = readRun(stored));
    } catch (err) {
      throw core.corrupt('deliveries', `deliveries ${run.seq} of ${JSON.stringify(st.id)}`, err);
    }
    let i = 0;
    for (let j = 0, n = run.size; j < n; j++) {
      const e = run.member(j);
      if (!e.live || e.message !== undefined) continue;
      const delta = e.seq - run.seq;
      while (i < members.length && members[i]! < delta) i += 3;
      if (members[i] !== delta) throw core.corrupt('deliveries', `delivery ${e.seq} missing from its record (${JSON.stringify(st.id)})`, undefined);
      e.off = members[i + 1]!;
      e.len = members[i + 2]!;
    }
    if (keep) {
      run.value = value;
      this.#cachedBytes += value.length;
    }
    return value;
  }

  /** The value of a run as it is now (see {@link Run}); called as its transaction is built. */
  #build(run: Run): Buffer | null | undefined {
    const write = run.write!;
    run.write = undefined;
    if (run.st.openRun === run) run.st.openRun = undefined;
    const n = run.compact();
    if (n === 0) {
      this.#uncache(run);
      const was = run.onDisk;
      run.onDisk = false;
      return was ? null : undefined;
    }
    let src = run.value;
    if (src === undefined && run.onDisk) {
      this.#loadRun(run); // evicted meanwhile: throws (failing the store) only for a damaged record
      src = run.value;
    }
    const w = this.#runWriter;
    w.begin(n);
    for (let j = 0; j < n; j++) {
      const e = run.member(j);
      // A packet id written behind is not written with the rest of its run: deliveries are sent in
      // sequence order, and those in flight on disk must stay the first ones sent (see
      // #flushBehind), so they are written together by #writeBehind.
      const packetId = e.behind ? 0 : e.packetId;
      const m = e.message;
      if (m !== undefined) {
        e.off = w.add(e.seq - run.seq, e.qos, e.retain, e.subscriptionIds, m, packetId, e.released);
        e.message = undefined;
        e.subscriptionIds = undefined;
        // deliveryBodySize is exact (tested); should it ever differ, the accounting follows.
        this.#core.usedBytes += w.lastLength - e.len;
      } else {
        e.off = w.addEncoded(e.seq - run.seq, src!, e.off, e.len, packetId, e.released);
      }
      e.len = w.lastLength;
    }
    const value = w.finish();
    this.#uncache(run);
    run.value = value;
    this.#cachedBytes += value.length;
    run.onDisk = true;
    // Values of one transaction share its promise: one callback per transaction.
    let built = this.#built;
    if (built === undefined || built.write !== write) {
      const items: (Run | Buffer)[] = [];
      built = this.#built = { write, items };
      write.committed.then(() => this.#committed(items), noop); // a failure is reported through sync()
    }
    built.items.push(run, value);
    return value;
  }

  #uncache(run: Run): void {
    if (run.value === undefined) return;
    this.#cachedBytes -= run.value.length;
    run.value = undefined;
  }

  /** Runs of a committed transaction: readable from disk now, kept in memory while the cache has room. */
  #committed(items: (Run | Buffer)[]): void {
    for (let i = 0; i < items.length && this.#cachedBytes > this.#core.cacheBytes; i += 2) {
      const run = items[i] as Run;
      // A run queued again keeps its value for that write.
      if (run.value === items[i + 1] && run.write === undefined) this.#uncache(run);
    }
  }

  /**
   * Points `packetId` at `entry`, returning any other delivery holding it to the queue; both runs
   * are rewritten.
   */
  #bind(st: ClientState, entry: DeliveryEntry, packetId: number, released: boolean): void {
    this.#flushBehind();
    const holder = st.inflight.get(packetId);
    const other = holder !== undefined && holder !== entry.seq ? st.deliveries.get(holder) : undefined;
    // Both runs are readable before anything changes: a damaged one leaves the index as it was.
    this.#dirty(entry.run);
    if (other !== undefined) this.#dirty(other.run);
    if (entry.packetId !== 0 && entry.packetId !== packetId && st.inflight.get(entry.packetId) === entry.seq) st.inflight.delete(entry.packetId);
    st.inflight.set(packetId, entry.seq);
    entry.packetId = packetId;
    entry.released = released;
    entry.behind = false;
    if (other !== undefined) {
      other.packetId = 0;
      other.released = false;
      other.behind = false;
    }
  }

  /** Removes a delivery (its packet id goes with it); its run is rewritten without it. */
  #drop(st: ClientState, entry: DeliveryEntry): void {
    if (entry.packetId !== 0 && st.inflight.get(entry.packetId) === entry.seq) st.inflight.delete(entry.packetId);
    st.deliveries.delete(entry.seq);
    this.#deliveryCount--;
    this.#unlink(entry);
  }

  /** Takes a delivery out of its run, releasing its bytes (and the run's, for its last one). */
  #unlink(entry: DeliveryEntry): void {
    const run = entry.run;
    entry.kill();
    this.#core.usedBytes -= entry.size;
    if (run === run.st.openRun) run.st.openBytes -= entry.len;
    if (--run.live === 0) this.#core.usedBytes -= run.st.runSize;
    if (run.write === undefined) {
      if (run.live === 0 && !run.onDisk) return;
      // A run whose value was evicted is read back now only if deliveries remain in it.
      this.#dirty(run);
    }
  }

  /** Queues the removal of everything of a client; true if it had a record. */
  #deleteState(st: ClientState): boolean {
    const core = this.#core;
    this.#clients.delete(st.id);
    st.openRun = undefined;
    for (const entry of st.deliveries.values()) {
      // Its run is removed whole: nothing of it needs reading back.
      const run = entry.run;
      entry.kill();
      core.usedBytes -= entry.size;
      if (--run.live === 0) {
        core.usedBytes -= st.runSize;
        if (run.write === undefined && run.onDisk) run.write = core.queueLate(this.#deliveries, st.key, run.seq, run);
      }
    }
    this.#deliveryCount -= st.deliveries.size;
    st.deliveries.clear();
    st.inflight.clear();
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
    const message = d.message;
    const body = deliveryBodySize(d.subscriptionIds, message); // validates before any change
    const st = this.#state(clientId);
    const core = this.#core;
    let run = st.openRun;
    if (run !== undefined && (run.write === undefined || run.size >= RUN_MAX_DELIVERIES || st.openBytes + body > RUN_MAX_BYTES)) run = undefined;
    const size = body + RUN_MEMBER_OVERHEAD;
    const runSize = run === undefined || run.live === 0 ? st.runSize : 0;
    core.reserve(size + runSize, 'delivery to', clientId);
    if (packetId !== 0) {
      this.#flushBehind();
      const holder = st.inflight.get(packetId);
      const other = holder !== undefined ? st.deliveries.get(holder) : undefined;
      if (other !== undefined) {
        // The delivery that held the packet id goes back to the queue.
        try {
          this.#dirty(other.run);
        } catch (err) {
          core.usedBytes -= size + runSize;
          throw err;
        }
        other.packetId = 0;
        other.released = false;
        other.behind = false;
      }
    }
    const seq = core.nextSeq();
    if (run === undefined) {
      run = st.openRun = new Run(st, seq);
      st.openBytes = 0;
    }
    const entry = new DeliveryEntry(seq, run, body, message.expiresAt, d.qos, d.retain);
    entry.message = message;
    entry.subscriptionIds = d.subscriptionIds;
    if (packetId !== 0) {
      st.inflight.set(packetId, seq);
      entry.packetId = packetId;
      entry.released = d.released === true;
    }
    run.add(entry);
    run.live++;
    st.openBytes += body;
    st.deliveries.set(seq, entry);
    this.#deliveryCount++;
    if (run.write === undefined) run.write = core.queueLate(this.#deliveries, st.key, run.seq, run);
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
        st.inflight.set(packetId, seq);
        entry.packetId = packetId;
        // Written behind: an acknowledgement within WRITE_BEHIND_MS saves the write. Not when
        // its run is written anyway and no delivery sent before it waits to be written.
        if (entry.run.write === undefined || this.#behind.length > 0) {
          entry.behind = true;
          this.#behind.push(entry);
          this.#behindTimer ??= setTimeout(this.#writeBehind, WRITE_BEHIND_MS);
        }
      } else {
        this.#bind(st, entry, packetId, false);
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
    for (const entry of list) {
      if (!entry.behind || !entry.live) continue;
      entry.behind = false;
      try {
        this.#dirty(entry.run);
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
    this.#dirty(entry.run);
    entry.released = true;
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
    this.#drop(st, entry);
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
    this.#drop(st, entry);
    return true;
  }

  async deliveries(clientId: string): Promise<StoredDelivery[]> {
    this.#check();
    const st = this.#clients.get(clientId);
    if (st === undefined) return [];
    const out: StoredDelivery[] = [];
    // A run read back for this is not kept: reading a long queue does not fill the memory.
    let read: Run | undefined;
    let readValue: Buffer | undefined;
    for (const entry of st.deliveries.values()) {
      let d: Mutable<StoredDelivery>;
      const message = entry.message;
      if (message !== undefined) {
        d = { seq: entry.seq, message, qos: entry.qos, retain: entry.retain };
        if (entry.subscriptionIds !== undefined) d.subscriptionIds = entry.subscriptionIds;
      } else {
        const run = entry.run;
        let value = run.value;
        if (value === undefined) {
          if (read !== run) {
            readValue = this.#loadRun(run, false);
            read = run;
          }
          value = readValue!;
        }
        try {
          d = { seq: entry.seq, ...decodeBody(value, entry.off, entry.len) };
        } catch (err) {
          throw this.#core.corrupt('deliveries', `delivery ${entry.seq} of ${JSON.stringify(st.id)}`, err);
        }
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
      for (const entry of st.deliveries.values()) {
        if (entry.packetId === 0 && entry.expiresAt !== undefined && entry.expiresAt <= now) {
          this.#drop(st, entry);
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
