import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LmdbStoreError, openLmdbStores, type LmdbStoreErrorReason } from '../src/index.js';
import { delivery, message, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

/** A closed store with retained messages and deliveries, written in a few transactions. */
async function populated(): Promise<string> {
  const path = tempDir();
  const stores = await openLmdbStores({ path });
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < 300; i++) writes.push(stores.retained.put(message(`sensor/${i}`, { retain: true, payload: Buffer.alloc(600, i) })));
  for (let i = 0; i < 1500; i++) writes.push(stores.sessions.enqueue(`client-${i % 20}`, delivery(`q/${i}`, { message: message(`q/${i}`, { payload: Buffer.alloc(800, i) }) })));
  writes.push(stores.retained.put(message('marked', { retain: true, payload: Buffer.from('UNIQUE-PAYLOAD-MARKER-0123456789') })));
  await Promise.all(writes);
  await stores.close();
  return path;
}

/** Opens `path`, expecting a store error of `reason` that names the directory. */
async function expectOpenError(path: string, reason: LmdbStoreErrorReason, opts: { verify?: boolean } = {}): Promise<LmdbStoreError> {
  const err = await openLmdbStores({ path, ...opts }).then(
    async (stores) => {
      await stores.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err, 'open should fail').toBeInstanceOf(LmdbStoreError);
  const e = err as LmdbStoreError;
  expect(e.reason, e.message).toBe(reason);
  expect(e.code).toBe('server_unavailable');
  expect(e.path).toBe(path);
  expect(e.message).toContain(path);
  // A failed open leaves the directory unlocked.
  expect(existsSync(join(path, 'junction.lock'))).toBe(false);
  return e;
}

function overwrite(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Deterministic garbage. */
function garbage(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('a corrupt or unreadable data directory', () => {
  it('data file overwritten with garbage: corrupt, whether or not the deep check runs', async () => {
    const path = await populated();
    const file = join(path, 'data.mdb');
    writeFileSync(file, garbage(statSync(file).size, 1));
    const e = await expectOpenError(path, 'corrupt');
    expect(e.message).toContain('data.mdb');
    await expectOpenError(path, 'corrupt', { verify: false });
  });

  it('header overwritten: corrupt', async () => {
    const path = await populated();
    overwrite(join(path, 'data.mdb'), 0, garbage(4096, 2));
    const e = await expectOpenError(path, 'corrupt', { verify: false });
    expect(e.message).toMatch(/not an LMDB data file|header/);
  });

  it('pages in the middle overwritten: corrupt (found by the check in a child process, this process survives)', async () => {
    const path = await populated();
    const file = join(path, 'data.mdb');
    const size = statSync(file).size;
    const start = Math.floor(size / 4 / 4096) * 4096;
    overwrite(file, start, garbage(Math.floor(size / 2), 3));
    const e = await expectOpenError(path, 'corrupt');
    expect(e.message).toMatch(/damaged|cannot be read|checksum/);
  });

  it('a damaged value inside an intact page: corrupt (checksum)', async () => {
    const path = await populated();
    const file = join(path, 'data.mdb');
    const data = readFileSync(file);
    const marker = Buffer.from('UNIQUE-PAYLOAD-MARKER');
    let at = data.indexOf(marker);
    expect(at).toBeGreaterThan(0);
    // Every copy (LMDB may keep an older copy of the page in a free page).
    while (at >= 0) {
      overwrite(file, at, Buffer.from('X'));
      at = data.indexOf(marker, at + 1);
    }
    const e = await expectOpenError(path, 'corrupt');
    expect(e.message).toMatch(/checksum/);
    expect(e.message).toContain('retained');
  });

  it('truncated data file: corrupt', async () => {
    const path = await populated();
    const file = join(path, 'data.mdb');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    await expectOpenError(path, 'corrupt');
    truncateSync(file, 100);
    const e = await expectOpenError(path, 'corrupt', { verify: false });
    expect(e.message).toContain('truncated');
  });

  it('empty or missing data file in an initialised store: corrupt, not a new empty store', async () => {
    const path = await populated();
    const file = join(path, 'data.mdb');
    truncateSync(file, 0);
    expect((await expectOpenError(path, 'corrupt')).message).toContain('empty');
    rmSync(file);
    expect((await expectOpenError(path, 'corrupt')).message).toContain('missing');
  });

  it('a path that is a file, or a data file that is a directory: unreadable', async () => {
    const dir = tempDir();
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    await expectOpenError(file, 'unreadable');
    const path = join(dir, 'store');
    mkdirSync(join(path, 'data.mdb'), { recursive: true });
    await expectOpenError(path, 'unreadable');
  });

  it('an LMDB file of another program, or a newer store format: incompatible', async () => {
    const path = await populated();
    rmSync(join(path, 'junction-store.json'));
    expect((await expectOpenError(path, 'incompatible')).message).toContain('junction-store.json');
    writeFileSync(join(path, 'junction-store.json'), JSON.stringify({ format: 'junction-lmdb', version: 99, initialised: true }));
    expect((await expectOpenError(path, 'incompatible')).message).toContain('version 99');
    writeFileSync(join(path, 'junction-store.json'), '{ not json');
    await expectOpenError(path, 'corrupt');
  });

  it('a store whose first open was interrupted before its data file existed starts afresh', async () => {
    const path = tempDir();
    writeFileSync(join(path, 'junction-store.json'), JSON.stringify({ format: 'junction-lmdb', version: 1, initialised: false }));
    const stores = await openLmdbStores({ path });
    expect(await stores.retained.count()).toBe(0);
    await stores.retained.put(message('a', { retain: true }));
    await stores.close();
    expect(JSON.parse(readFileSync(join(path, 'junction-store.json'), 'utf8'))).toMatchObject({ initialised: true });
    // From now on, losing the data file is an error.
    rmSync(join(path, 'data.mdb'));
    await expectOpenError(path, 'corrupt');
  });

  it('the store opens again once the damage is repaired, with its data', async () => {
    const path = await populated();
    const file = join(path, 'data.mdb');
    const good = readFileSync(file);
    overwrite(file, 0, garbage(64, 4));
    await expectOpenError(path, 'corrupt');
    writeFileSync(file, good);
    const stores = await openLmdbStores({ path });
    expect(await stores.retained.count()).toBe(301);
    expect(stores.stats().deliveries).toBe(1500);
    await stores.close();
  });
});
