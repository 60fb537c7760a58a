import type { ConnectInfo, EnhancedAuthenticator, EnhancedAuthStep, Logger } from '@junction/broker-core';
import { ATTR } from '../attrs.js';
import type { ScramAuthnConfig } from '../config.js';
import { LOG } from '../log-events.js';
import { scramServerFirst, type ScramStep } from '../scram.js';
import type { UserStore } from '../users.js';

export interface ScramOptions {
  /** Runs before the exchange (the banned check: enhanced authentication skips the chain). */
  precheck?(info: ConnectInfo): EnhancedAuthStep | undefined;
  /** Server nonce source, for tests. */
  nonce?: () => string;
}

/**
 * EMQX `scram` + `built_in_database`: MQTT 5 enhanced authentication with the method
 * `SCRAM-SHA-256` (or `-512`). CONNECT carries client-first, AUTH 0x18 carries server-first and
 * client-final, CONNACK carries server-final (RFC 5802 §3). The SCRAM user name becomes the
 * client's identity for authorization; a different CONNECT user name is refused.
 */
export function scramAuthenticator(cfg: ScramAuthnConfig, users: UserStore, log: Logger, opts: ScramOptions = {}): EnhancedAuthenticator {
  const method = cfg.algorithm === 'sha512' ? 'SCRAM-SHA-512' : 'SCRAM-SHA-256';
  const fail = (info: ConnectInfo, step: Extract<ScramStep, { kind: 'failure' }>): EnhancedAuthStep => {
    log.info({ clientId: info.clientId, authenticator: 'scram:built_in_database', reason: step.reason }, LOG.authnDenied);
    return step.reason === 'malformed' || step.reason === 'channel_binding' ? { result: 'deny', reason: 'not_authorized', message: `SCRAM: ${step.reason}` } : { result: 'deny', reason: 'bad_credentials', message: 'SCRAM: authentication failed' };
  };
  return {
    method,
    async start(info) {
      const pre = opts.precheck?.(info);
      if (pre) return pre;
      const first = scramServerFirst(info.authData?.toString('utf8') ?? '', {
        algorithm: cfg.algorithm,
        iterations: cfg.iteration_count,
        lookup: (name) => users.scramFor(name)?.creds,
        nonce: opts.nonce,
      });
      if (first.kind !== 'challenge') return first.kind === 'failure' ? fail(info, first) : { result: 'deny', reason: 'not_authorized' };
      return {
        result: 'continue',
        authData: Buffer.from(first.serverFirst, 'utf8'),
        next: async (answer) => {
          const done = first.finish(answer?.toString('utf8') ?? '');
          if (done.kind !== 'success') return done.kind === 'failure' ? fail(info, done) : { result: 'deny', reason: 'not_authorized' };
          if (info.username !== undefined && info.username !== '' && info.username !== done.username) {
            return { result: 'deny', reason: 'bad_credentials', message: 'SCRAM user differs from the CONNECT user name' };
          }
          const user = users.scramFor(done.username);
          log.debug({ clientId: info.clientId, username: done.username, authenticator: 'scram:built_in_database' }, LOG.authnAllowed);
          return { result: 'allow', authData: Buffer.from(done.serverFinal, 'utf8'), isSuperuser: user?.is_superuser ?? false, attrs: { [ATTR.username]: done.username } };
        },
      };
    },
  };
}
