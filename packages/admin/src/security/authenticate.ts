/**
 * The gate in front of every route: a login token (`Authorization: Bearer …`) or an API key
 * (`Authorization: Basic base64(key:secret)`), except for routes marked public (login, status)
 * and, when `prometheus.enable_basic_auth` is false, the Prometheus endpoint. Viewers and
 * read-only API keys may only read; API keys may not manage dashboard users or API keys.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminContext, Principal } from '../context.js';
import { AdminError } from '../errors.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function authenticationHook(ctx: AdminContext) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const cfg = req.routeOptions.config ?? {};
    // Static dashboard files are public: the page must load before anyone can log in.
    if (cfg.public || !req.url.startsWith('/api/')) return;
    if (cfg.prometheus && !ctx.config.prometheus.enable_basic_auth) return;
    const principal = identify(ctx, req.headers.authorization);
    req.principal = principal;
    if (cfg.tokenOnly && principal.kind === 'api_key') {
      throw new AdminError('forbidden', 'API keys may not manage dashboard users or API keys; log in instead', { apiCode: 'API_KEY_NOT_ALLOW' });
    }
    if (principal.role === 'viewer' && !READ_METHODS.has(req.method) && !cfg.selfService) {
      throw new AdminError('forbidden', `role viewer may not ${req.method} ${req.routeOptions.url ?? req.url}`);
    }
  };
}

function identify(ctx: AdminContext, header: string | undefined): Principal {
  if (!header) throw new AdminError('unauthorized', 'credentials required: a login token (Bearer) or an API key (Basic)', { apiCode: 'BAD_TOKEN' });
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space < 0 ? header.length : space).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer') {
    const r = ctx.tokens.verify(value);
    if (!r.ok) {
      throw new AdminError('unauthorized', r.reason === 'expired' ? 'token expired' : 'invalid token', { apiCode: r.reason === 'expired' ? 'TOKEN_TIME_OUT' : 'BAD_TOKEN' });
    }
    const after = ctx.admins.tokensValidAfter(r.claims.sub);
    const user = ctx.admins.lookup(r.claims.sub);
    if (after === undefined || !user || r.claims.iat_ms < after) throw new AdminError('unauthorized', 'token no longer valid', { apiCode: 'BAD_TOKEN' });
    return { kind: 'user', name: user.username, role: user.role, claims: r.claims };
  }
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const key = ctx.apiKeys.verify(decoded.slice(0, Math.max(colon, 0)), colon < 0 ? '' : decoded.slice(colon + 1));
    if (!key) throw new AdminError('unauthorized', 'unknown, disabled or expired API key, or wrong secret', { apiCode: 'BAD_API_KEY_OR_SECRET' });
    return { kind: 'api_key', name: key.name, role: key.role };
  }
  throw new AdminError('unauthorized', `unsupported authorization scheme ${JSON.stringify(scheme)}`, { apiCode: 'BAD_TOKEN' });
}
