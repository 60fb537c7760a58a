/**
 * A monotonic nanosecond clock shared by every thread of the process.
 *
 * `process.hrtime.bigint()` is CLOCK_MONOTONIC, the same in every worker, but allocates a BigInt.
 * `performance.now()` is cheap but counts from each thread's own start. So each thread measures
 * once how far its `performance.now()` is from hrtime and adds that offset: the result is hrtime in
 * nanoseconds, as a double (exact to the nanosecond for 104 days of uptime), comparable across
 * threads, which is what latency needs (send time written by one worker, read by another).
 */
import { performance } from 'node:perf_hooks';

function calibrate(): number {
  let best = Number.POSITIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < 9; i++) {
    const a = performance.now();
    const h = Number(process.hrtime.bigint()) / 1e6;
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      offset = h - (a + b) / 2;
    }
  }
  return offset;
}

const offsetMs = calibrate();

/** CLOCK_MONOTONIC in nanoseconds (an integer-valued double). */
export function nowNs(): number {
  return Math.round((performance.now() + offsetMs) * 1e6);
}
