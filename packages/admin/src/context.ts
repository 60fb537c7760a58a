/** What every route module receives: the broker, the stores, and the server's own parts. */
import type { BrokerCore, Logger } from '@junction/broker-core';
import type { AuditLog } from './audit.js';
import type { AdminAuthStores } from './auth-stores.js';
import type { ClientTracker } from './client-tracker.js';
import type { AdminConfig } from './config.js';
import type { AdminUserStore, AdminRole } from './security/admin-users.js';
import type { ApiKeyStore } from './security/api-keys.js';
import type { LoginLimiter } from './security/login-limiter.js';
import type { TokenSigner, TokenClaims } from './security/tokens.js';
import type { StatsCollector } from './stats.js';

/** The parts of the broker the API uses; `BrokerCore` has them all. */
export type AdminBroker = Pick<BrokerCore, 'nodeName' | 'config' | 'hooks' | 'metrics' | 'clock' | 'retained' | 'startedAt' | 'stats' | 'session' | 'kick' | 'publish'>;

export interface AdminContext {
  readonly broker: AdminBroker;
  readonly auth: AdminAuthStores;
  readonly config: AdminConfig;
  readonly log: Logger;
  readonly tracker: ClientTracker;
  readonly stats: StatsCollector;
  readonly audit: AuditLog;
  readonly admins: AdminUserStore;
  readonly apiKeys: ApiKeyStore;
  readonly tokens: TokenSigner;
  readonly limiter: LoginLimiter;
}

/** Who made a request. */
export type Principal =
  | { readonly kind: 'user'; readonly name: string; readonly role: AdminRole; readonly claims: TokenClaims }
  | { readonly kind: 'api_key'; readonly name: string; readonly role: AdminRole };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook for every route that is not public. */
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** No credentials needed (login, status). */
    public?: boolean;
    /** Login tokens only: API keys may not manage users or keys (as in EMQX). */
    tokenOnly?: boolean;
    /** The Prometheus endpoint: public when `prometheus.enable_basic_auth` is false. */
    prometheus?: boolean;
    /** A viewer may call this write route for itself (change its own password, log out). */
    selfService?: boolean;
  }
}
