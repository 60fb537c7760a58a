/**
 * Banned clients, as EMQX keeps them: by `clientid`, `username`, `peerhost`, `peerhost_net`
 * (CIDR), `clientid_re` or `username_re`, each with `by`, `reason`, `at` and an optional `until`.
 * Expired bans are ignored at once and purged periodically. Exact bans are map lookups; only
 * regex and CIDR bans are scanned.
 */
import { cidrContains, parseCidr, parseIp, peerHost, type Cidr, type ParsedIp } from './address.js';
import { AuthError } from './errors.js';
import { parseCsvRows } from './users.js';

export const BAN_KINDS = ['clientid', 'username', 'peerhost', 'peerhost_net', 'clientid_re', 'username_re'] as const;
export type BanKind = (typeof BAN_KINDS)[number];

export interface Ban {
  readonly as: BanKind;
  readonly who: string;
  readonly by: string;
  readonly reason: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** Milliseconds since the epoch; undefined: never expires. */
  readonly until?: number;
}

export interface NewBan {
  as: BanKind;
  who: string;
  by?: string;
  reason?: string;
  /** Date, epoch milliseconds, or RFC 3339 text; default now. */
  at?: Date | number | string;
  /** Date, epoch milliseconds, RFC 3339 text or `infinity`; default never. */
  until?: Date | number | string;
}

/** The client fields a ban is checked against. */
export interface BanSubject {
  readonly clientId: string;
  readonly username?: string;
  /** `host:port`. */
  readonly peer: string;
}

/** A change to the list, for whoever persists it: `key` identifies a ban (as + normalised who). */
export type BanChange = { op: 'put'; key: string; ban: Ban } | { op: 'delete'; key: string } | { op: 'clear' };

interface Compiled {
  ban: Ban;
  re?: RegExp;
  net?: Cidr;
  ip?: ParsedIp;
}

