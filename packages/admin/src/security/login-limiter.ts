/**
 * Failed logins, counted per user name and client address (EMQX's
 * `unsuccessful_login_max_attempts` within `unsuccessful_login_interval` lock the pair for
 * `unsuccessful_login_lock_duration`). Keyed by the pair so that someone elsewhere cannot lock
 * the administrator out; every failure is also answered slowly (`unsuccessful_login_delay`).
 */
export interface LoginLimits {
  maxAttempts: number;
  intervalMs: number;
  lockMs: number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

const MAX_ENTRIES = 10_000;

export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private limits: LoginLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** New limits for the failures counted from now on (changed at run time). */
  setLimits(limits: LoginLimits): void {
    this.limits = { ...limits };
  }

  /** Milliseconds until the pair may try again; 0 when not locked. */
  lockedFor(username: string, ip: string): number {
    const e = this.entries.get(key(username, ip));
    return e ? Math.max(0, e.lockedUntil - this.now()) : 0;
  }

  /** Count a failure; true when it locked the pair. */
  failed(username: string, ip: string): boolean {
    const t = this.now();
    const k = key(username, ip);
    let e = this.entries.get(k);
    if (!e) {
      if (this.entries.size >= MAX_ENTRIES) this.sweep(t);
      e = { failures: [], lockedUntil: 0 };
      this.entries.set(k, e);
    }
    e.failures = e.failures.filter((at) => at > t - this.limits.intervalMs);
    e.failures.push(t);
    if (e.failures.length >= this.limits.maxAttempts) {
      e.lockedUntil = t + this.limits.lockMs;
      e.failures = [];
      return true;
    }
    return false;
  }

  succeeded(username: string, ip: string): void {
    this.entries.delete(key(username, ip));
  }

  private sweep(t: number): void {
    for (const [k, e] of this.entries) {
      if (e.lockedUntil <= t && e.failures.every((at) => at <= t - this.limits.intervalMs)) this.entries.delete(k);
    }
    // Still full (an attack from many addresses): forget the oldest entries.
    for (const k of this.entries.keys()) {
      if (this.entries.size < MAX_ENTRIES) break;
      this.entries.delete(k);
    }
  }
}

function key(username: string, ip: string): string {
  return `${username}\u0000${ip}`;
}
