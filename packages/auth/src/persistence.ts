/**
 * Keeps built-in users, bans and built-in authorization rules in the broker's {@link RecordStore}
 * (the durable store under `node.data_dir` in the gateway, or the cluster's), so what operators
 * add through the API survives a restart.
 * Each list is loaded once at install, then every change is written through, in order. A store
 * shared by several nodes (the cluster's) also tells about other nodes' changes: they are applied
 * to the lists in memory without being written back.
 */
import type { Logger, RecordChange, RecordStore } from '@junction/broker-core';
import type { AclRuleStore, RawRule, RuleOwner } from './authz/rule-store.js';
import type { Ban, BanKind, BannedList } from './banned.js';
import { LOG } from './log-events.js';
import type { ScramAlgorithm, ScramCredentials } from './scram.js';
import type { StoredUser, UserStore } from './users.js';

export const USERS_NAMESPACE = 'auth.users';
export const BANNED_NAMESPACE = 'auth.banned';
export const ACL_NAMESPACE = 'auth.acl';

/** Log events of changes that arrive from other nodes through a shared store's change feed. */
const REMOTE_LOG = {
  userApplied: 'authn_user_replicated',
  banApplied: 'banned_replicated',
  aclApplied: 'authz_rules_replicated',
  skipped: 'auth_record_replicated_skipped',
} as const;

/**
 * Follows a shared store's change feed (when it has one, e.g. the cluster's) for `namespace`.
 * Changes that arrive while the owner is loading wait until `ready()`, so none is missed between
 * `list` and the start of the feed.
 */
function follow(records: RecordStore, namespace: string, apply: (change: RecordChange) => void, log: Logger): { ready(): void } {
  let early: RecordChange[] | undefined = [];
  const run = (change: RecordChange) => {
    try {
      apply(change);
    } catch (err) {
      log.warn({ namespace, key: change.key, err: (err as Error).message }, REMOTE_LOG.skipped);
    }
  };
  records.watch?.(namespace, (change) => (early ? early.push(change) : run(change)));
  return {
    ready() {
      const waiting = early ?? [];
      early = undefined;
      for (const change of waiting) run(change);
    },
  };
}

/**
 * Loads the stored users into `users` (they win over a bootstrap file), then writes changes
 * through. With a shared store, users added, changed or removed on other nodes are applied here
 * (and not written back).
 */
export async function persistUsers(users: UserStore, records: RecordStore, log: Logger): Promise<number> {
  // Set while a change from another node is applied: it is in the store already.
  let remote = false;
  const feed = follow(
    records,
    USERS_NAMESPACE,
    (change) => {
      if (change.value === undefined) {
        if (!users.lookup(change.key)) return;
        remote = true;
        try {
          users.delete(change.key);
        } finally {
          remote = false;
        }
      } else {
        const user = decodeUser(change.value);
        if (user?.user_id !== change.key) throw new Error('unreadable user record');
        users.restore([user]);
      }
      log.info({ user_id: change.key, deleted: change.value === undefined }, REMOTE_LOG.userApplied);
    },
    log,
  );
  const loaded: StoredUser[] = [];
  for (const { key, value } of await records.list(USERS_NAMESPACE)) {
    const user = decodeUser(value);
    if (user?.user_id === key) loaded.push(user);
    else log.warn({ namespace: USERS_NAMESPACE, key }, LOG.recordSkipped);
  }
  users.restore(loaded);
  const failed = (err: unknown) => log.error({ namespace: USERS_NAMESPACE, err }, LOG.recordWriteFailed);
  users.watch((change) => {
    if (remote) return;
    const done =
      change.op === 'put'
        ? records.put(USERS_NAMESPACE, change.user.user_id, encodeUser(change.user))
        : change.op === 'delete'
          ? records.delete(USERS_NAMESPACE, change.userId)
          : records.clear(USERS_NAMESPACE);
    done.catch(failed);
  });
  feed.ready();
  return loaded.length;
}

/**
 * Loads the stored live bans into `banned` (expired ones are dropped), then writes changes
 * through. With a shared store, bans created or removed on other nodes are applied here (and
 * not written back); a new one kicks the matching local clients like a local one.
 */
export async function persistBans(banned: BannedList, records: RecordStore, log: Logger): Promise<number> {
  // Set while loading or applying a change from another node: it is in the store already.
  let remote = true;
  // Store key -> the ban's `as` and `who`: a delete from another node names the key only.
  const known = new Map<string, { as: BanKind; who: string }>();
  const create = (value: unknown) => {
    const ban = value as Partial<Ban> | null;
    return banned.create({ as: ban?.as as BanKind, who: ban?.who ?? '', by: ban?.by, reason: ban?.reason, at: ban?.at, until: ban?.until });
  };
  const feed = follow(
    records,
    BANNED_NAMESPACE,
    (change) => {
      const had = known.get(change.key);
      if (change.value === undefined && !had) return;
      const ban = change.value as Partial<Ban> | null;
      const same = had && ban && banned.lookup(had.as, had.who);
      if (same && same.at === ban.at && same.until === ban.until && same.reason === ban.reason && same.by === ban.by) return;
      remote = true;
      try {
        if (had) banned.delete(had.as, had.who);
        if (change.value !== undefined) create(change.value);
      } finally {
        remote = false;
      }
      log.info({ as: had?.as ?? ban?.as, who: had?.who ?? ban?.who, deleted: change.value === undefined }, REMOTE_LOG.banApplied);
    },
    log,
  );
  const failed = (err: unknown) => log.error({ namespace: BANNED_NAMESPACE, err }, LOG.recordWriteFailed);
  banned.watch((change) => {
    if (change.op === 'put') known.set(change.key, { as: change.ban.as, who: change.ban.who });
    else if (change.op === 'delete') known.delete(change.key);
    else known.clear();
    if (remote) return;
    const done =
      change.op === 'put'
        ? records.put(BANNED_NAMESPACE, change.key, change.ban)
        : change.op === 'delete'
          ? records.delete(BANNED_NAMESPACE, change.key)
          : records.clear(BANNED_NAMESPACE);
    done.catch(failed);
  });
  let loaded = 0;
  try {
    for (const { key, value } of await records.list(BANNED_NAMESPACE)) {
      try {
        create(value);
        loaded++;
      } catch {
        // Expired since it was stored, or unreadable: it is not restored, and not kept.
        await records.delete(BANNED_NAMESPACE, key);
      }
    }
  } finally {
    remote = false;
  }
  feed.ready();
  return loaded;
}

