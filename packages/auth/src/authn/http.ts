import type { AuthnResult, Logger } from '@junction/broker-core';
import { ATTR, connectVars, truthy, type AclAttr } from '../attrs.js';
import { parseClientAcl } from '../authz/rule.js';
import type { HttpAuthnConfig } from '../config.js';
import { TemplatedRequest } from '../http-request.js';
import { LOG } from '../log-events.js';
import { AUTHN_VARS } from '../template.js';
import { denied, IGNORE, type Authenticator } from './types.js';

/**
 * EMQX `password_based` + `http`: 204 allows; 200 with `{"result": "allow"|"deny"|"ignore"}`
 * decides (with `is_superuser`, `acl`, `client_attrs`, `expire_at`); any other status ignores;
 * a failed request or an unreadable answer follows on_failure.
 */
export function httpAuthenticator(cfg: HttpAuthnConfig, path: string, log: Logger, now: () => number): Authenticator {
  const request = new TemplatedRequest(cfg, AUTHN_VARS, path);
  const failure = () => (cfg.on_failure === 'deny' ? denied('server_unavailable', 'authentication service unavailable') : IGNORE);
  return {
    id: 'password_based:http',
    async authenticate(info) {
      let answer;
      try {
        answer = await request.send(connectVars(info));
      } catch (err) {
        log.warn({ clientId: info.clientId, authenticator: 'password_based:http', err: (err as Error).message }, LOG.authnBackendFailed);
        return failure();
      }
      if (answer.status === 204) return { result: 'allow', isSuperuser: false };
      if (answer.status !== 200) return IGNORE;
      if (!answer.body) return failure();
      const result = answer.body.result ?? 'ignore';
      if (result === 'deny') return denied('not_authorized', 'denied by the authentication service');
      if (result !== 'allow') return IGNORE;
      return allowFromBody(answer.body, 'http', now());
    },
  };
}

/** An `allow` answer (HTTP body, JWT claims) with EMQX's extras; a bad extra is a denial. */
export function allowFromBody(body: Record<string, unknown>, source: 'http', nowMs: number): AuthnResult {
  const attrs: Record<string, unknown> = {};
  if (body.expire_at !== undefined) {
    const exp = body.expire_at;
    const nowS = Math.floor(nowMs / 1000);
    if (typeof exp !== 'number' || !Number.isInteger(exp)) return denied('bad_credentials', "'expire_at' is not an integer (Unix time in seconds)");
    if (exp < nowS) return denied('bad_credentials', "'expire_at' is in the past");
    if (exp > nowMs / 2) return denied('bad_credentials', "'expire_at' does not look like Unix time in seconds");
    attrs[ATTR.expireAt] = exp * 1000;
  }
  if (body.acl !== undefined) {
    try {
      parseClientAcl(body.acl);
    } catch (err) {
      return denied('bad_credentials', `bad acl: ${(err as Error).message}`);
    }
    const acl: AclAttr = { rules: body.acl, source, expire: attrs[ATTR.expireAt] !== undefined ? (attrs[ATTR.expireAt] as number) / 1000 : undefined };
    attrs[ATTR.acl] = acl;
  }
  const ca = body.client_attrs;
  if (ca !== null && typeof ca === 'object' && !Array.isArray(ca)) {
    attrs[ATTR.clientAttrs] = Object.fromEntries(Object.entries(ca as Record<string, unknown>).filter(([, v]) => typeof v === 'string'));
  }
  return { result: 'allow', isSuperuser: truthy(body.is_superuser), attrs };
}
