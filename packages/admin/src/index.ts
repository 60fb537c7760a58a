/**
 * @junction/admin: the management plane. The REST API at `/api/v5` with EMQX 5's paths and
 * shapes (clients, subscriptions, topics, retained messages, publish, banned, built-in users and
 * ACL rules, rules, listeners and gateways with run-time control, configs, log traces, stats,
 * metrics, monitor series, nodes, status, dashboard users, API keys, audit), Prometheus metrics
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
export { ChargerTracker, chargerSummary, type ChargerState, type ConnectorState } from './charger-tracker.js';
export { MonitorSampler, type MonitorSample, type SamplerOptions } from './sampler.js';
export type { AdminRules, AdminRuleInfo, AdminRuleInput, AdminRuleTestResult } from './rules-api.js';
export type { AdminAdapters, AdminAdapterView } from './adapters-api.js';
export { AdapterControl, type AdapterState, type ListenerAction } from './adapter-control.js';
export { HOT_KEYS, LOG_LEVELS, RuntimeConfig, type LogLevelControl } from './runtime-config.js';
export { redactConfig } from './config-redact.js';
export { TraceManager, MAX_TRACES, type TraceInfo, type TraceInput, type TraceStatus, type TraceType } from './trace/trace-manager.js';
export { formatLine, type PayloadEncode, type TraceEvent, type TraceFormatter } from './trace/trace-line.js';
export { apiDocument, renderApiReference, type OpenApiDocument } from './api-reference.js';
export { PrometheusExporter } from './prometheus.js';
export { LOG as ADMIN_LOG_EVENTS } from './log-events.js';
export { runCtl, CTL_USAGE, type CtlOptions } from './ctl.js';
