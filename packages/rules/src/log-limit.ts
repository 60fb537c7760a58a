/**
 * Bounded-rate logging: a failing rule logs its first failure, then at most once per interval
 * per key, saying how many were suppressed in between. Counting never stops.
 */
export class LogLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  /** Undefined: do not log now. Otherwise: log, with how many were skipped since the last one. */
  admit(key: string): { suppressed: number } | undefined {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(key, { at: t, suppressed: 0 });
    return { suppressed };
  }

  forget(prefix: string): void {
    for (const k of this.last.keys()) if (k.startsWith(prefix)) this.last.delete(k);
  }
}
