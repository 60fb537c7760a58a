/**
 * @junction/admin: the management plane. The REST API at `/api/v5` with EMQX 5's paths and
 * shapes (clients, subscriptions, topics, retained messages, publish, banned, built-in users and
 * ACL rules, stats, metrics, nodes, status, dashboard users, API keys, audit), Prometheus metrics
 * with EMQX's names, the OpenAPI document, and `runCtl` for `junction ctl`.
 */
export { createAdminServer, DEFAULT_PASSWORD_ENV, type AdminServer, type AdminServerApi, type AdminServerOptions } from './server.js';
export * from './config.js';
export type { AdminBroker, AdminContext, Principal } from './context.js';
export type { AdminAuthStores, AclRule, AclRuleOwner, AclRuleStore, BannedStore, BanKind, BanRecord, BuiltInUser, BuiltInUserStore } from './auth-stores.js';
export { AdminError, type AdminErrorCode } from './errors.js';
export { AdminUserStore, ADMIN_ROLES, checkPassword, type AdminRole, type AdminUserInfo, type AdminUserStoreOptions } from './security/admin-users.js';
export { ApiKeyStore, type ApiKeyInfo, type NewApiKey } from './security/api-keys.js';
export { AuditLog, redact, type AuditEntry } from './audit.js';
export { ClientTracker, type TrackedClient } from './client-tracker.js';
export { PrometheusExporter } from './prometheus.js';
export { LOG as ADMIN_LOG_EVENTS } from './log-events.js';
export { runCtl, CTL_USAGE, type CtlOptions } from './ctl.js';
