/**
 * Per-charger `messages_rate` (EMQX's listener limiter key), by back-pressure: every OCPP message
 * a charger sends is charged to its bucket; once the budget is overdrawn, the charger's socket is
 * not read until the debt is refilled (the WebSocket frames wait in the kernel), then reading
 * goes on. Nothing is dropped. No timer runs per message; one runs only while a charger is
 * paused, in steps of at most a second, each telling the session the charger is alive.
 */
import type { Duplex } from 'node:stream';
import { TokenBucket, type Logger, type Rate } from '@junction/broker-core';

const PAUSE_STEP_MS = 1000;

export class ChargerThrottle {
  /** How many times the charger was paused. */
  pauses = 0;
  private readonly bucket: TokenBucket;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    rate: Rate,
    private readonly socket: Duplex,
    /** Called after each step of a pause: the pause is ours, not the charger's silence. */
    private readonly alive: () => void,
    private readonly log: Logger,
    private readonly clientId: string,
  ) {
    this.bucket = new TokenBucket(rate);
  }

  /** True while the charger's socket is not read. */
  get paused(): boolean {
    return this.timer !== undefined;
  }

  /** One message received from the charger. */
  received(): void {
    const wait = this.bucket.take(1);
    if (wait === 0 || this.timer || this.stopped) return;
    this.pauses++;
    this.log.debug({ clientId: this.clientId, pause_ms: wait }, 'client_rate_limited');
    this.socket.pause();
    this.arm(wait);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(wait: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      this.alive();
      const left = this.bucket.msUntil(0);
      if (left > 0) return this.arm(Math.min(left, PAUSE_STEP_MS));
      this.socket.resume();
    }, Math.min(wait, PAUSE_STEP_MS));
    this.timer.unref();
  }
}
