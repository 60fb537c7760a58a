/**
 * EMQX `jwt`: the token comes in the password (or user name); HMAC secret, public key or JWKS.
 * As in EMQX, a token that is absent, malformed, signed with another key or an algorithm not
 * allowed (`none`, HS* against a public key) is ignored (the next step decides); a valid
 * signature with a failed claim check (exp, nbf, verify_claims, a bad acl) is a denial.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError, type Clock, type Logger } from '@junction/broker-core';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ATTR, truthy, type AclAttr } from '../attrs.js';
import { parseClientAcl } from '../authz/rule.js';
import type { JwtAuthnConfig } from '../config.js';
import { LOG } from '../log-events.js';
import { Template } from '../template.js';
import { denied, IGNORE, type Authenticator } from './types.js';

export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
export const PUBLIC_KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const FORBIDDEN_CLAIMS = ['exp', 'nbf', 'iat'];

export function jwtAuthenticator(cfg: JwtAuthnConfig, path: string, log: Logger, clock: Clock): Authenticator {
  const claims: [string, Template][] = Object.entries(cfg.verify_claims).map(([name, expected]) => {
    if (name === '' || FORBIDDEN_CLAIMS.includes(name)) throw new ConfigError(`${path}.verify_claims.${name}`, 'exp, nbf and iat are always checked and cannot be listed');
    try {
      return [name, Template.parse(expected, ['clientid', 'username'])];
    } catch (err) {
      throw new ConfigError(`${path}.verify_claims.${name}`, (err as Error).message);
    }
  });

  let key: KeyObject | Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  let timer: NodeJS.Timeout | undefined;

  if (cfg.use_jwks) {
    if (!cfg.endpoint) throw new ConfigError(`${path}.endpoint`, 'is required with use_jwks');
    let url: URL;
    try {
      url = new URL(cfg.endpoint);
    } catch {
      throw new ConfigError(`${path}.endpoint`, `invalid URL ${JSON.stringify(cfg.endpoint)}`);
    }
    const everyMs = cfg.refresh_interval * 1000;
    const jwks = createRemoteJWKSet(url, { cacheMaxAge: everyMs, cooldownDuration: Math.min(30_000, everyMs), timeoutDuration: 5000 });
    const refresh = () => jwks.reload().catch((err: unknown) => log.warn({ authenticator: 'jwt', endpoint: url.origin, err: (err as Error).message }, LOG.jwksRefreshFailed));
    void refresh();
    timer = setInterval(refresh, everyMs);
    timer.unref();
    key = jwks;
    algorithms = PUBLIC_KEY_ALGORITHMS;
  } else if (cfg.algorithm === 'hmac-based') {
    if (cfg.secret === undefined || cfg.secret === '') throw new ConfigError(`${path}.secret`, 'is required for hmac-based');
    if (cfg.secret_base64_encoded && !/^[A-Za-z0-9+/_-]+={0,2}$/.test(cfg.secret)) throw new ConfigError(`${path}.secret`, 'is not valid base64');
    key = new Uint8Array(Buffer.from(cfg.secret, cfg.secret_base64_encoded ? 'base64' : 'utf8'));
    algorithms = HMAC_ALGORITHMS;
  } else {
    if (!cfg.public_key) throw new ConfigError(`${path}.public_key`, 'is required for public-key');
    try {
      const pem = cfg.public_key.includes('-----BEGIN') || !existsSync(cfg.public_key) ? cfg.public_key : readFileSync(cfg.public_key, 'utf8');
      key = createPublicKey(pem);
    } catch (err) {
      throw new ConfigError(`${path}.public_key`, `not a PEM public key or certificate: ${(err as Error).message}`);
    }
    algorithms = PUBLIC_KEY_ALGORITHMS;
  }

  return {
    id: 'jwt',
    async authenticate(info) {
      const token = cfg.from === 'password' ? info.password?.toString('utf8') : info.username;
      if (token === undefined) return IGNORE;
      let payload: JWTPayload;
      try {
        const opts = { algorithms, currentDate: new Date(clock.now()) };
        ({ payload } = typeof key === 'function' ? await jwtVerify(token, key, opts) : await jwtVerify(token, key, opts));
      } catch (err) {
        if (err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired) return denied('bad_credentials', `token rejected: ${err.message}`);
        if (err instanceof errors.JWKSTimeout || (err instanceof Error && !(err instanceof errors.JOSEError))) {
          log.warn({ clientId: info.clientId, authenticator: 'jwt', err: err.message }, LOG.authnBackendFailed);
        }
        return IGNORE;
      }
      const vars = (n: string) => (n === 'clientid' ? info.clientId : n === 'username' ? info.username : undefined);
      for (const [name, t] of claims) {
        const expected = t.renderStrict(vars);
        const actual = payload[name];
        if (expected === undefined || actual === undefined) return denied('bad_credentials', `claim ${name} missing`);
        const ok = name === 'aud' && Array.isArray(actual) ? actual.length > 0 && actual.includes(expected) : actual === expected && actual !== '';
        if (!ok) return denied('bad_credentials', `claim ${name} does not match`);
      }
      const attrs: Record<string, unknown> = {};
      const exp = typeof payload.exp === 'number' ? payload.exp : undefined;
      if (cfg.disconnect_after_expire && exp !== undefined) attrs[ATTR.expireAt] = exp * 1000;
      const aclRaw = payload[cfg.acl_claim_name];
      if (aclRaw !== undefined) {
        try {
          parseClientAcl(aclRaw);
        } catch (err) {
          return denied('bad_credentials', `bad acl claim: ${(err as Error).message}`);
        }
        const acl: AclAttr = { rules: aclRaw, expire: exp, source: 'jwt' };
        attrs[ATTR.acl] = acl;
      }
      const ca = payload.client_attrs;
      if (ca !== null && typeof ca === 'object' && !Array.isArray(ca)) {
        attrs[ATTR.clientAttrs] = Object.fromEntries(Object.entries(ca as Record<string, unknown>).filter(([, v]) => typeof v === 'string'));
      }
      return { result: 'allow', isSuperuser: truthy(payload.is_superuser), attrs };
    },
    close() {
      if (timer) clearInterval(timer);
    },
  };
}
