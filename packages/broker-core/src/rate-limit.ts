/**
 * Rate limits in EMQX's form (`max_conn_rate`, `messages_rate`, `bytes_rate`: `"1000/s"`,
 * `"10/m"`, `"1MB/s"`, `"infinity"`) and the token bucket that enforces them. The bucket holds
 * one period's worth of tokens (EMQX's default burst) and refills continuously; it is lazy: no
 * timer runs, each call settles the refill since the previous one.
 *
 * `ConnectionRateGate` is the listener half of `max_conn_rate`: a connection over the rate is not
 * refused but held, unread, until a token is free (EMQX: "pause receiving new connections"),
 * with one timer while anything is held.
 */
import { Type, type TNumber, type TString, type TUnion } from '@sinclair/typebox';
import { systemClock, type Clock } from './clock.js';

/** `amount` tokens every `periodMs` milliseconds. */
export interface Rate {
  readonly amount: number;
  readonly periodMs: number;
}

const PERIOD_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };
const RATE = /^(\d+(?:\.\d+)?)\s*([kmg]b?|b)?\s*\/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h|d)$/i;

/** JSON-schema pattern of the text form; `infinity` means no limit. */
export const RATE_PATTERN = '^\\s*(infinity|\\d+(\\.\\d+)?\\s*([kmgKMG][bB]?|[bB])?\\s*/\\s*(\\d+(\\.\\d+)?)?\\s*(ms|s|m|h|d))\\s*$';

/**
 * Parses a rate: `"1000/s"`, `"10/m"`, `"100/10s"`, `"1MB/s"` (sizes binary, 1KB = 1024), or a
 * number meaning per second. `"infinity"` and 0 mean no limit: undefined. Throws an Error saying
 * what was expected.
 */
export function parseRate(value: string | number | undefined): Rate | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`expected a rate such as "1000/s" or "infinity", got ${value}`);
    return value === 0 ? undefined : { amount: value, periodMs: 1000 };
  }
  const text = value.trim();
  if (text === 'infinity') return undefined;
  const m = RATE.exec(text);
  if (!m) throw new Error(`expected a rate such as "1000/s", "10/m", "1MB/s" or "infinity", got ${JSON.stringify(value)}`);
  const amount = Number(m[1]) * (SIZE[(m[2] ?? '').toLowerCase()] ?? NaN);
  const periodMs = Number(m[3] ?? 1) * (PERIOD_MS[m[4]!.toLowerCase()] ?? NaN);
  if (!(periodMs > 0) || !Number.isFinite(amount)) throw new Error(`invalid rate ${JSON.stringify(value)}`);
  return amount === 0 ? undefined : { amount, periodMs };
}

/** Schema of a rate setting: the text form, or a number per second; 0 and `infinity` are no limit. */
export function RateLimit(opts: { default?: string | number; description: string }): TUnion<[TString, TNumber]> {
  return Type.Union([Type.String({ pattern: RATE_PATTERN }), Type.Number({ minimum: 0 })], opts);
}

/** A token bucket of `rate.amount` tokens refilled at `rate.amount / rate.periodMs` per ms. */
export class TokenBucket {
  readonly capacity: number;
  private readonly perMs: number;
  private tokens: number;
  private at: number;

  constructor(
    rate: Rate,
    private readonly now: () => number = Date.now,
  ) {
    this.capacity = rate.amount;
    this.perMs = rate.amount / rate.periodMs;
    this.tokens = rate.amount;
    this.at = now();
  }

  /** Take `n` tokens if there are that many; false (and nothing taken) otherwise. */
  tryTake(n = 1): boolean {
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /**
   * Take `n` tokens even past zero (the excess is a debt to be refilled); returns how many
   * milliseconds until the debt is paid, 0 when there is none.
   */
  take(n: number): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens / this.perMs);
  }

  /** Milliseconds until `n` tokens are available (0: now). */
  msUntil(n = 1): number {
    this.refill();
    return this.tokens >= n ? 0 : Math.ceil((n - this.tokens) / this.perMs);
  }

  private refill(): void {
    const t = this.now();
    if (t <= this.at) return;
    this.tokens = Math.min(this.capacity, this.tokens + (t - this.at) * this.perMs);
    this.at = t;
  }
}

/** A connection waiting at the gate. */
export interface HeldConnection {
  /** Let it in: start reading it. */
  admit(): void;
  /** Turn it away (the holding queue is full, or the listener stops). */
  drop(): void;
  /** The peer went away while held. */
  readonly gone: boolean;
}

/**
 * `max_conn_rate` of one listener. Connections within the rate are admitted at once; those over
 * it wait, in order and unread, until the bucket has a token again. At most `maxHeld` wait; more
 * are dropped (as a full accept backlog would).
 */
export class ConnectionRateGate {
  private readonly bucket: TokenBucket | undefined;
  private held: HeldConnection[] = [];
  private timer: unknown;
  private closed = false;

  constructor(
    rate: Rate | undefined,
    private readonly maxHeld = DEFAULT_MAX_HELD,
    private readonly clock: Clock = systemClock,
  ) {
    this.bucket = rate ? new TokenBucket(rate, () => clock.now()) : undefined;
  }

  /** Connections waiting now. */
  get waiting(): number {
    return this.held.length;
  }

  /** True while every offer would be admitted at once (no rate set, not closed): callers may
   * then skip `offer()` and its bookkeeping. */
  get unlimited(): boolean {
    return this.bucket === undefined && !this.closed;
  }

  /** What became of the connection: admitted now, held for later, or dropped. */
  offer(c: HeldConnection): 'admitted' | 'held' | 'dropped' {
    if (this.closed) {
      c.drop();
      return 'dropped';
    }
    if (!this.bucket || (this.held.length === 0 && this.bucket.tryTake())) {
      c.admit();
      return 'admitted';
    }
    if (this.held.length >= this.maxHeld) this.held = this.held.filter((h) => !h.gone);
    if (this.held.length >= this.maxHeld) {
      c.drop();
      return 'dropped';
    }
    this.held.push(c);
    this.arm();
    return 'held';
  }

  /** Drop everything held and stop the timer. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const c of this.held.splice(0)) if (!c.gone) c.drop();
  }

  /** Admit connections again after `close()` (a listener restarted by an operator). */
  reopen(): void {
    this.closed = false;
  }

  private arm(): void {
    if (this.timer !== undefined || !this.bucket) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.release();
    }, Math.max(1, this.bucket.msUntil(1)));
  }

  private release(): void {
    while (this.held.length > 0) {
      const c = this.held[0]!;
      if (c.gone) {
        this.held.shift();
        continue;
      }
      if (!this.bucket!.tryTake()) break;
      this.held.shift();
      c.admit();
    }
    if (this.held.length > 0) this.arm();
  }
}

/** Connections a listener holds over its rate before dropping more; Node's default listen backlog. */
export const DEFAULT_MAX_HELD = 511;
