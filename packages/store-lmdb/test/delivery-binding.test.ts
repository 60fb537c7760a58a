import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { open } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeDelivery, peekBody, readRun } from '../src/codec.js';
import { openLmdbStores } from '../src/index.js';
import { clientKey, packetIdKey, seqKey } from '../src/keys.js';
import { delivery, message, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

describe('delivery records carry their packet id', () => {
  it('the checksum is the CRC-32 zlib computes, short and long values alike', () => {
    for (const size of [0, 10, 200, 300, 5000]) {
      const buf = encodeDelivery(delivery('a/b', { message: message('a/b', { payload: Buffer.alloc(size, 7) }) }), 9, false);
      expect(buf.readUInt32BE(buf.length - 4)).toBe(crc32(buf.subarray(0, buf.length - 4)));
    }
  });

  it('a delivery that cannot be encoded is refused by append, nothing stored; the store goes on', async () => {
    const stores = await openLmdbStores({ path: tempDir() });
    const s = stores.sessions;
    const bad = delivery('b/1', { message: message('b/1', { payload: 'not a buffer' as unknown as Buffer }) });
    expect(() => s.append('c', bad)).toThrow(TypeError);
    expect(() => s.append('c', delivery('b/2', { subscriptionIds: [-4] }))).toThrow(TypeError);
    const ok = s.append('c', delivery('b/3'));
    await ok.durable;
    expect((await s.deliveries('c')).map((d) => d.message.topic)).toEqual(['b/3']);
    expect(stores.stats().deliveries).toBe(1);
    await stores.close();
  });

  it('on disk, the deliveries in flight are always the first ones sent, whatever else rewrites their records', async () => {
    const path = tempDir();
    const stores = await openLmdbStores({ path });
    const s = stores.sessions;
    // Two records: [a] and [b, b2].
    const a = s.append('c', delivery('o/a'));
    await a.durable;
    const b = s.append('c', delivery('o/b'));
    const b2 = s.append('c', delivery('o/b2'));
    await b2.durable;
    // a then b sent (QoS 1: their packet ids written behind), then b's record rewritten for
    // another reason within the write-behind time.
    s.markInflightNow('c', a.seq, 1);
    s.markInflightNow('c', b.seq, 2);
    await s.discardNow('c', b2.seq);
    // What a crash now would leave: b may be in flight on disk only if a is too.
    const env = open<Buffer, Buffer>({ path, maxDbs: 16, keyEncoding: 'binary', encoding: 'binary', readOnly: true });
    const onDisk = new Map<number, number>();
    for (const { key, value } of env.openDB<Buffer, Buffer>({ name: 'deliveries', keyEncoding: 'binary', encoding: 'binary' }).getRange({})) {
      const first = Number(key.readBigUInt64BE(key.length - 8));
      const run = readRun(Buffer.from(value));
      for (let i = 0; i < run.members.length; i += 3) onDisk.set(first + run.members[i]!, peekBody(run.value, run.members[i + 1]!, run.members[i + 2]!).packetId);
    }
    await env.close();
    expect(onDisk.has(b2.seq)).toBe(false);
    if (onDisk.get(b.seq) !== 0) expect(onDisk.get(a.seq)).toBe(1);
    // Written behind, both are on disk after the flush.
    await stores.flushed();
    await stores.close();
    const again = await openLmdbStores({ path });
    expect((await again.sessions.deliveries('c')).map((d) => [d.seq, d.packetId])).toEqual([
      [a.seq, 1],
      [b.seq, 2],
    ]);
    await again.close();
  });

  it('a packet id marked in flight is written by close; one completed first is never written', async () => {
    const path = tempDir();
    let stores = await openLmdbStores({ path });
    const s = stores.sessions;
    const a = await s.enqueue('c', delivery('t/1'));
    const b = await s.enqueue('c', delivery('t/2'));
    const c = await s.enqueue('c', delivery('t/3', { qos: 2 }));
    await s.markInflight('c', a, 1);
    await s.markInflight('c', b, 2);
    await s.markInflight('c', c, 3);
    expect(await s.complete('c', 2)).toBe(true);
    await stores.close();
    stores = await openLmdbStores({ path });
    expect((await stores.sessions.deliveries('c')).map((d) => [d.seq, d.packetId])).toEqual([
      [a, 1],
      [c, 3],
    ]);
    await stores.close();
  });

  it('opens a format 1 store: packet ids move from the inflight table into the records', async () => {
    const path = tempDir();
    let stores = await openLmdbStores({ path });
    const s = stores.sessions;
    await s.put({ clientId: 'old', expiryInterval: 60, subscriptions: [{ filter: 'o/#', qos: 2 }] });
    const seqs = [await s.enqueue('old', delivery('o/1')), await s.enqueue('old', delivery('o/2', { qos: 2 })), await s.enqueue('old', delivery('o/3'))];
    const before = await s.deliveries('old');
    await stores.close();

    // Rewrite it as format 1 wrote it: one version 1 record per delivery, packet ids in the inflight table.
    const env = open<Buffer, Buffer>({ path, maxDbs: 16, keyEncoding: 'binary', encoding: 'binary' });
    const deliveries = env.openDB<Buffer, Buffer>({ name: 'deliveries', keyEncoding: 'binary', encoding: 'binary' });
    const inflight = env.openDB<Buffer, Buffer>({ name: 'inflight', keyEncoding: 'binary', encoding: 'binary' });
    const key = clientKey('old');
    for (const k of [...deliveries.getKeys({})]) await deliveries.remove(k);
    for (const [i, seq] of seqs.entries()) {
      const v2 = encodeDelivery(before[i]!);
      const body = Buffer.concat([Buffer.from([1, v2[1]!]), v2.subarray(4, v2.length - 4)]);
      const v1 = Buffer.alloc(body.length + 4);
      body.copy(v1);
      v1.writeUInt32BE(crc32(body), body.length);
      await deliveries.put(seqKey(key, seq), v1);
    }
    const marker = (seq: number, released: boolean) => {
      const v = Buffer.alloc(9);
      v.writeUInt32BE(Math.floor(seq / 2 ** 32), 0);
      v.writeUInt32BE(seq >>> 0, 4);
      v[8] = released ? 1 : 0;
      return v;
    };
    await inflight.put(packetIdKey(key, 10), marker(seqs[0]!, false));
    await inflight.put(packetIdKey(key, 11), marker(seqs[1]!, true));
    await inflight.put(packetIdKey(key, 12), marker(999_999, false)); // its delivery is gone
    await env.close();
    const markerFile = join(path, 'junction-store.json');
    writeFileSync(markerFile, JSON.stringify({ ...JSON.parse(readFileSync(markerFile, 'utf8')), version: 1 }));

    stores = await openLmdbStores({ path });
    expect(JSON.parse(readFileSync(markerFile, 'utf8'))).toMatchObject({ version: 3 });
    const expected = [
      { ...before[0], packetId: 10 },
      { ...before[1], packetId: 11, released: true },
      before[2],
    ];
    expect(await stores.sessions.deliveries('old')).toEqual(expected);
    expect(await stores.sessions.complete('old', 10)).toBe(true);
    await stores.close();

    stores = await openLmdbStores({ path });
    expect(await stores.sessions.deliveries('old')).toEqual(expected.slice(1));
    const used = stores.stats().usedBytes;
    await stores.close();
    const check = open<Buffer, Buffer>({ path, maxDbs: 16, keyEncoding: 'binary', encoding: 'binary' });
    expect([...check.openDB<Buffer, Buffer>({ name: 'inflight', keyEncoding: 'binary', encoding: 'binary' }).getKeys({})]).toEqual([]);
    await check.close();
    expect(used).toBeGreaterThan(0);
  });

  it('opens a format 2 store: one delivery per record, read and rewritten as runs', async () => {
    const path = tempDir();
    let stores = await openLmdbStores({ path });
    await stores.sessions.put({ clientId: 'two', expiryInterval: 60, subscriptions: [{ filter: 't/#', qos: 2 }] });
    await stores.close();

    // Format 2: a record per delivery under its own sequence number, its binding inside.
    const env = open<Buffer, Buffer>({ path, maxDbs: 16, keyEncoding: 'binary', encoding: 'binary' });
    const deliveries = env.openDB<Buffer, Buffer>({ name: 'deliveries', keyEncoding: 'binary', encoding: 'binary' });
    const key = clientKey('two');
    const written = [
      { seq: 5, packetId: 1, released: false, d: delivery('t/1') },
      { seq: 6, packetId: 2, released: true, d: delivery('t/2', { qos: 2 }) },
      { seq: 9, packetId: 0, released: false, d: delivery('t/3', { subscriptionIds: [4] }) },
    ];
    for (const w of written) await deliveries.put(seqKey(key, w.seq), encodeDelivery(w.d, w.packetId, w.released));
    await env.close();
    const markerFile = join(path, 'junction-store.json');
    writeFileSync(markerFile, JSON.stringify({ ...JSON.parse(readFileSync(markerFile, 'utf8')), version: 2 }));

    stores = await openLmdbStores({ path });
    expect(JSON.parse(readFileSync(markerFile, 'utf8'))).toMatchObject({ version: 3 });
    const expected = written.map((w) => ({ seq: w.seq, ...w.d, ...(w.packetId ? { packetId: w.packetId } : {}), ...(w.released ? { released: true } : {}) }));
    expect(await stores.sessions.deliveries('two')).toEqual(expected);
    // New deliveries get sequence numbers above the old ones; old records change and go.
    const next = stores.sessions.append('two', delivery('t/4'));
    expect(next.seq).toBeGreaterThan(9);
    await stores.sessions.markInflight('two', 9, 3);
    expect(await stores.sessions.complete('two', 1)).toBe(true);
    await next.durable;
    await stores.close();

    stores = await openLmdbStores({ path });
    expect(await stores.sessions.deliveries('two')).toEqual([expected[1], { ...expected[2], packetId: 3 }, { seq: next.seq, ...delivery('t/4') }]);
    await stores.close();
  });
});
