/**
 * Keeps built-in users and bans in the broker's {@link RecordStore} (the durable store under
 * `node.data_dir` in the gateway), so what operators add through the API survives a restart.
 * Each list is loaded once at install, then every change is written through, in order.
 */
import type { Logger, RecordStore } from '@junction/broker-core';
import type { Ban, BanKind, BannedList } from './banned.js';
import { LOG } from './log-events.js';
import type { ScramAlgorithm, ScramCredentials } from './scram.js';
import type { StoredUser, UserStore } from './users.js';

export const USERS_NAMESPACE = 'auth.users';
export const BANNED_NAMESPACE = 'auth.banned';

/** Loads the stored users into `users` (they win over a bootstrap file), then writes changes through. */
export async function persistUsers(users: UserStore, records: RecordStore, log: Logger): Promise<number> {
  const loaded: StoredUser[] = [];
  for (const { key, value } of await records.list(USERS_NAMESPACE)) {
    const user = decodeUser(value);
    if (user?.user_id === key) loaded.push(user);
    else log.warn({ namespace: USERS_NAMESPACE, key }, LOG.recordSkipped);
  }
  users.restore(loaded);
  const failed = (err: unknown) => log.error({ namespace: USERS_NAMESPACE, err }, LOG.recordWriteFailed);
  users.watch((change) => {
    const done =
      change.op === 'put'
        ? records.put(USERS_NAMESPACE, change.user.user_id, encodeUser(change.user))
        : change.op === 'delete'
          ? records.delete(USERS_NAMESPACE, change.userId)
          : records.clear(USERS_NAMESPACE);
    done.catch(failed);
  });
  return loaded.length;
}

/** Loads the stored live bans into `banned` (expired ones are dropped), then writes changes through. */
export async function persistBans(banned: BannedList, records: RecordStore, log: Logger): Promise<number> {
  let loaded = 0;
  for (const { key, value } of await records.list(BANNED_NAMESPACE)) {
    const ban = value as Partial<Ban> | null;
    try {
      banned.create({ as: ban?.as as BanKind, who: ban?.who ?? '', by: ban?.by, reason: ban?.reason, at: ban?.at, until: ban?.until });
      loaded++;
    } catch {
      // Expired since it was stored, or unreadable: it is not restored, and not kept.
      await records.delete(BANNED_NAMESPACE, key);
    }
  }
  const failed = (err: unknown) => log.error({ namespace: BANNED_NAMESPACE, err }, LOG.recordWriteFailed);
  banned.watch((change) => {
    const done =
      change.op === 'put'
        ? records.put(BANNED_NAMESPACE, change.key, change.ban)
        : change.op === 'delete'
          ? records.delete(BANNED_NAMESPACE, change.key)
          : records.clear(BANNED_NAMESPACE);
    done.catch(failed);
  });
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
