/**
 * Checks of an existing data file before this process maps it.
 *
 * The LMDB binding does not survive every kind of damage: a file that is not an LMDB file, or a
 * page overwritten with garbage, can crash the process (SIGSEGV, or an abort inside malloc)
 * instead of returning an error. So before opening, the store
 * 1. reads the first meta page itself and checks its magic number, format version and page size;
 * 2. (unless disabled) opens the file read-only in a child process and reads every entry of
 *    every table: a crash or an error there becomes an {@link LmdbStoreError}, naming the file
 *    and the cause, and the broker process is never at risk.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { LmdbStoreError } from './errors.js';

const MDB_MAGIC = 0xbeefc0de;
const MDB_DATA_VERSION = 2;
const P_META = 0x08;
/** Page header: page number (8), txn id (8), pad (2), flags (2), lower/upper (4). */
const PAGE_FLAGS_OFFSET = 18;
const META_OFFSET = 24;

/** Checks the header of the LMDB data file `file` (which exists and is not empty). */
export function checkHeader(dir: string, file: string, size: number): void {
  if (endianness() !== 'LE') return; // LMDB files are native-endian; the offsets below are for LE.
  const head = Buffer.alloc(64);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new LmdbStoreError('unreadable', dir, `cannot read ${file}`, { cause: err });
  }
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } catch (err) {
    throw new LmdbStoreError('unreadable', dir, `cannot read ${file}`, { cause: err });
  } finally {
    closeSync(fd);
  }
  if (n < head.length) throw new LmdbStoreError('corrupt', dir, `${file} is truncated (${size} bytes, too short for an LMDB file)`);
  const flags = head.readUInt16LE(PAGE_FLAGS_OFFSET);
  const magic = head.readUInt32LE(META_OFFSET);
  const version = head.readUInt32LE(META_OFFSET + 4) & 0xffff;
  // mm_dbs[0].md_pad holds the page size: after magic, version, address and map size.
  const pageSize = head.readUInt32LE(META_OFFSET + 24);
  if (!(flags & P_META) || magic !== MDB_MAGIC) {
    throw new LmdbStoreError('corrupt', dir, `${file} is not an LMDB data file or its header is damaged (no meta page magic)`);
  }
  if (version !== MDB_DATA_VERSION) {
    throw new LmdbStoreError('incompatible', dir, `${file} has LMDB data format ${version}, this build reads format ${MDB_DATA_VERSION}`);
  }
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw new LmdbStoreError('corrupt', dir, `${file} header has an impossible page size ${pageSize}`);
  }
  if (size < pageSize * 2) {
    throw new LmdbStoreError('corrupt', dir, `${file} is truncated (${size} bytes, less than its two ${pageSize}-byte meta pages)`);
  }
}

/** Runs in the child: opens the environment read-only and reads every entry of `tables`. */
const CHILD = `
const lmdb = require(process.argv[1]);
const path = process.argv[2];
const tables = JSON.parse(process.argv[3]);
const out = {};
let table = '';
try {
  const env = lmdb.open({ path, readOnly: true, noSubdir: false, maxDbs: 16 });
  for (const name of tables) {
    table = name;
    // Read-only, a table that does not exist yet (store created, never written) gives no handle.
    const db = env.openDB({ name, keyEncoding: 'binary', encoding: 'binary', create: false });
    if (!db) continue;
    let entries = 0, bytes = 0;
    for (const { key, value } of db.getRange({})) { entries++; bytes += key.length + value.length; }
    out[name] = { entries, bytes };
  }
} catch (err) {
  process.stdout.write(JSON.stringify({ error: String(err && err.message || err), table }));
  process.exit(3);
}
process.stdout.write(JSON.stringify({ tables: out }));
`;

export interface TableScan {
  entries: number;
  bytes: number;
}

interface ChildResult {
  error: Error | undefined;
  /** Killed for running past the timeout. */
  timedOut: boolean;
  signal: NodeJS.Signals | null;
  status: number | null;
  stdout: string;
  stderr: string;
}

function runChild(args: string[], timeoutMs: number): Promise<ChildResult> {
  // The child needs no loader or condition of ours: it loads the binding by its resolved path.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, { encoding: 'utf8', env, timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const spawnFailed = err !== null && typeof (err as NodeJS.ErrnoException).code === 'string';
      const timedOut = err !== null && (err as { killed?: boolean }).killed === true;
      resolve({ error: spawnFailed ? err : undefined, timedOut, signal: child.signalCode, status: child.exitCode, stdout, stderr });
    });
  });
}

/** Reads every entry of `tables` in a child process; rejects with {@link LmdbStoreError} on failure. */
export async function deepCheck(dir: string, tables: readonly string[], timeoutMs = 300_000): Promise<Record<string, TableScan>> {
  const lmdbEntry = createRequire(import.meta.url).resolve('lmdb');
  const r = await runChild(['-e', CHILD, lmdbEntry, dir, JSON.stringify(tables)], timeoutMs);
  if (r.error) throw new LmdbStoreError('unreadable', dir, 'could not run the integrity check', { cause: r.error });
  if (r.timedOut) throw new LmdbStoreError('unreadable', dir, `the integrity check did not finish within ${timeoutMs / 1000} s (open with verify: false to skip it)`);
  if (r.signal !== null) {
    throw new LmdbStoreError(
      'corrupt',
      dir,
      `the data file is damaged: reading it crashed the integrity check process (${r.signal})${stderrTail(r.stderr)}`,
    );
  }
  let result: { tables?: Record<string, TableScan>; error?: string; table?: string } | undefined;
  try {
    result = JSON.parse(r.stdout) as typeof result;
  } catch {
    // No result: reported below.
  }
  if (result?.error !== undefined) {
    const where = result.table ? ` (table ${result.table})` : '';
    throw new LmdbStoreError('corrupt', dir, `the data file cannot be read${where}: ${result.error}`);
  }
  if (r.status !== 0 || result?.tables === undefined) {
    throw new LmdbStoreError('corrupt', dir, `the integrity check failed (exit status ${String(r.status)})${stderrTail(r.stderr)}`);
  }
  return result.tables;
}

function stderrTail(stderr: string): string {
  const text = stderr.trim();
  return text === '' ? '' : `: ${text.split('\n').slice(-1)[0]}`;
}
