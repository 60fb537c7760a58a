import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { open } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDelivery, encodeDelivery, peekDelivery, withBinding } from '../src/codec.js';
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

  it('withBinding changes only the packet id and release state', () => {
    const d = delivery('x/y', { qos: 2, subscriptionIds: [3, 70000] });
    const queued = encodeDelivery(d);
    expect(peekDelivery(queued)).toMatchObject({ packetId: 0, released: false });
    const sent = withBinding(queued, 65535, true);
    expect(peekDelivery(sent)).toMatchObject({ packetId: 65535, released: true });
    expect(decodeDelivery(sent)).toEqual(decodeDelivery(queued));
    const back = withBinding(sent, 0, false, true);
    expect(back).toEqual(queued);
    // A damaged record is refused, not patched.
    const damaged = Buffer.from(sent);
    damaged[10] = damaged[10]! ^ 1;
    expect(() => withBinding(damaged, 5, false)).toThrow(/checksum/);
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

    // Rewrite it as format 1 wrote it: version 1 records, packet ids in the inflight table.
    const env = open<Buffer, Buffer>({ path, maxDbs: 16, keyEncoding: 'binary', encoding: 'binary' });
    const deliveries = env.openDB<Buffer, Buffer>({ name: 'deliveries', keyEncoding: 'binary', encoding: 'binary' });
    const inflight = env.openDB<Buffer, Buffer>({ name: 'inflight', keyEncoding: 'binary', encoding: 'binary' });
    const key = clientKey('old');
    for (const seq of seqs) {
      const v2 = deliveries.getBinary(seqKey(key, seq))!;
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
    expect(JSON.parse(readFileSync(markerFile, 'utf8'))).toMatchObject({ version: 2 });
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
});
