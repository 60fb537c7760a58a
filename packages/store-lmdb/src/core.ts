/**
 * The LMDB environment shared by the retained and the session store: directory checks, the
 * process lock, table handles, the write path (group commit, durability, failure), the
 * read-your-writes overlay and the size accounting.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { QuotaExceededError } from '@junction/broker-core';
import { open, type Database, type RootDatabase } from 'lmdb';
import { readU64, writeU64 } from './codec.js';
import { LmdbStoreError } from './errors.js';
import { checkHeader, deepCheck } from './verify.js';

export const TABLES = ['meta', 'retained', 'sessions', 'deliveries', 'inflight', 'awaiting_rel', 'client_names', 'records'] as const;
export type TableName = (typeof TABLES)[number];

/**
 * Tables whose values are read back after load: they get a read-your-writes overlay. (The
 * session store keeps the delivery records it has not committed yet itself.)
 */
const OVERLAID: ReadonlySet<TableName> = new Set(['retained', 'sessions', 'records']);

export const DATA_FILE = 'data.mdb';
export const MARKER_FILE = 'junction-store.json';
export const LOCK_FILE = 'junction.lock';
const FORMAT = 'junction-lmdb';
/**
 * 2: a delivery record holds its packet id and release state (format 1 kept them in the
 * `inflight` table). 3: a delivery record may hold several deliveries of one session (a run).
 * An older store is opened and marked 3: its data reads as is (a delivery record of format 1 or 2
 * is a run of one), and format 1 inflight entries are moved into the records as it opens.
 * Earlier builds refuse a newer format.
 */
const FORMAT_VERSION = 3;
const FORMAT_VERSIONS_READ: readonly unknown[] = [1, 2, 3];

/** Sequence numbers are reserved on disk in blocks, so enqueue does not write a counter each time. */
const SEQ_BLOCK = 4096;
const SEQ_KEY = Buffer.from('seq_ceiling', 'ascii');

/** When a write's promise resolves. */
export type Durability = 'flush' | 'commit';

export interface LmdbStoreOptions {
  /** The store directory; created if missing. */
  path: string;
  /**
   * Bound on the stored bytes (keys and values of every table). Once reached, new deliveries and
   * retained messages that would grow the total are refused with `quota_exceeded`; session
   * records, in-flight markers, QoS 2 receive state and all removals are always accepted.
   * Default: unlimited.
   */
  maxBytes?: number;
  /**
   * `flush` (default): a write's promise resolves once the transaction holding it is flushed
   * to disk (fsync): it survives a crash of the process, the OS or the machine.
   * `commit`: it resolves once the transaction is committed to the OS, before the flush: it
   * survives a crash or `kill -9` of the process, but not of the machine (the flush follows within
   * milliseconds). {@link LmdbStores.flushed} waits for the flush in both modes.
   */
  durability?: Durability;
  /**
   * Under load, the least time (ms) between two LMDB transactions: writes arriving meanwhile join
   * the next one (group commit), so a busy store makes fewer, larger transactions and flushes.
   * A write arriving when the store is idle goes at once. Default: 5.
   */
  commitInterval?: number;
  /**
   * Bytes of session delivery records kept in memory after they are written, so that rewriting
   * one (a delivery sent, acknowledged or released) does not read it back from disk. Default:
   * 4 MiB.
   */
  cacheBytes?: number;
  /**
   * Read every entry of an existing data file in a child process before opening it, so that a
   * damaged file gives an error instead of crashing this process (see `verify.ts`). Default: true.
   * Costs a process start plus one pass over the data.
   */
  verify?: boolean;
}

/** Sizes and counts for monitoring. */
export interface LmdbStoreStats {
  /** Bytes of keys and values the store accounts for (what `maxBytes` bounds). */
  usedBytes: number;
  maxBytes: number;
  /** Size of the data file on disk (LMDB reuses freed pages: the file does not shrink). */
  fileBytes: number;
  retained: number;
  sessions: number;
  deliveries: number;
}

export interface Table {
  readonly name: TableName;
  readonly db: Database<Buffer, Buffer>;
  /** Values written but not committed yet, by key (latin1 string); `value` undefined = removed. */
  readonly overlay: Overlay | undefined;
}

