/**
 * Per-client `messages_rate` and `bytes_rate` (EMQX's listener limiters), enforced by
 * back-pressure: the connection charges every chunk it reads and every PUBLISH parsed from it;
 * once a budget is overdrawn, the connection stops reading its stream until the debt is refilled,
 * then reads on. Nothing is dropped, and nothing runs per message: the buckets refill lazily and
 * one timer exists only while the client is paused.
 */
import { TokenBucket, type Rate } from '@junction/broker-core';

/** A listener's per-client limits; an absent rate is no limit. */
export interface ClientLimits {
  /** PUBLISH packets per period. */
  readonly messages?: Rate;
  /** Bytes read per period (every byte the client sends). */
  readonly bytes?: Rate;
}

export class ClientLimiter {
  /** PUBLISH packets parsed since the last charge. */
  publishes = 0;
  /** How many times this client was paused. */
  pauses = 0;
  private readonly messages: TokenBucket | undefined;
  private readonly bytes: TokenBucket | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(limits: ClientLimits) {
    this.messages = limits.messages ? new TokenBucket(limits.messages) : undefined;
    this.bytes = limits.bytes ? new TokenBucket(limits.bytes) : undefined;
  }

  /** A limiter when the listener sets any limit; undefined otherwise (the hot path skips it). */
  static create(limits: ClientLimits | undefined): ClientLimiter | undefined {
    return limits && (limits.messages || limits.bytes) ? new ClientLimiter(limits) : undefined;
  }

  /** Charge one chunk read and the publishes parsed from it; milliseconds to pause, 0 for none. */
  charge(bytes: number): number {
    let wait = this.bytes ? this.bytes.take(bytes) : 0;
    if (this.messages && this.publishes > 0) {
      wait = Math.max(wait, this.messages.take(this.publishes));
      this.publishes = 0;
    }
    return wait;
  }

  /** True while a pause runs. */
  get paused(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Start a pause of `ms`; `resume` runs when it ends. A long pause runs in steps of at most
   * `PAUSE_STEP_MS`, calling `step` after each, so the caller can show the client is alive
   * (a keepalive of 1 s allows 1.5 s of silence).
   */
  pause(ms: number, step: () => void, resume: () => void): void {
    if (this.timer) return;
    this.pauses++;
    const arm = (wait: number) => {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        step();
        const left = Math.max(this.bytes?.msUntil(0) ?? 0, this.messages?.msUntil(0) ?? 0);
        if (left > 0) arm(Math.min(left, PAUSE_STEP_MS));
        else resume();
      }, wait);
      this.timer.unref();
    };
    arm(Math.min(ms, PAUSE_STEP_MS));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Longest single wait of a pause. */
const PAUSE_STEP_MS = 1000;