export class BannedList {
  /** `as` + NUL + normalised `who` -> ban, for clientid, username and peerhost. */
  private readonly exact = new Map<string, Compiled>();
  /** Regex and CIDR bans, scanned. */
  private readonly rules = new Map<string, Compiled>();
  private readonly listeners: ((ban: Ban) => void)[] = [];
  private readonly watchers: ((change: BanChange) => void)[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Called for every ban created (the plugin kicks matching connected clients). */
  onCreate(fn: (ban: Ban) => void): void {
    this.listeners.push(fn);
  }

  /** Called for every change (create, delete, clear, purge), in order: the persistence hook. */
  watch(fn: (change: BanChange) => void): void {
    this.watchers.push(fn);
  }

  private changed(change: BanChange): void {
    for (const fn of this.watchers) fn(change);
  }

  get size(): number {
    return this.exact.size + this.rules.size;
  }

  /**
   * Add a ban. Throws `AuthError('ban_exists')` when a live ban with the same `as` and `who`
   * exists (an expired one is replaced), `AuthError('invalid_ban')` for bad input or an
   * `until` in the past.
   */
  create(input: NewBan): Ban {
    const c = compile(input, this.now());
    const key = keyOf(c);
    const table = isRule(c.ban.as) ? this.rules : this.exact;
    const old = table.get(key);
    if (old && this.live(old.ban)) throw new AuthError('ban_exists', `${c.ban.as} ${JSON.stringify(c.ban.who)} is already banned`);
    table.set(key, c);
    this.changed({ op: 'put', key, ban: c.ban });
    for (const fn of this.listeners) fn(c.ban);
    return c.ban;
  }

  /** Remove a ban; false when there was none. */
  delete(as: BanKind, who: string): boolean {
    let key: string;
    try {
      key = keyOf(compile({ as, who }, this.now()));
    } catch {
      return false;
    }
    if (!(isRule(as) ? this.rules : this.exact).delete(key)) return false;
    this.changed({ op: 'delete', key });
    return true;
  }

  lookup(as: BanKind, who: string): Ban | undefined {
    try {
      const key = keyOf(compile({ as, who }, this.now()));
      const c = (isRule(as) ? this.rules : this.exact).get(key);
      return c && this.live(c.ban) ? c.ban : undefined;
    } catch {
      return undefined;
    }
  }

  /** Live bans, oldest first. */
  list(): Ban[] {
    return [...this.exact.values(), ...this.rules.values()]
      .map((c) => c.ban)
      .filter((b) => this.live(b))
      .sort((a, b) => a.at - b.at);
  }

  clear(): void {
    this.exact.clear();
    this.rules.clear();
    this.changed({ op: 'clear' });
  }

  /** The live ban that matches a client, if any. */
  check(s: BanSubject): Ban | undefined {
    // Every CONNECT comes here: with no bans at all, nothing to parse.
    if (this.exact.size === 0 && this.rules.size === 0) return undefined;
    const ip = parseIp(peerHost(s.peer));
    const hit = (k: string) => {
      const c = this.exact.get(k);
      return c && this.live(c.ban) ? c.ban : undefined;
    };
    const found = hit(`clientid\u0000${s.clientId}`) ?? (s.username !== undefined ? hit(`username\u0000${s.username}`) : undefined) ?? (ip ? hit(`peerhost\u0000${ipKey(ip)}`) : undefined);
    if (found) return found;
    for (const c of this.rules.values()) if (this.live(c.ban) && matchRule(c, s, ip)) return c.ban;
    return undefined;
  }

  /** A test for whether this ban covers a client (ignoring expiry); compiled once. */
  matcher(ban: Ban): (s: BanSubject) => boolean {
    const c = compile(ban, ban.at);
    return (s) => {
      switch (ban.as) {
        case 'clientid':
          return s.clientId === ban.who;
        case 'username':
          return s.username === ban.who;
        case 'peerhost': {
          const ip = parseIp(peerHost(s.peer));
          return ip !== undefined && c.ip !== undefined && ip.v === c.ip.v && ip.n === c.ip.n;
        }
        default:
          return matchRule(c, s, parseIp(peerHost(s.peer)));
      }
    };
  }

  /** Drop expired bans; returns how many. */
  purgeExpired(): number {
    let n = 0;
    for (const table of [this.exact, this.rules]) {
      for (const [k, c] of table) {
        if (!this.live(c.ban)) {
          table.delete(k);
          this.changed({ op: 'delete', key: k });
          n++;
        }
      }
    }
    return n;
  }

  /**
   * Load EMQX's banned bootstrap CSV (`as,who,reason,at,until,by`). Invalid or expired rows are
   * counted as `failed`; rows for an existing live ban are `skipped` (the existing ban is kept).
   */
  loadCsv(text: string): { loaded: number; skipped: number; failed: number } {
    let loaded = 0;
    let skipped = 0;
    let failed = 0;
    for (const row of parseCsvRows(text)) {
      try {
        this.create({
          as: row.as as BanKind,
          who: row.who ?? '',
          reason: row.reason || undefined,
          by: row.by || undefined,
          at: row.at || undefined,
          until: row.until || undefined,
        });
        loaded++;
      } catch (err) {
        if (err instanceof AuthError && err.code === 'ban_exists') skipped++;
        else failed++;
      }
    }
    return { loaded, skipped, failed };
  }

  private live(b: Ban): boolean {
    return b.until === undefined || b.until > this.now();
  }
}

function isRule(as: BanKind): boolean {
  return as === 'peerhost_net' || as === 'clientid_re' || as === 'username_re';
}

function keyOf(c: Compiled): string {
  if (c.ip) return `peerhost\u0000${ipKey(c.ip)}`;
  if (c.net) return `peerhost_net\u0000${c.net.v}:${c.net.base}/${c.net.mask}`;
  return `${c.ban.as}\u0000${c.ban.who}`;
}

function ipKey(ip: ParsedIp): string {
  return `${ip.v}:${ip.n}`;
}

function matchRule(c: Compiled, s: BanSubject, ip: ParsedIp | undefined): boolean {
  switch (c.ban.as) {
    case 'clientid_re':
      return c.re!.test(s.clientId);
    case 'username_re':
      return s.username !== undefined && c.re!.test(s.username);
    case 'peerhost_net':
      return cidrContains(c.net!, ip);
    default:
      return false;
  }
}

function time(v: Date | number | string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new AuthError('invalid_ban', `${field} must be a time`);
    return v;
  }
  if (v === 'infinity') return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new AuthError('invalid_ban', `${field} ${JSON.stringify(v)} is not an RFC 3339 time`);
  return ms;
}

function compile(input: NewBan | Ban, now: number): Compiled {
  if (!BAN_KINDS.includes(input.as)) throw new AuthError('invalid_ban', `as must be one of ${BAN_KINDS.join(', ')}`);
  if (typeof input.who !== 'string' || input.who === '') throw new AuthError('invalid_ban', 'who must be a non-empty string');
  const at = time(input.at, 'at') ?? now;
  const until = input.until === 'infinity' ? undefined : time(input.until, 'until');
  if (until !== undefined && until <= now) throw new AuthError('invalid_ban', 'until is in the past');
  const ban: Ban = { as: input.as, who: input.who, by: input.by ?? 'api', reason: input.reason ?? '', at, until };
  const c: Compiled = { ban };
  try {
    if (input.as === 'peerhost') {
      c.ip = parseIp(input.who);
      if (!c.ip) throw new Error(`invalid address ${JSON.stringify(input.who)}`);
    } else if (input.as === 'peerhost_net') c.net = parseCidr(input.who);
    else if (input.as === 'clientid_re' || input.as === 'username_re') c.re = new RegExp(input.who);
  } catch (err) {
    throw new AuthError('invalid_ban', (err as Error).message, { cause: err });
  }
  return c;
}
