/**
 * A log-linear latency histogram, the same layout as mqttload's: values in nanoseconds, exact below
 * 64, then 64 linear sub-buckets per power of two (at most 1/64 ≈ 1.6 % relative error). Recording
 * is a few arithmetic operations and one array increment, with no allocation; histograms of several
 * workers merge by adding their buckets.
 */
export const SUB_BUCKETS = 64;
export const BUCKETS = 59 * SUB_BUCKETS;

export interface HistogramData {
  buckets: Float64Array;
  n: number;
  max: number;
  min: number;
  sum: number;
}

export interface Percentiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** floor(log2(v)) for an integer v >= 1 below 2^53. */
function log2floor(v: number): number {
  if (v < 0x80000000) return 31 - Math.clz32(v);
  let e = Math.floor(Math.log2(v));
  // Math.log2 may round up just below a power of two
  if (2 ** e > v) e--;
  else if (2 ** (e + 1) <= v) e++;
  return e;
}

export function bucketIndex(v: number): number {
  if (v < SUB_BUCKETS) return v < 0 ? 0 : Math.floor(v);
  const x = Math.floor(v);
  const e = log2floor(x);
  const shift = e - 6;
  const sub = Math.floor(x / 2 ** shift) - SUB_BUCKETS;
  const idx = (e - 5) * SUB_BUCKETS + sub;
  return idx < BUCKETS ? idx : BUCKETS - 1;
}

/** The largest value that falls into bucket `idx`. */
export function bucketUpper(idx: number): number {
  if (idx < SUB_BUCKETS) return idx;
  const e = Math.floor(idx / SUB_BUCKETS) + 5;
  const sub = idx % SUB_BUCKETS;
  const step = 2 ** (e - 6);
  return (SUB_BUCKETS + sub) * step + step - 1;
}

export class Histogram implements HistogramData {
  buckets = new Float64Array(BUCKETS);
  n = 0;
  max = 0;
  min = 0;
  sum = 0;

  /** Records one value in nanoseconds (negative values count as 0). */
  add(v: number): void {
    if (v < 0) v = 0;
    this.buckets[bucketIndex(v)]!++;
    if (this.n === 0 || v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.n++;
    this.sum += v;
  }

  merge(o: HistogramData): this {
    if (o.n === 0) return this;
    for (let i = 0; i < BUCKETS; i++) this.buckets[i]! += o.buckets[i]!;
    if (this.n === 0 || o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    this.n += o.n;
    this.sum += o.sum;
    return this;
  }

  /**
   * The value at quantile q (0..1), in nanoseconds: the upper bound of the bucket holding the
   * ceil(q·n)-th smallest value, never above the recorded maximum. 0 when empty.
   */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    let rank = Math.ceil(q * this.n - 1e-9);
    if (rank < 1) rank = 1;
    let c = 0;
    for (let i = 0; i < BUCKETS; i++) {
      c += this.buckets[i]!;
      if (c >= rank) return Math.min(bucketUpper(i), this.max);
    }
    return this.max;
  }

  /** p50/p90/p99/p99.9/max/mean in microseconds, one decimal, as mqttload prints them. */
  summary(): Percentiles {
    const us = (ns: number) => Math.round(ns / 100) / 10;
    return {
      n: this.n,
      p50: us(this.quantile(0.5)),
      p90: us(this.quantile(0.9)),
      p99: us(this.quantile(0.99)),
      p999: us(this.quantile(0.999)),
      max: us(this.max),
      mean: this.n ? us(this.sum / this.n) : 0,
    };
  }

  /** A plain object for postMessage (structured clone copies the typed array). */
  toData(): HistogramData {
    return { buckets: this.buckets, n: this.n, max: this.max, min: this.min, sum: this.sum };
  }

  static from(d: HistogramData): Histogram {
    return new Histogram().merge(d);
  }
}