/** Store key of an ACL rule owner: `all`, or `clientid`/`username`, NUL, the name. */
function aclKey(owner: RuleOwner): string {
  return owner === 'all' ? 'all' : 'username' in owner ? `username\u0000${owner.username}` : `clientid\u0000${owner.clientid}`;
}

function aclOwner(key: string): RuleOwner | undefined {
  if (key === 'all') return 'all';
  const nul = key.indexOf('\u0000');
  const [kind, name] = [key.slice(0, nul), key.slice(nul + 1)];
  return nul < 0 ? undefined : kind === 'username' ? { username: name } : kind === 'clientid' ? { clientid: name } : undefined;
}

/**
 * Loads the stored built-in authorization rules into `rules`, then writes changes through. With a
 * shared store, rules set or deleted on other nodes are applied here (not written back), and
 * `remoteChanged` runs after each (the caller forgets cached verdicts).
 */
export async function persistAclRules(rules: AclRuleStore, records: RecordStore, log: Logger, remoteChanged: () => void = () => {}): Promise<number> {
  let remote = true;
  const put = (key: string, value: unknown) => {
    const owner = aclOwner(key);
    if (!owner || !Array.isArray(value)) throw new Error('unreadable authorization rules record');
    rules.set(owner, value as RawRule[]);
  };
  const feed = follow(
    records,
    ACL_NAMESPACE,
    (change) => {
      remote = true;
      try {
        if (change.value !== undefined) put(change.key, change.value);
        else {
          const owner = aclOwner(change.key);
          if (owner) rules.delete(owner);
        }
      } finally {
        remote = false;
      }
      remoteChanged();
      log.info({ owner: change.key.replace('\u0000', ':'), deleted: change.value === undefined }, REMOTE_LOG.aclApplied);
    },
    log,
  );
  const failed = (err: unknown) => log.error({ namespace: ACL_NAMESPACE, err }, LOG.recordWriteFailed);
  rules.watch((change) => {
    if (remote) return;
    const done =
      change.op === 'set'
        ? records.put(ACL_NAMESPACE, aclKey(change.owner), change.rules)
        : change.op === 'delete'
          ? records.delete(ACL_NAMESPACE, aclKey(change.owner))
          : records.clear(ACL_NAMESPACE);
    done.catch(failed);
  });
  let loaded = 0;
  try {
    for (const { key, value } of await records.list(ACL_NAMESPACE)) {
      try {
        put(key, value);
        loaded++;
      } catch {
        log.warn({ namespace: ACL_NAMESPACE, key }, LOG.recordSkipped);
      }
    }
  } finally {
    remote = false;
  }
  feed.ready();
  return loaded;
}

interface UserRecord {
  user_id: string;
  password_hash: string;
  salt: string;
  is_superuser: boolean;
  scram?: { algorithm: ScramAlgorithm; iterations: number; salt: string; stored_key: string; server_key: string };
}

function encodeUser(u: StoredUser): UserRecord {
  const s = u.scram;
  return {
    user_id: u.user_id,
    password_hash: u.password_hash,
    salt: u.salt,
    is_superuser: u.is_superuser,
    ...(s && {
      scram: { algorithm: s.algorithm, iterations: s.iterations, salt: s.salt.toString('base64'), stored_key: s.storedKey.toString('base64'), server_key: s.serverKey.toString('base64') },
    }),
  };
}

function decodeUser(value: unknown): StoredUser | undefined {
  const r = value as Partial<UserRecord> | null;
  if (typeof r?.user_id !== 'string' || typeof r.password_hash !== 'string' || typeof r.salt !== 'string' || typeof r.is_superuser !== 'boolean') return undefined;
  let scram: ScramCredentials | undefined;
  if (r.scram) {
    const s = r.scram;
    if ((s.algorithm !== 'sha256' && s.algorithm !== 'sha512') || !Number.isInteger(s.iterations)) return undefined;
    scram = { algorithm: s.algorithm, iterations: s.iterations, salt: Buffer.from(s.salt, 'base64'), storedKey: Buffer.from(s.stored_key, 'base64'), serverKey: Buffer.from(s.server_key, 'base64') };
  }
  return { user_id: r.user_id, password_hash: r.password_hash, salt: r.salt, is_superuser: r.is_superuser, ...(scram && { scram }) };
}
