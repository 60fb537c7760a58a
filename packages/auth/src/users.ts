/**
 * Built-in users (EMQX `password_based` + `built_in_database`): an in-memory table of
 * `{user_id, password_hash, salt, is_superuser}`, managed by API and by importing files in
 * EMQX's bootstrap formats. When SCRAM is configured, users added with a plain password also
 * get SCRAM credentials (they cannot be derived from a hash).
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { AuthError } from './errors.js';
import { checkPassword, hashPassword, type HashAlgorithm } from './password-hash.js';
import { deriveScramCredentials, type ScramAlgorithm, type ScramCredentials } from './scram.js';

export interface UserInfo {
  readonly user_id: string;
  readonly is_superuser: boolean;
}

export interface NewUser {
  user_id: string;
  password: string;
  is_superuser?: boolean;
}

/** A user as stored; `password_hash` and `salt` in EMQX's formats. */
export interface StoredUser {
  readonly user_id: string;
  readonly password_hash: string;
  readonly salt: string;
  readonly is_superuser: boolean;
  readonly scram?: ScramCredentials;
}

export interface ImportResult {
  total: number;
  success: number;
  override: number;
  skipped: number;
  failed: number;
}

export type ImportType = 'plain' | 'hash';
export type ImportFormat = 'json' | 'csv';

export interface UserStoreOptions {
  /** How new passwords are hashed and stored ones checked. */
  algorithm: HashAlgorithm;
  /** When set, users added with a plain password also get SCRAM credentials. */
  scram?: { algorithm: ScramAlgorithm; iterations: number };
}

export type CheckResult = { ok: true; user: StoredUser } | { ok: false; reason: 'not_found' | 'bad_password' };

/** A change to the users, for whoever persists them. */
export type UserChange = { op: 'put'; user: StoredUser } | { op: 'delete'; userId: string } | { op: 'clear' };

export class UserStore {
  private readonly users = new Map<string, StoredUser>();
  private readonly watchers: ((change: UserChange) => void)[] = [];

  constructor(private readonly opts: UserStoreOptions) {}

  /** Called for every change, in order: the persistence hook. */
  watch(fn: (change: UserChange) => void): void {
    this.watchers.push(fn);
  }

  /** Puts users as they were stored (no hashing, no change events): loading persisted users. */
  restore(users: Iterable<StoredUser>): void {
    for (const u of users) this.users.set(u.user_id, u);
  }

  private set(user: StoredUser): void {
    this.users.set(user.user_id, user);
    for (const fn of this.watchers) fn({ op: 'put', user });
  }

  get algorithm(): HashAlgorithm {
    return this.opts.algorithm;
  }

  get size(): number {
    return this.users.size;
  }

  /** Add a user; throws `AuthError('user_exists')` when the id is taken. */
  async add(user: NewUser): Promise<UserInfo> {
    validateNew(user);
    if (this.users.has(user.user_id)) throw new AuthError('user_exists', `user ${JSON.stringify(user.user_id)} already exists`);
    const stored = await this.fromPlain(user);
    // Re-check after the await: a concurrent add may have won.
    if (this.users.has(user.user_id)) throw new AuthError('user_exists', `user ${JSON.stringify(user.user_id)} already exists`);
    this.set(stored);
    return info(stored);
  }

  /** Change a user's password and/or superuser flag; throws `AuthError('user_not_found')`. */
  async update(userId: string, change: { password?: string; is_superuser?: boolean }): Promise<UserInfo> {
    const old = this.users.get(userId);
    if (!old) throw new AuthError('user_not_found', `user ${JSON.stringify(userId)} not found`);
    let next: StoredUser = { ...old, is_superuser: change.is_superuser ?? old.is_superuser };
    if (change.password !== undefined) {
      if (typeof change.password !== 'string') throw new AuthError('invalid_user', 'password must be a string');
      next = await this.fromPlain({ user_id: userId, password: change.password, is_superuser: next.is_superuser });
    }
    if (!this.users.has(userId)) throw new AuthError('user_not_found', `user ${JSON.stringify(userId)} not found`);
    this.set(next);
    return info(next);
  }

  /** Remove a user; throws `AuthError('user_not_found')`. */
  delete(userId: string): void {
    if (!this.users.delete(userId)) throw new AuthError('user_not_found', `user ${JSON.stringify(userId)} not found`);
    for (const fn of this.watchers) fn({ op: 'delete', userId });
  }

  lookup(userId: string): UserInfo | undefined {
    const u = this.users.get(userId);
    return u && info(u);
  }

  /** All users, ordered by id; `like` filters by substring, as EMQX's `like_user_id`. */
  list(opts: { like?: string; is_superuser?: boolean } = {}): UserInfo[] {
    return [...this.users.values()]
      .filter((u) => (opts.like === undefined || u.user_id.includes(opts.like)) && (opts.is_superuser === undefined || u.is_superuser === opts.is_superuser))
      .sort((a, b) => (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0))
      .map(info);
  }

