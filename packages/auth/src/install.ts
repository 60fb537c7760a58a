/**
 * `installAuth`: build everything the config describes and hook it into a broker. The banned
 * check is the first `client.authenticate` interceptor; the authentication chain is one more;
 * SCRAM is an enhanced authenticator; authorization is one `client.authorize` interceptor;
 * `client.connected` / `client.disconnected` drive expiring tokens, flapping and ban kicks.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, silentLogger, systemClock, type AuthnResult, type ClientInfo, type Clock, type ConnectInfo, type EnhancedAuthRegistry, type Hooks, type Logger, type RecordStore } from '@junction/broker-core';
import { ATTR } from './attrs.js';
import { builtInAuthenticator } from './authn/built-in.js';
import { authnChain } from './authn/chain.js';
import { httpAuthenticator } from './authn/http.js';
import { jwtAuthenticator } from './authn/jwt.js';
import { redisAuthenticator } from './authn/redis.js';
import { scramAuthenticator } from './authn/scram.js';
import type { Authenticator } from './authn/types.js';
import { x509Authenticator } from './authn/x509.js';
import { Authorizer } from './authz/chain.js';
import { AclRuleStore } from './authz/rule-store.js';
import { builtInSource, clientAclSource, fileSource, httpSource, redisSource, type AuthzSource } from './authz/sources.js';
import { BannedList } from './banned.js';
import { ClientRegistry } from './client-registry.js';
import { authConfigSchema, type AuthConfig, type AuthConfigInput, type BuiltInDatabaseAuthnConfig, type ScramAuthnConfig } from './config.js';
import { FlappingDetector } from './flapping.js';
import { LOG } from './log-events.js';
import { normalize } from './normalize.js';
import { persistAclRules, persistBans, persistUsers } from './persistence.js';
import { assertSupported, type HashAlgorithm } from './password-hash.js';
import { UserStore } from './users.js';

/** What the plugin needs of a broker; `BrokerCore` has it all. */
export interface AuthBroker {
  readonly hooks: Hooks;
  readonly enhancedAuth: EnhancedAuthRegistry;
  /** Disconnect a client with a reason (MQTT 5: `kicked` and `banned` 0x98, `not_authorized` 0x87). */
  kick(clientId: string, reason?: 'kicked' | 'banned' | 'not_authorized'): boolean;
  readonly clock?: Clock;
}

export interface AuthHandle {
  /** The full config in use, defaults filled in. */
  readonly config: AuthConfig;
  /** Built-in users (password_based / scram with built_in_database). */
  readonly users: UserStore;
  /** Built-in authorization rules (`built_in_database` source). */
  readonly rules: AclRuleStore;
  /** Banned clients; a new ban disconnects the connected clients it covers. */
  readonly banned: BannedList;
  /** Present when flapping_detect is enabled. */
  readonly flapping?: FlappingDetector;
  /** Forget cached authorization verdicts, of all clients or of one client id. */
  clearAuthzCache(clientId?: string): void;
  /** Unhook everything, stop timers, close Redis connections. Idempotent. */
  stop(): Promise<void>;
}

export interface InstallAuthOptions {
  /**
   * Where built-in users, bans and built-in authorization rules are kept across restarts (the
   * gateway passes its durable store, or the cluster's store, whose change feed brings other
   * nodes' changes). Stored users and bans are loaded first; bootstrap files then add what is
   * missing. Unset: they live in memory only.
   */
  records?: RecordStore;
}

const DEFAULT_HASH: HashAlgorithm = { name: 'sha256', salt_position: 'prefix' };
const PURGE_EVERY_MS = 60_000;
/** setTimeout's ceiling; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Install authentication, authorization, banned clients and flapping detection on a broker.
 * `config` may be partial and in human form (`5s`); it is validated and completed first, and a
 * problem throws the core's `ConfigError` naming the key (e.g. `authentication.0.cmd`).
 */
