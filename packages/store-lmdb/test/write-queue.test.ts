import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { open } from 'lmdb';
import { peekBody, readRun } from '../src/codec.js';
import { openLmdbStores, type LmdbStores } from '../src/index.js';
import { delivery, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

/**
 * The deliveries of a session written in one transaction share a record (a run), rewritten with
 * what is left of it whenever one changes, and never written when nothing is left before its
 * transaction. Random sequences of session-store writes, issued in the same event-loop turn or
 * across turns and reopens, with the written runs kept in memory or read back from disk, must
 * leave on disk exactly what a plain model of the deliveries says; and at any point (a crash),
 * the deliveries in flight on disk must be the first ones sent.
 */
interface Model {
  topic: string;
  qos: 1 | 2;
  seq: number;
  packetId: number;
  released: boolean;
  /** When it was marked in flight (order of the calls). */
  sentAt: number;
}

type Op =
  | { kind: 'append'; client: number; qos: 1 | 2 }
  | { kind: 'send'; client: number; pick: number }
  | { kind: 'release'; client: number; pick: number }
  | { kind: 'complete'; client: number; pick: number }
  | { kind: 'discard'; client: number; pick: number }
  | { kind: 'delete'; client: number }
  | { kind: 'turn' }
  | { kind: 'crashpoint' }
  | { kind: 'reopen' };

const client = fc.integer({ min: 0, max: 2 });
const pick = fc.nat(40);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), client, qos: fc.constantFrom(1 as const, 2 as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), client, pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), client, pick }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('complete' as const), client, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('discard' as const), client, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), client }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'turn' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crashpoint' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

async function check(stores: LmdbStores, model: Map<string, Model[]>): Promise<void> {
  for (let c = 0; c < 3; c++) {
    const id = `c${c}`;
    const want = (model.get(id) ?? []).map((m) => [m.seq, m.topic, m.qos, m.packetId || undefined, m.released || undefined]);
    const got = (await stores.sessions.deliveries(id)).map((d) => [d.seq, d.message.topic, d.qos, d.packetId, d.released]);
    expect(got).toEqual(want);
  }
}

/**
 * What a crash now would leave: the deliveries in flight on disk must be the first ones sent of
 * those not completed (the rest are resent after them, in order, after a restart).
 */
function checkInflightPrefix(dir: string, model: Map<string, Model[]>): void {
  const env = open<Buffer, Buffer>({ path: dir, maxDbs: 16, keyEncoding: 'binary', encoding: 'binary', readOnly: true });
  const bound = new Set<string>();
  try {
    for (const { key, value } of env.openDB<Buffer, Buffer>({ name: 'deliveries', keyEncoding: 'binary', encoding: 'binary' }).getRange({})) {
      const client = key.toString('utf8', 1, 1 + key[0]!);
      const first = Number(key.readBigUInt64BE(key.length - 8));
      const run = readRun(Buffer.from(value));
      for (let i = 0; i < run.members.length; i += 3) {
        if (peekBody(run.value, run.members[i + 1]!, run.members[i + 2]!).packetId !== 0) bound.add(`${client} ${first + run.members[i]!}`);
      }
    }
  } finally {
    void env.close();
  }
  for (const [id, list] of model) {
    const sent = list.filter((m) => m.packetId !== 0).sort((x, y) => x.sentAt - y.sentAt);
    const onDisk = sent.map((m) => bound.has(`${id} ${m.seq}`));
    const k = onDisk.indexOf(false);
    expect(k === -1 || !onDisk.slice(k).includes(true), `${id}: in flight on disk out of send order: ${JSON.stringify(onDisk)}`).toBe(true);
  }
}

describe('delivery runs', () => {
  it('leave on disk what the writes say, however they are grouped into transactions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 80 }), fc.constantFrom(0, 2), fc.constantFrom(0, 1_000_000), async (ops, commitInterval, cacheBytes) => {
        const dir = tempDir();
        let stores = await openLmdbStores({ path: dir, verify: false, commitInterval, cacheBytes });
        const model = new Map<string, Model[]>();
        let n = 0;
        let nextPacketId = 1;
        const pending: Promise<unknown>[] = [];
        try {
          for (const o of ops) {
            if (o.kind === 'turn') {
              await new Promise((r) => setImmediate(r));
              continue;
            }
            if (o.kind === 'crashpoint') {
              // Once what was issued is on disk (write-behind timers may fire meanwhile, or not).
              await Promise.all(pending);
              checkInflightPrefix(dir, model);
              continue;
            }
            if (o.kind === 'reopen') {
              await Promise.all(pending.splice(0));
              await stores.close();
              stores = await openLmdbStores({ path: dir, verify: false, commitInterval, cacheBytes });
              await check(stores, model);
              continue;
            }
            const id = `c${o.client}`;
            const list = model.get(id) ?? [];
            model.set(id, list);
            const sessions = stores.sessions;
            if (o.kind === 'append') {
              const topic = `t/${n++}`;
              const { seq, durable } = sessions.append(id, delivery(topic, { qos: o.qos }));
              pending.push(durable);
              list.push({ topic, qos: o.qos, seq, packetId: 0, released: false, sentAt: 0 });
            } else if (o.kind === 'delete') {
              pending.push(sessions.delete(id));
              model.delete(id);
            } else {
              const queued = list.filter((m) => m.packetId === 0);
              const inflight = list.filter((m) => m.packetId !== 0);
              if (o.kind === 'send' && queued.length > 0) {
                const m = queued[o.pick % queued.length]!;
                m.packetId = nextPacketId++;
                m.sentAt = m.packetId;
                pending.push(sessions.markInflightNow!(id, m.seq, m.packetId));
              } else if (o.kind === 'release') {
                const m = inflight.filter((x) => x.qos === 2 && !x.released)[o.pick % Math.max(1, inflight.length)];
                if (m) {
                  m.released = true;
                  pending.push(sessions.markReleased(id, m.packetId));
                }
              } else if (o.kind === 'complete' && inflight.length > 0) {
                const m = inflight[o.pick % inflight.length]!;
                list.splice(list.indexOf(m), 1);
                pending.push(sessions.completeNow!(id, m.packetId));
              } else if (o.kind === 'discard' && queued.length > 0) {
                const m = queued[o.pick % queued.length]!;
                list.splice(list.indexOf(m), 1);
                pending.push(sessions.discardNow!(id, m.seq));
              }
            }
          }
          await Promise.all(pending.splice(0));
          await check(stores, model);
          await stores.close();
          stores = await openLmdbStores({ path: dir, verify: false, commitInterval, cacheBytes });
          await check(stores, model);
          expect(stores.stats().deliveries).toBe([...model.values()].reduce((a, l) => a + l.length, 0));
        } finally {
          await stores.close();
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
