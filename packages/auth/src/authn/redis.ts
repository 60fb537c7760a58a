import { ConfigError, type Logger } from '@junction/broker-core';
import { connectVars, truthy } from '../attrs.js';
import type { RedisAuthnConfig } from '../config.js';
import { LOG } from '../log-events.js';
import { checkPassword } from '../password-hash.js';
import { createRedis, parseRedisCommand, type RedisClient } from '../redis.js';
import { denied, IGNORE, type Authenticator } from './types.js';

const KEY_VARS = ['clientid', 'username', 'peerhost', 'cert_subject', 'cert_common_name'] as const;
const FIELDS = ['password_hash', 'password', 'salt', 'is_superuser'] as const;

/**
 * EMQX `password_based` + `redis`: `HGET`/`HMGET` of a hash whose key is a template. No record
 * (or only nil fields) is ignored; a wrong password is a denial; Redis failures follow on_failure.
 */
export function redisAuthenticator(cfg: RedisAuthnConfig, path: string, log: Logger, client?: RedisClient): Authenticator {
  const cmd = parseRedisCommand(cfg.cmd, `${path}.cmd`, ['hget', 'hmget'], KEY_VARS, FIELDS);
  if (!cmd.args.includes('password_hash') && !cmd.args.includes('password')) {
    throw new ConfigError(`${path}.cmd`, 'must read password_hash (or password)');
  }
  const redis = client ?? createRedis(cfg, path, log);
  const failure = () => (cfg.on_failure === 'deny' ? denied('server_unavailable', 'authentication backend unavailable') : IGNORE);
  return {
    id: 'password_based:redis',
    async authenticate(info) {
      if (info.password === undefined) return denied('bad_credentials', 'no password');
      const key = cmd.key.renderStrict(connectVars(info));
      if (key === undefined) return IGNORE;
      let reply: unknown;
      try {
        reply = await redis.call(cmd.name, key, ...cmd.args);
      } catch (err) {
        log.warn({ clientId: info.clientId, authenticator: 'password_based:redis', err: (err as Error).message }, LOG.authnBackendFailed);
        return failure();
      }
      const values = Array.isArray(reply) ? reply : [reply];
      const selected: Record<string, string> = {};
      cmd.args.forEach((field, i) => {
        const v = values[i];
        if (v !== null && v !== undefined) selected[field] = String(v);
      });
      if (Object.keys(selected).length === 0) return IGNORE;
      const hash = selected.password_hash ?? selected.password;
      if (hash === undefined) return denied('bad_credentials', 'no password stored');
      const ok = await checkPassword(cfg.password_hash_algorithm, { password_hash: hash, salt: selected.salt }, info.password);
      return ok ? { result: 'allow', isSuperuser: truthy(selected.is_superuser) } : denied('bad_credentials', 'bad user name or password');
    },
    async close() {
      if (!client) redis.disconnect();
    },
  };
}