export async function installAuth(broker: AuthBroker, input: AuthConfigInput = {}, baseLog: Logger = silentLogger, opts: InstallAuthOptions = {}): Promise<AuthHandle> {
  const config = normalize<AuthConfig>(authConfigSchema, input);
  const log = baseLog.child({ component: 'auth' });
  const clock = broker.clock ?? systemClock;
  const now = () => clock.now();
  const cleanups: (() => void | Promise<void>)[] = [];

  try {
    // ---------------------------------------------------------------- users
    const authn = config.authentication.map((a, i) => ({ a, path: `authentication.${i}` })).filter(({ a }) => a.enable);
    checkDuplicates(authn.map(({ a, path }) => ({ id: authenticatorId(a), path })));
    const builtIn = authn.find(({ a }) => a.mechanism === 'password_based' && a.backend === 'built_in_database') as { a: BuiltInDatabaseAuthnConfig; path: string } | undefined;
    const scram = authn.find(({ a }) => a.mechanism === 'scram') as { a: ScramAuthnConfig; path: string } | undefined;
    const algorithm = (builtIn?.a.password_hash_algorithm ?? DEFAULT_HASH) as HashAlgorithm;
    for (const { a, path } of authn) {
      if ('password_hash_algorithm' in a) {
        try {
          assertSupported(a.password_hash_algorithm as HashAlgorithm);
        } catch (err) {
          throw new ConfigError(`${path}.password_hash_algorithm`, (err as Error).message);
        }
      }
    }
    const users = new UserStore({ algorithm, scram: scram ? { algorithm: scram.a.algorithm, iterations: scram.a.iteration_count } : undefined });
    if (opts.records) {
      const n = await persistUsers(users, opts.records, log);
      if (n > 0) log.info({ count: n }, LOG.usersRestored);
    }
    if (builtIn?.a.bootstrap_file) {
      try {
        const r = await users.importFile(builtIn.a.bootstrap_file, builtIn.a.bootstrap_type, { keepExisting: opts.records !== undefined });
        log.info({ file: builtIn.a.bootstrap_file, ...r }, LOG.usersImported);
      } catch (err) {
        throw new ConfigError(`${builtIn.path}.bootstrap_file`, (err as Error).message, { cause: err });
      }
    }

    // ---------------------------------------------------------------- connected clients, kicks
    const registry = new ClientRegistry(broker.hooks);
    cleanups.push(() => registry.close());
    const kick = (client: ClientInfo, event: string, fields: Record<string, unknown> = {}, reason: 'kicked' | 'banned' | 'not_authorized' = 'kicked') => {
      if (!registry.isCurrent(client)) return;
      // Not from inside the hook that decided: let the current packet finish first.
      setImmediate(() => {
        if (!registry.isCurrent(client)) return;
        log.info({ clientId: client.clientId, username: client.username, peer: client.peer, ...fields }, event);
        broker.kick(client.clientId, reason);
      });
    };

    // ---------------------------------------------------------------- banned
    const banned = new BannedList(now);
    if (opts.records) {
      const n = await persistBans(banned, opts.records, log);
      if (n > 0) log.info({ count: n }, LOG.bannedRestored);
    }
    if (config.banned.bootstrap_file) {
      let text: string;
      try {
        text = await readFile(config.banned.bootstrap_file, 'utf8');
      } catch (err) {
        throw new ConfigError('banned.bootstrap_file', `cannot read ${config.banned.bootstrap_file}: ${(err as Error).message}`, { cause: err });
      }
      const r = banned.loadCsv(text);
      if (r.failed > 0) log.warn({ file: config.banned.bootstrap_file, ...r }, LOG.bannedBootstrapFailed);
    }
    banned.onCreate((ban) => {
      log.info({ as: ban.as, who: ban.who, by: ban.by, until: ban.until }, LOG.bannedCreated);
      const covers = banned.matcher(ban);
      for (const c of registry.all()) if (covers(c)) kick(c, LOG.bannedKicked, { as: ban.as }, 'banned');
    });
    const bannedCheck = (info: ConnectInfo): AuthnResult => {
      const ban = banned.check(info);
      if (!ban) return { result: 'ignore' };
      log.info({ clientId: info.clientId, username: info.username, peer: info.peer, as: ban.as }, LOG.bannedRefused);
      return { result: 'deny', reason: 'banned', message: 'banned' };
    };
    // `client.connect` runs for every client, also one an enhanced authenticator accepted.
    cleanups.push(broker.hooks.intercept('client.connect', bannedCheck));

    // ---------------------------------------------------------------- authentication
    const steps: Authenticator[] = [];
    cleanups.push(async () => {
      for (const s of steps) await s.close?.();
    });
    for (const { a, path } of authn) {
      switch (a.mechanism) {
        case 'password_based':
          if (a.backend === 'built_in_database') steps.push(builtInAuthenticator(a, users));
          else if (a.backend === 'redis') steps.push(redisAuthenticator(a, path, log));
          else steps.push(httpAuthenticator(a, path, log, now));
          break;
        case 'jwt':
          steps.push(jwtAuthenticator(a, path, log, clock));
          break;
        case 'x509':
          steps.push(x509Authenticator(a));
          break;
        case 'scram': {
          const enhanced = scramAuthenticator(a, users, log, {
            precheck: (info) => {
              const r = bannedCheck(info);
              return r.result === 'deny' ? { result: 'deny', reason: 'not_authorized', message: 'banned' } : undefined;
            },
          });
          cleanups.push(broker.enhancedAuth.register(enhanced));
          break;
        }
      }
    }
    // Any enabled authenticator makes the chain authoritative (EMQX): with only SCRAM configured,
    // a client without enhanced authentication meets an empty chain and is refused.
    if (authn.length > 0) cleanups.push(broker.hooks.intercept('client.authenticate', authnChain(steps, log)));

    // ---------------------------------------------------------------- authorization
    const rules = new AclRuleStore(maxRules(config));
    const sources: AuthzSource[] = [clientAclSource(now, log)];
    cleanups.push(async () => {
      for (const s of sources) await s.close?.();
    });
    for (const [i, s] of config.authorization.sources.entries()) {
      if (!s.enable) continue;
      const path = `authorization.sources.${i}`;
      if (s.type === 'file') sources.push(await fileSource(s, path));
      else if (s.type === 'built_in_database') sources.push(builtInSource(rules));
      else if (s.type === 'redis') sources.push(redisSource(s, path, log));
      else sources.push(httpSource(s, path, log));
    }
    const authorizer = new Authorizer({
      config: config.authorization,
      sources,
      now,
      log,
      isConnected: (c) => registry.isCurrent(c),
      disconnect: (c) => kick(c, LOG.authzDisconnect, {}, 'not_authorized'),
    });
    cleanups.push(broker.hooks.intercept('client.authorize', authorizer.intercept));
    // Built-in rules set through the API are kept (and shared by a cluster's nodes) like users.
    if (opts.records) await persistAclRules(rules, opts.records, log, () => authorizer.clearCache());

    // ---------------------------------------------------------------- expiry, flapping, purge
    const expiry = new Map<ClientInfo, unknown>();
    const armExpiry = (client: ClientInfo, at: number) => {
      const wait = at - now();
      if (wait <= 0) return kick(client, LOG.tokenExpiredKick, {}, 'not_authorized');
      expiry.set(
        client,
        clock.setTimeout(() => (wait > MAX_TIMER_MS ? armExpiry(client, at) : kick(client, LOG.tokenExpiredKick, {}, 'not_authorized')), Math.min(wait, MAX_TIMER_MS)),
      );
    };
    const flapping = config.flapping_detect.enable ? new FlappingDetector(config.flapping_detect, banned, now, log) : undefined;
    registry.onConnected((client) => {
      // A ban created while this client was between the check and the connection.
      const ban = banned.check(client);
      if (ban) return kick(client, LOG.bannedKicked, { as: ban.as }, 'banned');
      const at = client.attrs?.[ATTR.expireAt];
      if (typeof at === 'number') armExpiry(client, at);
    });
    registry.onDisconnected((client) => {
      const t = expiry.get(client);
      if (t !== undefined) {
        clock.clearTimeout(t);
        expiry.delete(client);
      }
      authorizer.forget(client);
      flapping?.disconnected(client.clientId, client.peer);
    });
    cleanups.push(() => {
      for (const t of expiry.values()) clock.clearTimeout(t);
      expiry.clear();
    });
    const purge = setInterval(() => {
      const n = banned.purgeExpired();
      if (n > 0) log.debug({ count: n }, LOG.bannedPurged);
      flapping?.sweep();
    }, PURGE_EVERY_MS);
    purge.unref();
    cleanups.push(() => clearInterval(purge));

    log.info(
      {
        authenticators: [...steps.map((s) => s.id), ...(scram ? ['scram:built_in_database'] : [])],
        sources: sources.map((s) => s.type),
        no_match: config.authorization.no_match,
        deny_action: config.authorization.deny_action,
        flapping_detect: config.flapping_detect.enable,
        bans: banned.size,
      },
      LOG.installed,
    );

    let stopped: Promise<void> | undefined;
    return {
      config,
      users,
      rules,
      banned,
      flapping,
      clearAuthzCache: (clientId) => authorizer.clearCache(clientId),
      stop: () => (stopped ??= runCleanups(cleanups).then(() => log.info({}, LOG.stopped))),
    };
  } catch (err) {
    await runCleanups(cleanups);
    throw err;
  }
}

async function runCleanups(cleanups: (() => void | Promise<void>)[]): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      // best effort: a failing close must not keep the rest open
    }
  }
}

function authenticatorId(a: AuthConfig['authentication'][number]): string {
  if (a.mechanism === 'password_based' || a.mechanism === 'scram') return `${a.mechanism}:${a.backend}`;
  return a.mechanism;
}

/** EMQX refuses two authenticators of the same mechanism and backend in one chain. */
function checkDuplicates(list: { id: string; path: string }[]): void {
  const seen = new Set<string>();
  for (const { id, path } of list) {
    if (seen.has(id)) throw new ConfigError(path, `authenticator ${id} appears twice in the chain`);
    seen.add(id);
  }
}

function maxRules(config: AuthConfig): number {
  const s = config.authorization.sources.find((x) => x.type === 'built_in_database');
  return s && s.type === 'built_in_database' ? s.max_rules : 100;
}
