/**
 * What the API needs of an authentication/authorization plugin: built-in users, built-in ACL rules
 * and banned clients. `@junction/auth`'s `AuthHandle` has all three; this package does not import
 * it (plugins depend on the core only), so the composition root passes the handle in, and tests
 * may pass in-memory fakes. Store errors with a `code` (`user_exists`, `user_not_found`,
 * `ban_exists`, `invalid_*`) become 409, 404 and 400 answers.
 */

export interface BuiltInUser {
  readonly user_id: string;
  readonly is_superuser: boolean;
}

/** EMQX `password_based` + `built_in_database` users. */
export interface BuiltInUserStore {
  add(user: { user_id: string; password: string; is_superuser?: boolean }): Promise<BuiltInUser>;
  update(userId: string, change: { password?: string; is_superuser?: boolean }): Promise<BuiltInUser>;
  delete(userId: string): void | Promise<void>;
  lookup(userId: string): BuiltInUser | undefined;
  /** Ordered by id; `like` is a substring of the id. */
  list(opts?: { like?: string; is_superuser?: boolean }): BuiltInUser[];
}

/** An authorization rule in EMQX's JSON form. */
export interface AclRule {
  permission: 'allow' | 'deny';
  action: 'publish' | 'subscribe' | 'all' | 'pub' | 'sub';
  topic: string;
  qos?: number | number[];
  retain?: boolean | 'all';
}

export type AclRuleOwner = { username: string } | { clientid: string } | 'all';

/** EMQX `built_in_database` authorization rules. */
export interface AclRuleStore {
  set(owner: AclRuleOwner, rules: AclRule[]): void;
  get(owner: AclRuleOwner): AclRule[] | undefined;
  delete(owner: AclRuleOwner): boolean;
  list(kind: 'username'): { username: string; rules: AclRule[] }[];
  list(kind: 'clientid'): { clientid: string; rules: AclRule[] }[];
}

export type BanKind = 'clientid' | 'username' | 'peerhost' | 'peerhost_net' | 'clientid_re' | 'username_re';
export const BAN_KINDS: readonly BanKind[] = ['clientid', 'username', 'peerhost', 'peerhost_net', 'clientid_re', 'username_re'];

export interface BanRecord {
  readonly as: BanKind;
  readonly who: string;
  readonly by: string;
  readonly reason: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** Milliseconds since the epoch; undefined: never expires. */
  readonly until?: number;
}

/** Banned clients; creating a ban is expected to disconnect the clients it covers. */
export interface BannedStore {
  /** `at` and `until`: RFC 3339 text, epoch milliseconds, or `infinity` for `until`. */
  create(ban: { as: BanKind; who: string; by?: string; reason?: string; at?: string | number; until?: string | number }): BanRecord;
  delete(as: BanKind, who: string): boolean;
  /** Live bans. */
  list(): BanRecord[];
  clear?(): void;
}

export interface AdminAuthStores {
  readonly users?: BuiltInUserStore;
  readonly rules?: AclRuleStore;
  readonly banned?: BannedStore;
}
