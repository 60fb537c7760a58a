/**
 * Flapping detection (EMQX `flapping_detect`): a client id that disconnects `max_count` times
 * within `window_time` is banned by client id for `ban_time`.
 */
import type { Logger } from '@junction/broker-core';
import type { BannedList } from './banned.js';
import type { FlappingDetectConfig } from './config.js';
import { LOG } from './log-events.js';

export class FlappingDetector {
  /** Disconnect times per client id, oldest first, within the window. */
  private readonly seen = new Map<string, number[]>();

  constructor(
    private readonly cfg: FlappingDetectConfig,
    private readonly banned: BannedList,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** Record one disconnect; returns true when it led to a ban. */
  disconnected(clientId: string, peer?: string): boolean {
    const t = this.now();
    const from = t - this.cfg.window_time;
    const times = (this.seen.get(clientId) ?? []).filter((x) => x > from);
    times.push(t);
    if (times.length < this.cfg.max_count) {
      this.seen.set(clientId, times);
      return false;
    }
    this.seen.delete(clientId);
    try {
      this.banned.create({ as: 'clientid', who: clientId, by: 'flapping_detect', reason: 'flapping is detected', at: t, until: t + this.cfg.ban_time });
    } catch {
      return false; // already banned
    }
    this.log.warn({ clientId, peer, count: times.length, window_ms: this.cfg.window_time, ban_ms: this.cfg.ban_time }, LOG.flappingDetected);
    return true;
  }

  /** Forget windows that have passed (called periodically). */
  sweep(): void {
    const from = this.now() - this.cfg.window_time;
    for (const [id, times] of this.seen) if (times[times.length - 1]! <= from) this.seen.delete(id);
  }

  get tracked(): number {
    return this.seen.size;
  }
}
