/**
 * The running configuration for `GET /api/v5/configs` (secrets redacted) and the few keys that
 * really change at run time for `PUT /api/v5/configs/{section}`. Everything else is read once at
 * start by the part that uses it, so a change is refused with 400 naming the key rather than
 * accepted and silently ignored.
 */
import { ConfigError } from '@junction/broker-core';
import { normalizeAdminConfig, type AdminConfig } from './config.js';
import { redactConfig } from './config-redact.js';
import type { AdminContext } from './context.js';
import { AdminError } from './errors.js';
import { LOG } from './log-events.js';

/** Reads and sets the level of the process's root logger (pino: `logger.level`); its children
 * follow unless they set their own. */
export interface LogLevelControl {
  get(): string;
  set(level: string): void;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The keys `PUT /api/v5/configs/{section}` may change, with what the change does. */
export const HOT_KEYS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  log: { level: 'Lowest level logged, for every component at once (needs the gateway, or `logLevel` when embedding).' },
  dashboard: {
    token_expired_time: 'Lifetime of tokens issued from now on; tokens already issued keep theirs.',
    unsuccessful_login_max_attempts: 'Failed logins counted from now on.',
    unsuccessful_login_interval: 'Failed logins counted from now on.',
    unsuccessful_login_lock_duration: 'Locks made from now on.',
    unsuccessful_login_delay: 'The next failed login.',
  },
  prometheus: { enable_basic_auth: 'The next scrape.' },
};

const ADMIN_SECTIONS = ['dashboard', 'prometheus', 'api_key'] as const;
type AdminSection = (typeof ADMIN_SECTIONS)[number];
const isAdminSection = (s: string): s is AdminSection => (ADMIN_SECTIONS as readonly string[]).includes(s);
const REDACTED = '******';

export class RuntimeConfig {
  constructor(
    private readonly ctx: AdminContext,
    private readonly running: (() => Readonly<Record<string, unknown>>) | undefined,
    private readonly logLevel: LogLevelControl | undefined,
  ) {}

  /** The whole configuration with live values, secrets redacted. */
  snapshot(): Record<string, unknown> {
    return redactConfig(this.raw()) as Record<string, unknown>;
  }

  /** One section, redacted; 404 when there is none of that name. */
  section(name: string): unknown {
    const raw = this.raw();
    if (!Object.hasOwn(raw, name)) throw new AdminError('not_found', `no config section ${JSON.stringify(name)}`);
    return redactConfig(raw[name]);
  }

  /**
   * Apply the changed keys of `body` (a part of the section). Keys whose value equals the
   * running one (or is the redaction mark) are ignored, so what `GET` answered can be sent back
   * with one value changed. Nothing is applied when any key is refused.
   */
  update(name: string, body: unknown): unknown {
    const raw = this.raw();
    if (!Object.hasOwn(raw, name)) throw new AdminError('not_found', `no config section ${JSON.stringify(name)}`);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AdminError('bad_request', `the body must be an object: keys of ${name}`);
    const changes = new Map<string, unknown>();
    for (const [path, value] of leaves(body as Record<string, unknown>, '')) {
      const current = at(raw[name], path);
      if (value === REDACTED || sameValue(current, value)) continue;
      if (!Object.hasOwn(HOT_KEYS[name] ?? {}, path)) {
        const hot = Object.keys(HOT_KEYS[name] ?? {});
        throw new AdminError('bad_request', `${name}.${path} cannot change at run time (edit the config file and restart)${hot.length > 0 ? `; here only ${hot.map((k) => `${name}.${k}`).join(', ')} can` : ''}`);
      }
      changes.set(path, value);
    }
    if (changes.size === 0) return this.section(name);
    if (name === 'log') this.applyLog(changes);
    else if (isAdminSection(name)) this.applyAdmin(name, changes);
    this.ctx.log.info({ section: name, keys: [...changes.keys()], ...(name === 'log' ? { level: this.logLevel?.get() } : {}) }, LOG.configUpdated);
    return this.section(name);
  }

  private applyLog(changes: Map<string, unknown>): void {
    const level = changes.get('level');
    if (!this.logLevel) throw new AdminError('not_supported', 'log.level: this server was not given control of the log level');
    if (typeof level !== 'string' || !(LOG_LEVELS as readonly string[]).includes(level)) throw new AdminError('bad_request', `log.level must be one of ${LOG_LEVELS.join(', ')}`);
    this.logLevel.set(level);
  }

  private applyAdmin(name: AdminSection, changes: Map<string, unknown>): void {
    const cfg = this.ctx.config;
    let next: AdminConfig;
    try {
      next = normalizeAdminConfig({ ...cfg, [name]: { ...cfg[name], ...Object.fromEntries(changes) } } as Record<string, Record<string, unknown>>);
    } catch (err) {
      if (err instanceof ConfigError) throw new AdminError('bad_request', err.message, { cause: err });
      throw err;
    }
    const target = cfg[name] as Record<string, unknown>;
    for (const key of changes.keys()) target[key] = (next[name] as Record<string, unknown>)[key];
    const d = cfg.dashboard;
    this.ctx.tokens.setTtl(d.token_expired_time);
    this.ctx.limiter.setLimits({ maxAttempts: d.unsuccessful_login_max_attempts, intervalMs: d.unsuccessful_login_interval, lockMs: d.unsuccessful_login_lock_duration });
  }

  /** Unredacted, with the live values of what can change. */
  private raw(): Record<string, unknown> {
    const b = this.ctx.broker;
    const base: Record<string, unknown> = this.running ? { ...this.running() } : { node: { name: b.nodeName }, mqtt: { ...b.config } };
    for (const s of ADMIN_SECTIONS) base[s] = this.ctx.config[s];
    if (this.logLevel) base.log = { ...(base.log as Record<string, unknown> | undefined), level: this.logLevel.get() };
    return base;
  }
}

/** `[path, value]` of every leaf; arrays are leaves. */
function* leaves(obj: Record<string, unknown>, prefix: string): Generator<[string, unknown]> {
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) yield* leaves(v as Record<string, unknown>, path);
    else yield [path, v];
  }
}

function at(obj: unknown, path: string): unknown {
  let v = obj;
  for (const k of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