type LmdbWrite = Promise<boolean> & { flushed?: Promise<unknown> };
/** What `put` and `remove` return: settles once the transaction holding the write commits (the
 * writes of one transaction share it). Failures are reported through {@link StoreCore.sync}. */
export type StoreWrite = Promise<unknown>;

/**
 * Writes queued in this process, handed to LMDB together once the batch before them is durable
 * (one LMDB transaction each, and the batches grow with the load).
 */
class WriteBatch {
  readonly writes: QueuedWrite[] = [];
  /** Settles once LMDB committed the batch. */
  readonly committed: Promise<void>;
  /** Settles at the store's durability point for the batch and everything before it. */
  readonly durable: Promise<void>;
  resolveCommitted!: () => void;
  rejectCommitted!: (err: unknown) => void;
  resolveDurable!: () => void;
  rejectDurable!: (err: unknown) => void;
  constructor() {
    this.committed = new Promise<void>((resolve, reject) => {
      this.resolveCommitted = resolve;
      this.rejectCommitted = reject;
    });
    this.durable = new Promise<void>((resolve, reject) => {
      this.resolveDurable = resolve;
      this.rejectDurable = reject;
    });
    // Failures are reported through sync(), and to whoever waits.
    this.committed.catch(noop);
    this.durable.catch(noop);
  }
}

/**
 * A record that changes often, its value computed when its write is handed to LMDB, so that any
 * number of changes between two transactions cost one write.
 */
export interface LateValue {
  /** The bytes to put, `null` to remove the key, or `undefined` to leave it as it is. */
  build(): Buffer | null | undefined;
}

/** One queued write. */
class QueuedWrite {
  constructor(
    readonly table: Table,
    /** The key, or with `seq` ≥ 0 its prefix (the key is the prefix and a 64-bit `seq`). */
    readonly key: Buffer,
    readonly seq: number,
    /** undefined: a removal. */
    public value: Buffer | undefined,
    readonly late: LateValue | undefined,
  ) {}
}

/** What {@link StoreCore.queueLate} returns. */
export interface LateWrite {
  /** The transaction holding the write committed. */
  readonly committed: Promise<void>;
}
type Overlay = Map<string, { value: Buffer | undefined }>;
interface OverlayEntry {
  overlay: Overlay;
  key: string;
  rec: { value: Buffer | undefined };
}

/** Directories this process has open: LMDB's own locks do not stop a second open in-process. */
const openInProcess = new Set<string>();

function noop(): void {}

export class StoreCore {
  readonly path: string;
  readonly maxBytes: number;
  readonly durability: Durability;
  readonly commitInterval: number;
  readonly cacheBytes: number;
  readonly tables: Readonly<Record<TableName, Table>>;
  /** Bytes of keys and values in all tables, kept up to date by the stores. */
  usedBytes = 0;

  readonly #root: RootDatabase<Buffer, Buffer>;
  #failure: LmdbStoreError | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #nextSeq = 1;
  #seqCeiling = 0;
  /** Writes not handed to LMDB yet. */
  #queued: WriteBatch | undefined;
  #issueScheduled = false;
  /** When the last batch went to LMDB (performance.now()). */
  #lastIssue = -Infinity;
  /** The batch LMDB is committing (and flushing). */
  #inFlight: WriteBatch | undefined;
  /** Durability of everything handed to LMDB so far. */
  #lastDurable: Promise<void> = Promise.resolve();
  /** Key of a queued write with a sequence number, built when it is issued (LMDB copies it). */
  #scratch = Buffer.allocUnsafe(64);
  /** Overlay entries of the writes of one batch. */
  #overlayBatch: { batch: WriteBatch; entries: OverlayEntry[] } | undefined;

  private constructor(path: string, maxBytes: number, durability: Durability, commitInterval: number, cacheBytes: number, root: RootDatabase<Buffer, Buffer>) {
    this.path = path;
    this.cacheBytes = cacheBytes;
    this.maxBytes = maxBytes;
    this.durability = durability;
    this.commitInterval = commitInterval;
    this.#root = root;
    const tables = {} as Record<TableName, Table>;
    for (const name of TABLES) {
      const db = root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary', cache: false });
      tables[name] = { name, db, overlay: OVERLAID.has(name) ? new Map() : undefined };
    }
    this.tables = tables;
    const ceiling = tables.meta.db.getBinary(SEQ_KEY);
    if (ceiling !== undefined) {
      if (ceiling.length !== 8) throw new Error('bad sequence ceiling record');
      this.#seqCeiling = readU64(ceiling, 0);
      this.#nextSeq = Math.max(1, this.#seqCeiling);
    }
  }

