import type { AuthnResult, ConnectInfo, Logger } from '@junction/broker-core';
import { ATTR } from '../attrs.js';
import { LOG } from '../log-events.js';
import type { Authenticator } from './types.js';

/**
 * The authentication chain as one `client.authenticate` interceptor, EMQX's way: steps in order,
 * the first allow or deny wins, a step that throws is logged and skipped, and when every step
 * ignores the client is refused (`not_authorized`) instead of falling through to anonymous.
 */
export function authnChain(steps: readonly Authenticator[], log: Logger): (info: ConnectInfo) => Promise<AuthnResult> {
  return async (info) => {
    for (const step of steps) {
      let r: AuthnResult;
      try {
        r = await step.authenticate(info);
      } catch (err) {
        log.error({ clientId: info.clientId, authenticator: step.id, err: (err as Error).message }, LOG.authnBackendFailed);
        continue;
      }
      if (r.result === 'ignore') continue;
      if (r.result === 'deny') {
        log.info({ clientId: info.clientId, username: info.username, peer: info.peer, authenticator: step.id, reason: r.reason, why: r.message }, LOG.authnDenied);
        return r;
      }
      const attrs: Record<string, unknown> = { ...r.attrs };
      if (info.peerCert?.commonName !== undefined) attrs[ATTR.certCommonName] = info.peerCert.commonName;
      if (info.peerCert?.subject !== undefined) attrs[ATTR.certSubject] = info.peerCert.subject;
      log.debug({ clientId: info.clientId, username: info.username, authenticator: step.id, superuser: r.isSuperuser === true }, LOG.authnAllowed);
      return { result: 'allow', isSuperuser: r.isSuperuser, attrs };
    }
    log.info({ clientId: info.clientId, username: info.username, peer: info.peer }, LOG.authnNoMatch);
    return { result: 'deny', reason: 'not_authorized', message: 'no authenticator accepted the client' };
  };
}