  clear(): void {
    this.users.clear();
    for (const fn of this.watchers) fn({ op: 'clear' });
  }

  /** Check a password for a user id. */
  async check(userId: string, password: Buffer): Promise<CheckResult> {
    const u = this.users.get(userId);
    if (!u) return { ok: false, reason: 'not_found' };
    return (await checkPassword(this.opts.algorithm, u, password)) ? { ok: true, user: u } : { ok: false, reason: 'bad_password' };
  }

  /** SCRAM credentials and superuser flag, for the SCRAM authenticator. */
  scramFor(userId: string): { creds: ScramCredentials; is_superuser: boolean } | undefined {
    const u = this.users.get(userId);
    return u?.scram ? { creds: u.scram, is_superuser: u.is_superuser } : undefined;
  }

  /**
   * Import users in EMQX's bootstrap formats. `plain`: `user_id,password,is_superuser`;
   * `hash`: `user_id,password_hash,salt,is_superuser` (hashes in this store's algorithm).
   * JSON is an array of objects with the same keys. An existing user is overwritten
   * (`override`), unless identical or `keepExisting` is set (`skipped`); unusable rows count as
   * `failed`.
   */
  async import(text: string, format: ImportFormat, type: ImportType, opts: { keepExisting?: boolean } = {}): Promise<ImportResult> {
    const rows = format === 'json' ? parseJsonRows(text) : parseCsvRows(text);
    const result: ImportResult = { total: rows.length, success: 0, override: 0, skipped: 0, failed: 0 };
    for (const row of rows) {
      let user: StoredUser;
      try {
        user = type === 'plain' ? await this.fromPlain(plainRow(row)) : hashRow(row);
      } catch {
        result.failed++;
        continue;
      }
      const old = this.users.get(user.user_id);
      if (!old) result.success++;
      else if (opts.keepExisting) {
        result.skipped++;
        continue;
      }
      else if (old.password_hash === user.password_hash && old.salt === user.salt && old.is_superuser === user.is_superuser) {
        result.skipped++;
        continue;
      } else result.override++;
      this.set(user);
    }
    return result;
  }

  /** Import a `.json` or `.csv` file (by extension). */
  async importFile(path: string, type: ImportType, opts: { keepExisting?: boolean } = {}): Promise<ImportResult> {
    const ext = extname(path).toLowerCase();
    if (ext !== '.json' && ext !== '.csv') throw new AuthError('invalid_user', `users file must be .json or .csv: ${path}`);
    return this.import(await readFile(path, 'utf8'), ext === '.json' ? 'json' : 'csv', type, opts);
  }

  private async fromPlain(user: NewUser): Promise<StoredUser> {
    validateNew(user);
    const { password_hash, salt } = await hashPassword(this.opts.algorithm, user.password);
    const s = this.opts.scram;
    const scram = s ? await deriveScramCredentials(s.algorithm, user.password, s.iterations) : undefined;
    return { user_id: user.user_id, password_hash, salt, is_superuser: user.is_superuser === true, scram };
  }
}

function info(u: StoredUser): UserInfo {
  return { user_id: u.user_id, is_superuser: u.is_superuser };
}

function validateNew(user: NewUser): void {
  if (typeof user?.user_id !== 'string' || user.user_id === '') throw new AuthError('invalid_user', 'user_id must be a non-empty string');
  if (typeof user.password !== 'string') throw new AuthError('invalid_user', 'password must be a string');
}

function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === 1 || v === '1';
}

function plainRow(r: Record<string, unknown>): NewUser {
  if (typeof r.user_id !== 'string' || typeof r.password !== 'string') throw new AuthError('invalid_user', 'row needs user_id and password');
  return { user_id: r.user_id, password: r.password, is_superuser: bool(r.is_superuser) };
}

function hashRow(r: Record<string, unknown>): StoredUser {
  if (typeof r.user_id !== 'string' || r.user_id === '' || typeof r.password_hash !== 'string') throw new AuthError('invalid_user', 'row needs user_id and password_hash');
  return { user_id: r.user_id, password_hash: r.password_hash, salt: typeof r.salt === 'string' ? r.salt : '', is_superuser: bool(r.is_superuser) };
}

function parseJsonRows(text: string): Record<string, unknown>[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new AuthError('invalid_user', `users JSON does not parse: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(v)) throw new AuthError('invalid_user', 'users JSON must be an array');
  return v.filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object');
}

/** RFC 4180 CSV with a header row; quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsvRows(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const nonEmpty = records.filter((r) => !(r.length === 1 && r[0]!.trim() === ''));
  const [header, ...rows] = nonEmpty;
  if (!header) return [];
  const keys = header.map((h) => h.trim());
  return rows.map((r) => Object.fromEntries(keys.map((k, i) => [k, (r[i] ?? '').trim()])));
}
