import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketIndex, bucketUpper, Histogram } from '../src/histogram.js';

/** the exact ceil(q·n)-th smallest value */
function exact(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('latency histogram', () => {
  it('is exact below 128 ns and within 1/64 above', () => {
    for (let v = 0; v < 128; v++) expect(bucketUpper(bucketIndex(v))).toBe(v);
    fc.assert(
      fc.property(fc.integer({ min: 128, max: Number.MAX_SAFE_INTEGER }), (v) => {
        const i = bucketIndex(v);
        const up = bucketUpper(i);
        expect(i).toBeLessThan(BUCKETS);
        expect(up).toBeGreaterThanOrEqual(v);
        expect((up - v) / v).toBeLessThanOrEqual(1 / 64);
        // the bucket below ends below v
        expect(bucketUpper(i - 1)).toBeLessThan(v);
      }),
    );
  });

  it('places powers of two and their neighbours correctly (no log2 rounding slips)', () => {
    for (let e = 7; e < 53; e++) {
      const p = 2 ** e;
      expect(bucketUpper(bucketIndex(p - 1))).toBeLessThan(p);
      expect(bucketUpper(bucketIndex(p))).toBeGreaterThanOrEqual(p);
      expect(bucketIndex(p)).toBe(bucketIndex(p - 1) + 1);
    }
  });

  it('gives exact percentiles for small values', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.add(v);
    expect(h.quantile(0.5)).toBe(50);
    expect(h.quantile(0.9)).toBe(90);
    expect(h.quantile(0.99)).toBe(99);
    expect(h.quantile(0.999)).toBe(100);
    expect(h.quantile(1)).toBe(100);
    expect(h.max).toBe(100);
    expect(h.min).toBe(1);
    expect(h.n).toBe(100);
  });

  it('agrees with the sorted values within 1/64 and never exceeds the maximum', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000_000 }), { minLength: 1, maxLength: 300 }), (vals) => {
        const h = new Histogram();
        for (const v of vals) h.add(v);
        const s = [...vals].sort((a, b) => a - b);
        for (const q of [0.5, 0.9, 0.99, 0.999]) {
          const got = h.quantile(q);
          const want = exact(s, q);
          expect(got).toBeGreaterThanOrEqual(want);
          expect(got - want).toBeLessThanOrEqual(want / 64 + 1e-9);
          expect(got).toBeLessThanOrEqual(h.max);
        }
        expect(h.max).toBe(s[s.length - 1]);
      }),
      { numRuns: 200 },
    );
  });

  it('merges histograms of several workers as if one had recorded everything', () => {
    const all = new Histogram();
    const parts = [new Histogram(), new Histogram(), new Histogram()];
    for (let i = 0; i < 3000; i++) {
      const v = (i * 7919) % 5_000_000;
      all.add(v);
      parts[i % 3]!.add(v);
    }
    const merged = new Histogram();
    for (const p of parts) merged.merge(p.toData());
    expect(merged.summary()).toEqual(all.summary());
    expect(merged.min).toBe(all.min);
    expect(Histogram.from(all.toData()).quantile(0.99)).toBe(all.quantile(0.99));
  });

  it('summarises in microseconds with one decimal, zeros when empty', () => {
    expect(new Histogram().summary()).toEqual({ n: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 });
    const h = new Histogram();
    h.add(250_000); // 250 µs
    h.add(1_000_000); // 1 ms
    const s = h.summary();
    expect(s.n).toBe(2);
    expect(s.p50).toBeCloseTo(250, -1);
    expect(s.max).toBe(1000);
    expect(s.mean).toBe(625);
    h.add(-5); // clock skew: counted as 0
    expect(h.min).toBe(0);
  });
});
