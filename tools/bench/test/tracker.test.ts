import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqTracker } from '../src/tracker.js';

describe('loss, duplicate and order accounting', () => {
  it('counts an in-order stream as complete', () => {
    const t = new SeqTracker(1);
    for (let s = 0; s < 100; s++) expect(t.record(0, s)).toBe(1);
    expect(t.stats()).toEqual({ received: 100, unique: 100, duplicates: 0, outOfOrder: 0, gaps: 0 });
    expect(t.lost(0, 100)).toBe(0);
    expect(t.position(0)).toBe(100);
  });

  it('counts skipped messages as lost, and the tail never received', () => {
    const t = new SeqTracker(1);
    for (const s of [0, 1, 2, 5, 6, 9]) t.record(0, s);
    expect(t.gaps).toBe(4); // 3, 4, 7, 8
    expect(t.lost(0, 10)).toBe(4);
    expect(t.lost(0, 12)).toBe(6); // and 10, 11 never arrived
  });

  it('tells a late arrival (out of order) from a duplicate', () => {
    const t = new SeqTracker(1);
    expect(t.record(0, 0)).toBe(1);
    expect(t.record(0, 3)).toBe(3); // 1 and 2 skipped: the position jumps to 4
    expect(t.record(0, 2)).toBe(0); // late: fills a hole
    expect(t.record(0, 2)).toBe(0); // now a duplicate
    expect(t.record(0, 3)).toBe(0); // duplicate
    expect(t.record(0, 1)).toBe(0); // late
    expect(t.stats()).toEqual({ received: 6, unique: 4, duplicates: 2, outOfOrder: 2, gaps: 2 });
    expect(t.lost(0, 4)).toBe(0);
  });

  it('splits a hole when its middle arrives', () => {
    const t = new SeqTracker(1);
    t.record(0, 10); // hole 0..9
    t.record(0, 5);
    t.record(0, 0);
    t.record(0, 9);
    expect(t.outOfOrder).toBe(3);
    expect(t.lost(0, 11)).toBe(7);
    t.record(0, 5);
    expect(t.duplicates).toBe(1);
  });

  it('keeps streams apart', () => {
    const t = new SeqTracker(3);
    t.record(0, 0);
    t.record(1, 0);
    t.record(1, 1);
    t.record(2, 1);
    expect(t.lost(0, 2)).toBe(1);
    expect(t.lost(1, 2)).toBe(0);
    expect(t.lost(2, 2)).toBe(1);
    expect(t.duplicates + t.outOfOrder).toBe(0);
  });

  it('matches a naive model on random loss, duplication and reordering', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 400 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        (sent, ops, dropRate) => {
          // deliveries: each message once, some dropped, some duplicated, then locally shuffled
          const seq: number[] = [];
          for (let s = 0; s < sent; s++) if ((s * 2654435761) % 1000 >= dropRate * 1000) seq.push(s);
          for (const [a, b] of ops) {
            if (seq.length === 0) break;
            const i = a % seq.length;
            if (b % 3 === 0) seq.splice(i, 0, seq[i]!); // duplicate
            else {
              const j = Math.min(seq.length - 1, i + (b % 5)); // swap nearby
              [seq[i], seq[j]] = [seq[j]!, seq[i]!];
            }
          }
          const t = new SeqTracker(1);
          let advanced = 0;
          for (const s of seq) advanced += t.record(0, s);
          const distinct = new Set(seq);
          expect(t.unique).toBe(distinct.size);
          expect(t.duplicates).toBe(seq.length - distinct.size);
          expect(t.lost(0, sent)).toBe(sent - distinct.size);
          // out of order: arrived after a higher sequence number had already arrived
          let maxSeen = -1;
          const seen = new Set<number>();
          let late = 0;
          for (const s of seq) {
            if (!seen.has(s) && s < maxSeen) late++;
            seen.add(s);
            maxSeen = Math.max(maxSeen, s);
          }
          expect(t.outOfOrder).toBe(late);
          expect(advanced).toBe(t.position(0));
          expect(t.position(0)).toBe(seq.length ? Math.max(...seq) + 1 : 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
