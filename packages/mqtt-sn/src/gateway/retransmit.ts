import type { Clock } from '@junction/broker-core';
import type { MqttSnMessage } from '../codec/index.js';

interface Entry {
  msg: MqttSnMessage;
  retries: number;
  timer: unknown;
}

/**
 * Retransmission of gateway-initiated messages that expect a reply (MQTT-SN 1.2 §6.13): each
 * is resent after Tretry (`intervalMs`), a PUBLISH with DUP set, at most Nretry (`maxRetries`)
 * times; then `onGiveUp` is called and the client is considered lost. While a client sleeps,
 * retransmission pauses; on waking everything outstanding is resent at once.
 */
export class Retransmitter {
  private readonly entries = new Map<string, Entry>();
  private paused = false;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly maxRetries: number,
    /** Sends a message; `retry` is true for a retransmission. */
    private readonly send: (msg: MqttSnMessage, retry: boolean) => void,
    private readonly onGiveUp: (key: string, msg: MqttSnMessage) => void,
  ) {}

  /** Send `msg` now and supervise it under `key` until `settle(key)`. */
  track(key: string, msg: MqttSnMessage): void {
    this.settle(key);
    const e: Entry = { msg, retries: 0, timer: undefined };
    this.entries.set(key, e);
    if (this.paused) return;
    this.send(msg, false);
    this.arm(key, e);
  }

  /** The reply arrived: stop supervising. Returns the message that was outstanding. */
  settle(key: string): MqttSnMessage | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
    this.entries.delete(key);
    return e.msg;
  }

  get(key: string): MqttSnMessage | undefined {
    return this.entries.get(key)?.msg;
  }

  /** Send an outstanding message again now (e.g. after a REGISTER it waited for). */
  resendNow(key: string): void {
    const e = this.entries.get(key);
    if (!e || this.paused) return;
    if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
    e.msg = withDup(e.msg);
    this.send(e.msg, true);
    this.arm(key, e);
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Stop the timers (the client sleeps); entries stay. */
  pause(): void {
    this.paused = true;
    for (const e of this.entries.values()) {
      if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
      e.timer = undefined;
    }
  }

  /** The client is reachable again: resend everything outstanding, with fresh retry counts. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const [key, e] of this.entries) {
      e.retries = 0;
      e.msg = withDup(e.msg);
      this.send(e.msg, true);
      this.arm(key, e);
    }
  }

  clear(): void {
    for (const e of this.entries.values()) if (e.timer !== undefined) this.clock.clearTimeout(e.timer);
    this.entries.clear();
  }

  private arm(key: string, e: Entry): void {
    e.timer = this.clock.setTimeout(() => {
      e.timer = undefined;
      if (this.entries.get(key) !== e || this.paused) return;
      if (e.retries >= this.maxRetries) {
        this.entries.delete(key);
        this.onGiveUp(key, e.msg);
        return;
      }
      e.retries++;
      e.msg = withDup(e.msg);
      this.send(e.msg, true);
      this.arm(key, e);
    }, this.intervalMs);
  }
}

/** A retransmitted PUBLISH carries DUP, §5.3.4. */
function withDup(msg: MqttSnMessage): MqttSnMessage {
  return msg.type === 'publish' && !msg.dup ? { ...msg, dup: true } : msg;
}
