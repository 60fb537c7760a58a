/**
 * Dashboard users (EMQX `/api/v5/users`): user names with a PBKDF2 password hash and a role,
 * in memory and, when a file is given, in a JSON file (mode 0600) so they survive restarts.
 */
import { AdminError } from '../errors.js';
import { FileWriter, readJsonFile } from '../persist.js';
import { DEFAULT_ITERATIONS, dummyHash, hashPassword, verifyPassword, type PasswordHash } from './passwords.js';

export type AdminRole = 'administrator' | 'viewer';
export const ADMIN_ROLES: readonly AdminRole[] = ['administrator', 'viewer'];

/** A dashboard user as the API shows it (EMQX's fields). */
export interface AdminUserInfo {
  readonly username: string;
  readonly role: AdminRole;
  readonly description: string;
  readonly backend: 'local';
}

interface StoredAdmin {
  username: string;
  role: AdminRole;
  description: string;
  password: PasswordHash;
  /** Milliseconds; tokens issued before it are no longer valid (password change, role change). */
  tokensValidAfter: number;
}

export interface AdminUserStoreOptions {
  /** JSON file the users are kept in; without one they live in memory only. */
  file?: string;
  /** PBKDF2 iterations for new hashes. Default 210,000. */
  iterations?: number;
}

export class AdminUserStore {
  private readonly users = new Map<string, StoredAdmin>();
  private readonly writer: FileWriter;
  private readonly iterations: number;
  private loaded: Promise<void> | undefined;
  private dummy: Promise<PasswordHash> | undefined;

  constructor(private readonly opts: AdminUserStoreOptions = {}) {
    this.iterations = opts.iterations ?? DEFAULT_ITERATIONS;
    this.writer = new FileWriter(opts.file, () => ({ version: 1, users: [...this.users.values()] }));
  }

  /** Read the file, once; a missing file is an empty store. */
  load(): Promise<void> {
    return (this.loaded ??= (async () => {
      if (!this.opts.file) return;
      const data = (await readJsonFile(this.opts.file)) as { users?: StoredAdmin[] } | undefined;
      for (const u of data?.users ?? []) {
        if (typeof u?.username === 'string' && u.password?.hash) this.users.set(u.username, { ...u, role: ADMIN_ROLES.includes(u.role) ? u.role : 'viewer', description: u.description ?? '' });
      }
    })());
  }

  get size(): number {
    return this.users.size;
  }

  list(): AdminUserInfo[] {
    return [...this.users.values()].map(info);
  }

  lookup(username: string): AdminUserInfo | undefined {
    const u = this.users.get(username);
    return u && info(u);
  }

  async add(user: { username: string; password: string; role?: AdminRole; description?: string }): Promise<AdminUserInfo> {
    checkUsername(user.username);
    checkPassword(user.password);
    if (this.users.has(user.username)) throw new AdminError('already_exists', `user ${JSON.stringify(user.username)} already exists`);
    const password = await hashPassword(user.password, this.iterations);
    if (this.users.has(user.username)) throw new AdminError('already_exists', `user ${JSON.stringify(user.username)} already exists`);
    const stored: StoredAdmin = { username: user.username, role: user.role ?? 'administrator', description: user.description ?? '', password, tokensValidAfter: 0 };
    this.users.set(user.username, stored);
    await this.writer.save();
    return info(stored);
  }

  async update(username: string, change: { role?: AdminRole; description?: string }): Promise<AdminUserInfo> {
    const u = this.need(username);
    if (change.role !== undefined && change.role !== u.role) {
      if (u.role === 'administrator' && this.administrators() === 1) throw new AdminError('bad_request', 'the last administrator cannot lose the role');
      u.role = change.role;
      u.tokensValidAfter = Date.now();
    }
    if (change.description !== undefined) u.description = change.description;
    await this.writer.save();
    return info(u);
  }

  async changePassword(username: string, newPassword: string): Promise<void> {
    const u = this.need(username);
    checkPassword(newPassword);
    u.password = await hashPassword(newPassword, this.iterations);
    u.tokensValidAfter = Date.now();
    await this.writer.save();
  }

  async delete(username: string): Promise<void> {
    const u = this.need(username);
    if (u.role === 'administrator' && this.administrators() === 1) throw new AdminError('bad_request', 'the last administrator cannot be deleted');
    this.users.delete(username);
    await this.writer.save();
  }

  /** The user when the password is right. Unknown names cost as much time as wrong passwords. */
  async verify(username: string, password: string): Promise<AdminUserInfo | undefined> {
    const u = this.users.get(username);
    if (!u) {
      await verifyPassword(password, await (this.dummy ??= dummyHash(this.iterations)));
      return undefined;
    }
    return (await verifyPassword(password, u.password)) ? info(u) : undefined;
  }

  /** Tokens of this user issued before this time (ms) are refused; undefined: no such user. */
  tokensValidAfter(username: string): number | undefined {
    return this.users.get(username)?.tokensValidAfter;
  }

  private administrators(): number {
    let n = 0;
    for (const u of this.users.values()) if (u.role === 'administrator') n++;
    return n;
  }

  private need(username: string): StoredAdmin {
    const u = this.users.get(username);
    if (!u) throw new AdminError('not_found', `user ${JSON.stringify(username)} not found`);
    return u;
  }
}

function info(u: StoredAdmin): AdminUserInfo {
  return { username: u.username, role: u.role, description: u.description, backend: 'local' };
}

function checkUsername(name: unknown): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) {
    throw new AdminError('bad_request', 'username must be 1 to 64 letters, digits or _ . @ -');
  }
}

/** EMQX's rule: 8 to 64 characters of at least two kinds (lower, upper, digits, others). */
export function checkPassword(pw: unknown): void {
  if (typeof pw !== 'string' || pw.length < 8 || pw.length > 64) throw new AdminError('bad_request', 'password must be 8 to 64 characters', { apiCode: 'BAD_PASSWORD' });
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(pw)).length;
  if (kinds < 2) throw new AdminError('bad_request', 'password must mix at least two of: lower case, upper case, digits, other characters', { apiCode: 'BAD_PASSWORD' });
}
