/**
 * API keys for scripts (EMQX `/api/v5/api_key`): a public key id and a secret, sent as HTTP Basic
 * `key:secret`. The secret is shown once, when the key is created; only a salted SHA-256 of it is
 * kept (a generated secret has 256 bits, so a slow hash would add nothing but per-request cost).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AdminError } from '../errors.js';
import { FileWriter, readJsonFile } from '../persist.js';
import { ADMIN_ROLES, type AdminRole } from './admin-users.js';

export interface ApiKeyInfo {
  readonly name: string;
  readonly api_key: string;
  /** RFC 3339, or `infinity`. */
  readonly expired_at: string;
  readonly created_at: string;
  readonly desc: string;
  readonly enable: boolean;
  readonly expired: boolean;
  readonly role: AdminRole;
}

export interface NewApiKey {
  name: string;
  /** RFC 3339, epoch milliseconds, or `infinity` (default). */
  expired_at?: string | number;
  desc?: string;
  enable?: boolean;
  role?: AdminRole;
}

interface StoredKey {
  name: string;
  api_key: string;
  salt: string;
  secret_hash: string;
  expired_at?: number;
  created_at: number;
  desc: string;
  enable: boolean;
  role: AdminRole;
  /** From the bootstrap file: read again at every start, never written to the store file. */
  bootstrap?: boolean;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,255}$/;

export class ApiKeyStore {
  private readonly byName = new Map<string, StoredKey>();
  private readonly byKey = new Map<string, StoredKey>();
  private readonly writer: FileWriter;
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly opts: { file?: string; now?: () => number } = {},
  ) {
    this.writer = new FileWriter(opts.file, () => ({ version: 1, keys: [...this.byName.values()].filter((k) => !k.bootstrap) }));
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  load(): Promise<void> {
    return (this.loaded ??= (async () => {
      if (!this.opts.file) return;
      const data = (await readJsonFile(this.opts.file)) as { keys?: StoredKey[] } | undefined;
      for (const k of data?.keys ?? []) if (typeof k?.name === 'string' && typeof k.api_key === 'string') this.put(k);
    })());
  }

  /** Create the keys of an EMQX bootstrap file (`key:secret[:role]` per line). */
  async importBootstrap(path: string): Promise<{ loaded: number; failed: number }> {
    const text = await readFile(path, 'utf8');
    let loaded = 0;
    let failed = 0;
    for (const [i, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const [key, secret, role = 'administrator'] = line.split(':');
      if (!key || !secret || !ADMIN_ROLES.includes(role as AdminRole)) {
        failed++;
        continue;
      }
      const old = this.byKey.get(key);
      if (old) this.remove(old);
      const salt = randomBytes(16).toString('hex');
      this.put({ name: `from_bootstrap_file_${i + 1}`, api_key: key, salt, secret_hash: digest(salt, secret), created_at: this.now(), desc: `bootstrap file line ${i + 1}`, enable: true, role: role as AdminRole, bootstrap: true });
      loaded++;
    }
    return { loaded, failed };
  }

  list(): ApiKeyInfo[] {
    return [...this.byName.values()].map((k) => this.info(k));
  }

  get(name: string): ApiKeyInfo {
    return this.info(this.need(name));
  }

  /** A new key; the only time its secret is seen. */
  async create(input: NewApiKey): Promise<ApiKeyInfo & { api_secret: string }> {
    if (typeof input.name !== 'string' || !NAME.test(input.name)) throw new AdminError('bad_request', 'name must start with a letter and hold only letters, digits, _ and -');
    if (this.byName.has(input.name)) throw new AdminError('already_exists', `API key ${JSON.stringify(input.name)} already exists`);
    const expired_at = parseExpiry(input.expired_at);
    if (expired_at !== undefined && expired_at <= this.now()) throw new AdminError('bad_request', 'expired_at is in the past');
    const api_key = randomBytes(8).toString('hex');
    const api_secret = randomBytes(32).toString('base64url');
    const salt = randomBytes(16).toString('hex');
    const k: StoredKey = { name: input.name, api_key, salt, secret_hash: digest(salt, api_secret), expired_at, created_at: this.now(), desc: input.desc ?? '', enable: input.enable ?? true, role: input.role ?? 'administrator' };
    this.put(k);
    await this.writer.save();
    return { ...this.info(k), api_secret };
  }

  async update(name: string, change: Partial<Omit<NewApiKey, 'name'>>): Promise<ApiKeyInfo> {
    const k = this.need(name);
    if (change.expired_at !== undefined) k.expired_at = parseExpiry(change.expired_at);
    if (change.desc !== undefined) k.desc = change.desc;
    if (change.enable !== undefined) k.enable = change.enable;
    if (change.role !== undefined) k.role = change.role;
    await this.writer.save();
    return this.info(k);
  }

  async delete(name: string): Promise<void> {
    this.remove(this.need(name));
    await this.writer.save();
  }

  /** The key's name and role when key and secret match an enabled, unexpired key. */
  verify(apiKey: string, secret: string): { name: string; role: AdminRole } | undefined {
    const k = this.byKey.get(apiKey);
    // Hash anyway for unknown keys, so both cases cost the same.
    const got = Buffer.from(digest(k?.salt ?? '00', secret), 'hex');
    if (!k) return undefined;
    const want = Buffer.from(k.secret_hash, 'hex');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    if (!k.enable || this.isExpired(k)) return undefined;
    return { name: k.name, role: k.role };
  }

  private isExpired(k: StoredKey): boolean {
    return k.expired_at !== undefined && k.expired_at <= this.now();
  }

  private info(k: StoredKey): ApiKeyInfo {
    return {
      name: k.name,
      api_key: k.api_key,
      expired_at: k.expired_at === undefined ? 'infinity' : new Date(k.expired_at).toISOString(),
      created_at: new Date(k.created_at).toISOString(),
      desc: k.desc,
      enable: k.enable,
      expired: this.isExpired(k),
      role: k.role,
    };
  }

  private put(k: StoredKey): void {
    this.byName.set(k.name, k);
    this.byKey.set(k.api_key, k);
  }

  private remove(k: StoredKey): void {
    this.byName.delete(k.name);
    this.byKey.delete(k.api_key);
  }

  private need(name: string): StoredKey {
    const k = this.byName.get(name);
    if (!k) throw new AdminError('not_found', `API key ${JSON.stringify(name)} not found`);
    return k;
  }
}

function digest(salt: string, secret: string): string {
  return createHash('sha256').update(salt).update('\u0000').update(secret).digest('hex');
}

function parseExpiry(v: string | number | undefined): number | undefined {
  if (v === undefined || v === 'infinity') return undefined;
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) throw new AdminError('bad_request', `expired_at ${JSON.stringify(v)} is not an RFC 3339 time or "infinity"`);
  return ms;
}
