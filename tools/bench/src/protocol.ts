/** What the main thread and the load workers share: the init data, the messages, shared memory. */
import type { HistogramData } from './histogram.js';
import type { RunConfig } from './scenarios.js';

/**
 * ctl (Int32Array) slots: PHASE (set by the main thread); WAKE, a counter subscribers bump when
 * they advanced (publishers blocked by the window wait on it); PARKED, non-zero while some
 * publisher waits on WAKE, so subscribers only pay for Atomics.notify when someone listens;
 * SLEEP, never changed, for precise sleeps with Atomics.wait; FAILED.
 */
export const CTL = { PHASE: 0, WAKE: 1, SLEEP: 2, FAILED: 3, PARKED: 4, SIZE: 8 } as const;

export const PHASE = { SETUP: 0, WARMUP: 1, MEASURE: 2, DRAIN: 3, DONE: 4 } as const;

/** per-worker counters (Uint32Array, WSTAT.SIZE slots per worker, modulo 2^32) */
export const WSTAT = { RECV: 0, UNIQ: 1, ACKED: 2, INFLIGHT: 3, SENT: 4, SIZE: 8 } as const;

export interface SharedBuffers {
  ctl: SharedArrayBuffer;
  /** per publisher: messages sent (Uint32) */
  pubSent: SharedArrayBuffer;
  /** per publisher: sum over its subscribers of how far their next-expected sequence advanced (Uint32, mod 2^32) */
  pubPos: SharedArrayBuffer;
  wstat: SharedArrayBuffer;
}

export interface WorkerInit {
  entry: string;
  index: number;
  cfg: RunConfig;
  /** global subscriber indices this worker owns */
  subs: number[];
  /** global publisher indices this worker owns */
  pubs: number[];
  /** conn / subscribe scenarios: global connection indices */
  conns: number[];
  /** parallel handshakes in this worker */
  conc: number;
  /** per publisher: how many subscribers receive its messages */
  nsubsOf: number[];
  /** unique per run: client ids never collide with a previous run's lingering connections */
  tag: string;
  shared: SharedBuffers;
}

export interface WorkerCounters {
  recv: number;
  sent: number;
  puback: number;
  pubrec: number;
  pubcomp: number;
  badAck: number;
  badPayload: number;
  misrouted: number;
  protoErr: number;
  connFail: number;
  connackFail: number;
  subackFail: number;
  disconnects: number;
  skipped: number;
  pingresp: number;
  inflightEnd: number;
  connected: number;
  openAtEnd: number;
  subscribed: number;
  /** socket reads (read callbacks) and writes: messages per system call */
  reads: number;
  writes: number;
}

export interface WorkerResult {
  type: 'result';
  index: number;
  counters: WorkerCounters;
  received: number;
  unique: number;
  duplicates: number;
  outOfOrder: number;
  gaps: number;
  lost: number;
  lat: HistogramData;
  sendLag: HistogramData;
  connLat: HistogramData;
  subLat: HistogramData;
  firstRx: number;
  lastRx: number;
}

export type FromWorker =
  | { type: 'booted'; index: number }
  | { type: 'ready'; index: number; t: number; connected: number; failed: number }
  | { type: 'subscribed'; index: number; t: number }
  | { type: 'fail'; index: number; reason: string }
  | WorkerResult;

export type ToWorker = { type: 'connect' } | { type: 'start'; t0: number } | { type: 'finish' };