  /** Checks and locks the directory, verifies an existing data file, opens the environment. */
  static async open(opts: LmdbStoreOptions): Promise<StoreCore> {
    if (typeof opts.path !== 'string' || opts.path === '') throw new TypeError('path must be a non-empty string');
    const dir = resolve(opts.path);
    const maxBytes = opts.maxBytes ?? Infinity;
    if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be a positive number, got ${String(opts.maxBytes)}`);
    const durability = opts.durability ?? 'flush';
    if (durability !== 'flush' && durability !== 'commit') throw new RangeError(`durability must be 'flush' or 'commit', got ${String(durability)}`);
    const commitInterval = opts.commitInterval ?? 5;
    if (!(commitInterval >= 0 && commitInterval <= 1000)) throw new RangeError(`commitInterval must be 0 to 1000 ms, got ${String(opts.commitInterval)}`);
    const cacheBytes = opts.cacheBytes ?? 4 * 1024 * 1024;
    if (!(cacheBytes >= 0)) throw new RangeError(`cacheBytes must be a non-negative number, got ${String(opts.cacheBytes)}`);

    prepareDirectory(dir);
    const lock = acquireLock(dir);
    let root: RootDatabase<Buffer, Buffer> | undefined;
    try {
      const { existing, older } = checkContents(dir);
      if (existing && opts.verify !== false) await deepCheck(dir, TABLES);
      try {
        root = open<Buffer, Buffer>({ path: dir, noSubdir: false, maxDbs: 16, separateFlushed: true, keyEncoding: 'binary', encoding: 'binary' });
      } catch (err) {
        throw new LmdbStoreError(existing ? 'corrupt' : 'unreadable', dir, 'LMDB could not open the data file', { cause: err });
      }
      let core: StoreCore;
      try {
        core = new StoreCore(dir, maxBytes, durability, commitInterval, cacheBytes, root);
      } catch (err) {
        throw new LmdbStoreError('corrupt', dir, 'cannot read the store tables', { cause: err });
      }
      // An older store reads as the current format: mark it so before anything of it is written.
      if (older) writeMarker(dir, true);
      core.#lockFile = lock;
      core.#fresh = !existing;
      return core;
    } catch (err) {
      if (root !== undefined) void root.close().catch(noop);
      releaseLock(dir, lock);
      throw err;
    }
  }

  #lockFile = '';
  #fresh = false;

  /** For a new store: waits until its tables are on disk, then marks the directory initialised. */
  async initialise(): Promise<void> {
    if (!this.#fresh) return;
    await this.#root.flushed;
    writeMarker(this.path, true);
    this.#fresh = false;
  }

  /** Throws when the store is closed or failed. */
  check(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw new LmdbStoreError('closed', this.path, 'the store is closed');
  }

  /** Wraps a damaged-value error met while reading. */
  corrupt(table: TableName, what: string, err: unknown): LmdbStoreError {
    return new LmdbStoreError('corrupt', this.path, `damaged ${what} in table ${table}`, { cause: err });
  }

  /** Refuses growth by `bytes` past `maxBytes`; otherwise counts it. */
  reserve(bytes: number, kind: string, name: string): void {
    if (bytes > 0 && this.usedBytes + bytes > this.maxBytes) {
      const what = `${kind} ${JSON.stringify(name)}`;
      throw new QuotaExceededError(
        'quota_exceeded',
        `store ${this.path} is full: ${what} of ${bytes} bytes would exceed max_bytes ${this.maxBytes} (${this.usedBytes} used)`,
      );
    }
    this.usedBytes += bytes;
  }

  /** The next sequence number; reserves a new block on disk (in the same batch) when needed. */
  nextSeq(): number {
    const seq = this.#nextSeq++;
    if (this.#nextSeq > this.#seqCeiling) {
      while (this.#nextSeq > this.#seqCeiling) this.#seqCeiling += SEQ_BLOCK;
      const value = Buffer.allocUnsafe(8);
      writeU64(value, 0, this.#seqCeiling);
      this.put(this.tables.meta, SEQ_KEY, value);
    }
    return seq;
  }

  /** Keeps `seq` and everything below it from being handed out again (used when loading). */
  seenSeq(seq: number): void {
    if (seq >= this.#nextSeq) this.#nextSeq = seq + 1;
  }

  /** Queues a put; it commits in call order with every other write. See {@link sync}. The key
   * must not change until the write is issued. */
  put(table: Table, key: Buffer, value: Buffer): StoreWrite {
    return this.#write(table, key, value);
  }

  /** Queues a removal. See {@link sync}. */
  remove(table: Table, key: Buffer): StoreWrite {
    return this.#write(table, key, undefined);
  }

  /**
   * Queues a write of the key `prefix` + 64-bit `seq` whose value `late` gives when the write is
   * handed to LMDB (after the current event-loop turn at the earliest). It commits with the writes
   * queued in the same batch.
   */
  queueLate(table: Table, prefix: Buffer, seq: number, late: LateValue): LateWrite {
    const batch = this.#batch();
    batch.writes.push(new QueuedWrite(table, prefix, seq, undefined, late));
    return batch;
  }

  #write(table: Table, key: Buffer, value: Buffer | undefined): StoreWrite {
    const batch = this.#batch();
    batch.writes.push(new QueuedWrite(table, key, -1, value, undefined));
    const overlay = table.overlay;
    if (overlay !== undefined) {
      const k = key.toString('latin1');
      const rec = { value };
      overlay.set(k, rec);
      // Clean the batch's overlay entries together once it committed.
      let ob = this.#overlayBatch;
      if (ob === undefined || ob.batch !== batch) {
        const entries: OverlayEntry[] = [];
        ob = this.#overlayBatch = { batch, entries };
        batch.committed.then(
          () => {
            for (const e of entries) if (e.overlay.get(e.key) === e.rec) e.overlay.delete(e.key);
          },
          noop, // the failure is reported through sync()
        );
      }
      ob.entries.push({ overlay, key: k, rec });
    }
    return batch.committed;
  }

  /** The batch writes join now; LMDB gets it after the current event-loop turn, or once the
   * batch before it is durable. */
  #batch(): WriteBatch {
    let b = this.#queued;
    if (b === undefined) {
      b = this.#queued = new WriteBatch();
      if (this.#inFlight === undefined) this.#scheduleIssue();
    }
    return b;
  }

  #scheduleIssue(): void {
    if (this.#issueScheduled) return;
    this.#issueScheduled = true;
    setImmediate(this.#issue);
  }

  /** Hands the queued batch to LMDB (one transaction). */
  readonly #issue = (): void => {
    this.#issueScheduled = false;
    const b = this.#queued;
    if (b === undefined || this.#inFlight !== undefined) return;
    this.#queued = undefined;
    this.#lastIssue = performance.now();
    if (this.#failure !== undefined) {
      b.rejectCommitted(this.#failure);
      b.rejectDurable(this.#failure);
      return;
    }
    let raw: LmdbWrite | undefined;
    try {
      for (const w of b.writes) {
        let value = w.value;
        if (w.late !== undefined) {
          const late = w.late.build();
          if (late === undefined) continue;
          value = late ?? undefined;
        }
        const key = w.seq < 0 ? w.key : this.#seqKey(w.key, w.seq);
        raw = (value === undefined ? w.table.db.remove(key) : w.table.db.put(key, value)) as LmdbWrite;
        w.value = undefined; // LMDB copied it
      }
      b.writes.length = 0;
    } catch (err) {
      // The callers have already changed their in-memory indexes: the store cannot go on.
      this.#fail(err);
      b.rejectCommitted(this.#failure);
      b.rejectDurable(this.#failure);
      return;
    }
    const before = this.#lastDurable;
    this.#lastDurable = b.durable;
    if (raw === undefined) {
      // Nothing to write: durable as soon as what came before.
      b.resolveCommitted();
      before.then(b.resolveDurable, b.rejectDurable);
      return;
    }
    this.#inFlight = b;
    const flush = this.durability === 'flush';
    const written = raw;
    written.then(
      () => {
        b.resolveCommitted();
        const after = flush ? written.flushed : undefined;
        if (after === undefined) this.#landed(b);
        else after.then(() => this.#landed(b), (err: unknown) => this.#landed(b, err));
      },
      (err: unknown) => this.#landed(b, err),
    );
  };

  /** `b` is durable (or failed): the next batch goes to LMDB, `commitInterval` after `b` did. */
  #landed(b: WriteBatch, err?: unknown): void {
    this.#inFlight = undefined;
    if (this.#queued !== undefined) {
      const wait = this.#lastIssue + this.commitInterval - performance.now();
      if (wait < 0.5) this.#scheduleIssue();
      else {
        this.#issueScheduled = true;
        setTimeout(this.#issue, wait);
      }
    }
    if (err !== undefined) this.#failBatch(b, err);
    else this.#settleDurable(b);
  }

  #seqKey(prefix: Buffer, seq: number): Buffer {
    const n = prefix.length + 8;
    if (this.#scratch.length < n) this.#scratch = Buffer.allocUnsafe(n * 2);
    prefix.copy(this.#scratch, 0);
    writeU64(this.#scratch, prefix.length, seq);
    return this.#scratch.subarray(0, n);
  }

  #settleDurable(b: WriteBatch): void {
    if (this.#failure !== undefined) b.rejectDurable(this.#failure);
    else b.resolveDurable();
  }

  #failBatch(b: WriteBatch, err: unknown): void {
    this.#fail(err);
    b.rejectCommitted(this.#failure);
    b.rejectDurable(this.#failure);
  }

  /**
   * Resolves once every write queued so far is durable (per `durability`); rejects, and fails
   * the store for good, if a commit failed. Writes commit in call order, so waiting for the last
   * one covers all of them.
   */
  sync(): Promise<void> {
    return this.#queued?.durable ?? this.#lastDurable;
  }

  #fail(err: unknown): void {
    if (this.#failure === undefined) {
      const cause = (err as { commitError?: unknown } | undefined)?.commitError ?? err;
      this.#failure = new LmdbStoreError('write_failed', this.path, 'a write could not be committed; the store refuses further work', { cause });
      if (cause instanceof Promise) cause.catch(noop);
    }
  }

  /** Reads a value, seeing writes not committed yet; a copy the caller may keep. */
  read(table: Table, key: Buffer): Buffer | undefined {
    const pending = table.overlay?.get(key.toString('latin1'));
    if (pending !== undefined) return pending.value;
    return table.db.getBinary(key);
  }

  /** Resolves once everything written so far is flushed to disk. */
  async flushed(): Promise<void> {
    await this.sync();
    if (!this.#closed) await this.#root.flushed;
    if (this.#failure !== undefined) throw this.#failure;
  }

  fileBytes(): number {
    try {
      return statSync(join(this.path, DATA_FILE)).size;
    } catch {
      return 0;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Waits for pending writes, closes the environment and releases the directory. Idempotent. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#closing = (async () => {
        try {
          // What is queued goes to LMDB now (after the batch it is committing, if any).
          while (this.#queued !== undefined) {
            if (this.#inFlight !== undefined) await this.#inFlight.durable.catch(noop);
            else this.#issue();
          }
          await this.sync();
        } catch {
          // Already reported to the writer; closing goes on.
        }
        try {
          await this.#root.flushed;
        } finally {
          await this.#root.close();
          releaseLock(this.path, this.#lockFile);
        }
      })();
    }
    return this.#closing;
  }
}

function prepareDirectory(dir: string): void {
  let st: Stats | undefined;
  try {
    st = statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new LmdbStoreError('unreadable', dir, 'cannot access the directory', { cause: err });
  }
  if (st !== undefined && !st.isDirectory()) throw new LmdbStoreError('unreadable', dir, 'exists and is not a directory');
  if (st === undefined) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new LmdbStoreError('unreadable', dir, 'cannot create the directory', { cause: err });
    }
  }
}

/**
 * Decides whether the directory holds a store: the marker file is written (and synced) before
 * LMDB creates the data file, so a marker without a data file, or an empty data file, means the
 * data was lost or truncated, not that the store is new. `existing`: the directory holds a store;
 * `older`: of an earlier format version this build reads (and upgrades).
 */
function checkContents(dir: string): { existing: boolean; older: boolean } {
  const markerPath = join(dir, MARKER_FILE);
  const dataPath = join(dir, DATA_FILE);
  let marker: string | undefined;
  try {
    marker = readFileSync(markerPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new LmdbStoreError('unreadable', dir, `cannot read ${markerPath}`, { cause: err });
  }
  let data: Stats | undefined;
  try {
    data = statSync(dataPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new LmdbStoreError('unreadable', dir, `cannot access ${dataPath}`, { cause: err });
  }
  if (data !== undefined && !data.isFile()) throw new LmdbStoreError('unreadable', dir, `${dataPath} is not a regular file`);

  if (marker === undefined) {
    if (data !== undefined && data.size > 0) {
      throw new LmdbStoreError('incompatible', dir, `${dataPath} exists but ${MARKER_FILE} does not: not a Junction store (or its marker was deleted)`);
    }
    writeMarker(dir, false);
    return { existing: false, older: false };
  }
  let parsed: { format?: unknown; version?: unknown; initialised?: unknown };
  try {
    parsed = JSON.parse(marker) as typeof parsed;
  } catch (err) {
    throw new LmdbStoreError('corrupt', dir, `${markerPath} is damaged`, { cause: err });
  }
  if (parsed?.format !== FORMAT) throw new LmdbStoreError('incompatible', dir, `${markerPath} does not describe a ${FORMAT} store`);
  if (!FORMAT_VERSIONS_READ.includes(parsed.version)) {
    throw new LmdbStoreError('incompatible', dir, `store format version ${String(parsed.version)}; this build reads versions ${FORMAT_VERSIONS_READ.join(' and ')}`);
  }
  // A store whose first open did not complete (crash while creating it) starts afresh.
  if (parsed.initialised === false && (data === undefined || data.size === 0)) return { existing: false, older: false };
  if (data === undefined) throw new LmdbStoreError('corrupt', dir, `${dataPath} is missing (the store was created here: was it deleted?)`);
  if (data.size === 0) throw new LmdbStoreError('corrupt', dir, `${dataPath} is empty (the store was created here: was it truncated?)`);
  checkHeader(dir, dataPath, data.size);
  return { existing: true, older: parsed.version !== FORMAT_VERSION };
}

/**
 * Writes the marker through a temporary file and a rename, synced: `initialised: false` before
 * LMDB creates the data file, `true` once the new store's tables exist on disk.
 */
export function writeMarker(dir: string, initialised: boolean): void {
  const markerPath = join(dir, MARKER_FILE);
  const tmp = `${markerPath}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      const marker = { format: FORMAT, version: FORMAT_VERSION, initialised, createdAt: new Date().toISOString() };
      writeSync(fd, `${JSON.stringify(marker)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, markerPath);
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch (err) {
    throw new LmdbStoreError('unreadable', dir, `cannot write ${markerPath}`, { cause: err });
  }
}

/**
 * An advisory lock file holding the pid of the process that has the store open. The in-memory
 * indexes assume a single writer, so a second broker on the same directory is refused. A lock
 * left by a dead process (after `kill -9`) is taken over.
 */
function acquireLock(dir: string): string {
  if (openInProcess.has(dir)) throw new LmdbStoreError('locked', dir, 'the store is already open in this process');
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      openInProcess.add(dir);
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new LmdbStoreError('unreadable', dir, `cannot create ${file}`, { cause: err });
    }
    let holder = NaN;
    try {
      holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
    } catch {
      // Removed meanwhile, or unreadable: treated as stale.
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new LmdbStoreError('locked', dir, `the store is open in process ${holder} (remove ${file} if that process is not a Junction broker)`);
    }
    try {
      unlinkSync(file);
    } catch {
      // Someone else removed it: try again.
    }
  }
  throw new LmdbStoreError('locked', dir, `cannot take ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseLock(dir: string, file: string): void {
  openInProcess.delete(dir);
  if (file === '') return;
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
