/**
 * Time-driven parts in memory with a manual clock: the retransmission schedule of confirmable
 * notifications (RFC 7252 §4.2, §4.8) and the reassembly of Block1 transfers (RFC 7959 §2.5).
 */
import { ManualClock } from '@junction/broker-core/testing';
import { describe, expect, it } from 'vitest';
import { Block1Assembler } from '../src/server/block1.js';
import { Notifier, type Outcome } from '../src/session/notifier.js';
import { peerOf } from '../src/transport/udp.js';
import { parse } from '../src/message/frame.js';

const peer = peerOf({ address: '192.0.2.1', port: 5683 });

describe('notifier', () => {
  function setup(random = 0) {
    const clock = new ManualClock(0);
    const sent: { at: number; bytes: Buffer }[] = [];
    const n = new Notifier((bytes) => sent.push({ at: clock.now(), bytes }), { ackTimeoutMs: 2000, maxRetransmit: 4, clock, random: () => random });
    return { clock, sent, n };
  }

  it('retransmits after ACK_TIMEOUT, doubling, MAX_RETRANSMIT times, then times out (MAX_TRANSMIT_WAIT)', () => {
    const { clock, sent, n } = setup();
    const outcomes: Outcome[] = [];
    n.notify({}, peer, { code: 0x45, token: Buffer.from('t'), payload: Buffer.from('x') }, true, (o) => outcomes.push(o));
    clock.advance(200_000);
    expect(sent.map((s) => s.at)).toEqual([0, 2000, 6000, 14000, 30000]);
    expect(new Set(sent.map((s) => s.bytes.toString('hex'))).size).toBe(1);
    // Given up after the last retransmission's timeout: 2 x (1 + 2 + 4 + 8 + 16) = 62 s.
    expect(outcomes).toEqual(['timeout']);
    expect(n.counts).toMatchObject({ con: 1, retransmissions: 4, timeout: 1 });
  });

  it('randomises the first timeout up to ACK_RANDOM_FACTOR (1.5)', () => {
    const { clock, sent, n } = setup(0.999);
    n.notify({}, peer, { code: 0x45 }, true, () => {});
    clock.advance(3000);
    expect(sent.map((s) => s.at)).toEqual([0, 2999]);
  });

  it('stops on the matching ACK or RST from the same peer only', () => {
    const { clock, sent, n } = setup();
    const outcomes: Outcome[] = [];
    const id = n.notify({}, peer, { code: 0x45 }, true, (o) => outcomes.push(o));
    const first = parse(sent[0]!.bytes);
    expect(first.ok && first.message.messageId).toBe(id);
    expect(n.onEmpty(peerOf({ address: '192.0.2.2', port: 5683 }), 'ACK', id)).toBe(false);
    expect(n.onEmpty(peer, 'ACK', (id + 1) & 0xffff)).toBe(false);
    expect(n.onEmpty(peer, 'ACK', id)).toBe(true);
    clock.advance(100_000);
    expect(sent).toHaveLength(1);
    const id2 = n.notify({}, peer, { code: 0x45 }, true, (o) => outcomes.push(o));
    n.onEmpty(peer, 'RST', id2);
    expect(outcomes).toEqual(['acked', 'reset']);
  });

  it('matches a RST to a NON notification, and forgets what a client had in flight', () => {
    const { clock, sent, n } = setup();
    const outcomes: string[] = [];
    const owner = {};
    const non = n.notify(owner, peer, { code: 0x45 }, false, (o) => outcomes.push(`non:${o}`));
    n.notify(owner, peer, { code: 0x45 }, true, (o) => outcomes.push(`con:${o}`));
    expect(n.onEmpty(peer, 'RST', non)).toBe(true);
    n.forget(owner);
    clock.advance(100_000);
    expect(outcomes).toEqual(['non:reset']);
    expect(sent).toHaveLength(2);
    expect(n.outstanding).toBe(0);
  });
});

describe('Block1 reassembly', () => {
  const opts = (clock: ManualClock) => ({ maxBodySize: 100, maxBlockSize: 32, lifetimeMs: 1000, clock });

  it('places blocks by offset, so a client may switch to the smaller size asked for', () => {
    const a = new Block1Assembler(opts(new ManualClock(0)));
    expect(a.accept('k', { num: 0, more: true, size: 64 }, Buffer.alloc(64, 1), 1, undefined)).toEqual({ kind: 'continue', block: { num: 0, more: true, size: 32 } });
    expect(a.accept('k', { num: 2, more: true, size: 32 }, Buffer.alloc(32, 2), 2, undefined).kind).toBe('continue');
    const done = a.accept('k', { num: 3, more: false, size: 32 }, Buffer.alloc(4, 3), 3, undefined);
    expect(done.kind === 'complete' && done.body).toEqual(Buffer.concat([Buffer.alloc(64, 1), Buffer.alloc(32, 2), Buffer.alloc(4, 3)]));
    expect(a.accept('k', { num: 3, more: false, size: 32 }, Buffer.alloc(4, 3), 3, undefined).kind).toBe('duplicate');
  });

  it('drops a transfer not continued within the lifetime', () => {
    const clock = new ManualClock(0);
    const a = new Block1Assembler(opts(clock));
    a.accept('k', { num: 0, more: true, size: 16 }, Buffer.alloc(16), 1, undefined);
    clock.advance(1001);
    expect(a.accept('k', { num: 1, more: false, size: 16 }, Buffer.alloc(1), 2, undefined).kind).toBe('incomplete');
    a.accept('j', { num: 0, more: true, size: 16 }, Buffer.alloc(16), 3, undefined);
    clock.advance(1001);
    a.expire();
    expect(a.size).toBe(0);
  });

  it('refuses bodies over the limit, by Size1 or by what arrived', () => {
    const a = new Block1Assembler(opts(new ManualClock(0)));
    expect(a.accept('k', { num: 0, more: true, size: 32 }, Buffer.alloc(32), 1, 101).kind).toBe('too_large');
    for (let i = 0; i < 3; i++) a.accept('k', { num: i, more: true, size: 32 }, Buffer.alloc(32), 10 + i, undefined);
    expect(a.accept('k', { num: 3, more: false, size: 32 }, Buffer.alloc(5), 20, undefined).kind).toBe('too_large');
  });
});
