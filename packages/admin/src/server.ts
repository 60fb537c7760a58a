/**
 * `createAdminServer`: the REST API (EMQX's `/api/v5` paths and shapes) on fastify, with login
 * tokens and API keys, an audit trail of every write, the OpenAPI document generated from the
 * route schemas, Prometheus metrics, run-time control (listeners, gateways, config, log traces),
 * and optionally the dashboard's static files.
 */
import { join } from 'node:path';
import { ConfigError, parseBind, silentLogger, VERSION, type BindAddress, type ConnectInfo, type Logger } from '@junction/broker-core';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AdapterControl } from './adapter-control.js';
import type { AdminAdapters } from './adapters-api.js';
import { AuditLog, redact, type AuditEntry } from './audit.js';
import type { AdminAuthStores } from './auth-stores.js';
import { ChargerTracker } from './charger-tracker.js';
import { ClientTracker } from './client-tracker.js';
import { normalizeAdminConfig, type AdminConfigInput } from './config.js';
import type { AdminBroker, AdminContext } from './context.js';
import { DEFAULT_API_CODE, fromStoreError, HTTP_STATUS } from './errors.js';
import { LOG } from './log-events.js';
import { PrometheusExporter } from './prometheus.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { authnRoutes } from './routes/authn.js';
import { bannedRoutes } from './routes/banned.js';
import { clientRoutes } from './routes/clients.js';
import { dashboardUserRoutes } from './routes/dashboard-users.js';
import { configRoutes } from './routes/configs.js';
import { gatewayRoutes } from './routes/gateways.js';
import { listenerControlRoutes } from './routes/listener-control.js';
import { messageRoutes } from './routes/messages.js';
import { monitorRoutes } from './routes/monitor.js';
import { ruleRoutes } from './routes/rules.js';
import { sessionRoutes } from './routes/session.js';
import { traceRoutes } from './routes/trace.js';
import type { AdminRules } from './rules-api.js';
import { RuntimeConfig, type LogLevelControl } from './runtime-config.js';
import { MonitorSampler } from './sampler.js';
import { AdminUserStore, checkPassword } from './security/admin-users.js';
import { ApiKeyStore } from './security/api-keys.js';
import { authenticationHook } from './security/authenticate.js';
import { LoginLimiter } from './security/login-limiter.js';
import { randomPassword } from './security/passwords.js';
import { TokenSigner } from './security/tokens.js';
import { StatsCollector } from './stats.js';
import { TraceManager } from './trace/trace-manager.js';

/** The environment variable with the first administrator's password (EMQX: `EMQX_DASHBOARD__DEFAULT_PASSWORD`). */
export const DEFAULT_PASSWORD_ENV = 'JUNCTION_DASHBOARD__DEFAULT_PASSWORD';

export interface AdminServerOptions {
  /** The broker to manage (a `BrokerCore`). Create the admin server before clients connect: it
   * learns about clients from the core's notifications. */
  readonly broker: AdminBroker;
  /** Built-in users, authorization rules and bans (`@junction/auth`'s `AuthHandle` fits). */
  readonly auth?: AdminAuthStores;
  /** The `dashboard`, `prometheus` and `api_key` sections, in human or parsed form. */
  readonly config?: AdminConfigInput;
  /** Overrides `dashboard.listeners.http.bind` (e.g. port 0 in tests). */
  readonly bind?: string | number | BindAddress;
  readonly log?: Logger;
  /** The dashboard user store. Default: one kept in `<dataDir>/dashboard/admin-users.json`, or in
   * memory without `dataDir`. */
  readonly admins?: AdminUserStore;
  /** `node.data_dir`: where dashboard users and API keys are kept. Unset: in memory only. */
  readonly dataDir?: string;
  /** Where `JUNCTION_DASHBOARD__DEFAULT_PASSWORD` is read; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The rule engine (`@junction/rules`' `RulesHandle` fits), for `/api/v5/rules` and `/rule_test`. */
  readonly rules?: AdminRules;
  /** The running adapters, for `/api/v5/listeners` and `/gateways`. */
  readonly adapters?: AdminAdapters;
  /** The built dashboard, served at `/` when `dashboard.static_dir` is unset (the gateway passes
   * the directory of apps/dashboard's build when it exists). */
  readonly staticDir?: string;
  /** The whole running configuration (the gateway's), for `GET /api/v5/configs` (secrets are
   * redacted). Unset: the admin sections, the node name and the broker's `mqtt` settings. */
  readonly runningConfig?: () => Readonly<Record<string, unknown>>;
  /** The root logger's level, for `PUT /api/v5/configs/log` `{"level": "debug"}`. */
  readonly logLevel?: LogLevelControl;
}

export interface AdminServerApi {
  /** Listen; resolves with the real address (port 0 picks a free port). Runs the first-start
   * setup (the first administrator, API keys) if `ready()` has not yet. */
  start(): Promise<{ host: string; port: number }>;
  /** Close the listener and unhook from the broker. Idempotent. */
  stop(): Promise<void>;
  /** The parts behind the routes, for the composition root and tests. */
  readonly admin: AdminContext;
}

export type AdminServer = FastifyInstance & AdminServerApi;

export function createAdminServer(opts: AdminServerOptions): AdminServer {
  const config = normalizeAdminConfig(opts.config);
  const log = (opts.log ?? silentLogger).child({ component: 'admin' });
  const broker = opts.broker;
  const bind = opts.bind === undefined ? config.dashboard.listeners.http.bind : typeof opts.bind === 'object' ? opts.bind : parseBind(opts.bind);
  const now = () => broker.clock.now();
  const d = config.dashboard;

  // As the core computes it (broker.ts expiryFor/clampExpiry), for display.
  const expiryOf = (info: ConnectInfo): number => {
    const asked = info.sessionExpiryInterval ?? (info.cleanStart ? 0 : Math.floor(broker.config.session_expiry_interval / 1000));
    const max = Math.floor(broker.config.max_session_expiry_interval / 1000);
    return max > 0 && asked > max ? max : asked;
  };
  const tracker = new ClientTracker(broker.hooks, now, expiryOf);
  const ctx: AdminContext = {
    broker,
    auth: opts.auth ?? {},
    config,
    log,
    tracker,
    stats: new StatsCollector(broker, tracker),
    audit: new AuditLog(d.audit_max_entries, log),
    admins: opts.admins ?? new AdminUserStore({ file: opts.dataDir ? join(opts.dataDir, 'dashboard', 'admin-users.json') : undefined }),
    apiKeys: new ApiKeyStore({ file: opts.dataDir ? join(opts.dataDir, 'dashboard', 'api-keys.json') : undefined }),
    tokens: new TokenSigner(d.token_expired_time),
    limiter: new LoginLimiter({ maxAttempts: d.unsuccessful_login_max_attempts, intervalMs: d.unsuccessful_login_interval, lockMs: d.unsuccessful_login_lock_duration }),
  };
  const chargers = new ChargerTracker(broker.hooks, now);
  const sampler = new MonitorSampler(broker, broker.clock);
  const control = new AdapterControl(opts.adapters, log);
  // Trace files: <data_dir>/trace, or a temporary directory removed at stop.
  const traces = new TraceManager(broker.hooks, { dir: opts.dataDir ? join(opts.dataDir, 'trace') : undefined, log });
  const prometheus = new PrometheusExporter(broker, ctx.stats, { processMetrics: config.prometheus.process_metrics });

  // No fastify logger: request lines would carry URLs and bodies; errors are logged below.
  const app = Fastify({ logger: false, trustProxy: false, bodyLimit: 2 * 1024 * 1024, return503OnClosing: true });
  app.decorateRequest('principal', undefined);

  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Junction REST API', version: VERSION, description: "Junction's management API: EMQX 5's `/api/v5` paths and shapes where they exist." },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A token from POST /api/v5/login.' },
          basicAuth: { type: 'http', scheme: 'basic', description: 'An API key and its secret (POST /api/v5/api_key).' },
        },
      },
      security: [{ bearerAuth: [] }, { basicAuth: [] }],
    },
  });

  app.addHook('onRequest', authenticationHook(ctx));
  app.addHook('onResponse', async (req, reply) => audit(ctx, req, reply));
  app.addHook('onReady', async () => firstStart(ctx, opts, log));
  app.setErrorHandler((err, req, reply) => sendError(ctx, err, req, reply));
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  app.register(async (api) => {
    sessionRoutes(api, ctx);
    dashboardUserRoutes(api, ctx);
    apiKeyRoutes(api, ctx);
    clientRoutes(api, ctx);
    messageRoutes(api, ctx);
    bannedRoutes(api, ctx);
    authnRoutes(api, ctx);
    monitorRoutes(api, ctx, prometheus);
    ruleRoutes(api, ctx, opts.rules);
    gatewayRoutes(api, ctx, control, chargers, sampler);
    listenerControlRoutes(api, ctx, control);
    configRoutes(api, new RuntimeConfig(ctx, opts.runningConfig, opts.logLevel));
    traceRoutes(api, ctx, traces);
  });
  const staticDir = d.static_dir ?? opts.staticDir;
  if (staticDir) app.register(fastifyStatic, { root: staticDir, prefix: '/', wildcard: true });

  let stopping: Promise<void> | undefined;
  const api: AdminServerApi = {
    admin: ctx,
    async start() {
      await app.listen({ host: bind.host, port: bind.port });
      sampler.start();
      const addr = app.server.address();
      const real = typeof addr === 'object' && addr ? { host: addr.address, port: addr.port } : { host: bind.host, port: bind.port };
      log.info(real, LOG.listening);
      return real;
    },
    stop() {
      return (stopping ??= (async () => {
        tracker.close();
        chargers.close();
        sampler.stop();
        await app.close();
        await control.close();
        await traces.close();
        prometheus.close();
        log.info({}, LOG.stopped);
      })());
    },
  };
  return Object.assign(app, api) as AdminServer;
}

/** The first start: load the stores, create the first administrator when there is none, and
 * import bootstrap API keys. */
async function firstStart(ctx: AdminContext, opts: AdminServerOptions, log: Logger): Promise<void> {
  await ctx.admins.load();
  await ctx.apiKeys.load();
  const file = ctx.config.api_key.bootstrap_file;
  if (file) {
    try {
      log.info({ file, ...(await ctx.apiKeys.importBootstrap(file)) }, LOG.apiKeysImported);
    } catch (err) {
      throw new ConfigError('api_key.bootstrap_file', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (ctx.admins.size > 0) return;
  const username = ctx.config.dashboard.default_username;
  const fromEnv = (opts.env ?? process.env)[DEFAULT_PASSWORD_ENV];
  const given = fromEnv || ctx.config.dashboard.default_password;
  if (given) {
    const source = fromEnv ? DEFAULT_PASSWORD_ENV : 'dashboard.default_password';
    try {
      checkPassword(given);
    } catch (err) {
      throw new ConfigError(source === DEFAULT_PASSWORD_ENV ? '' : source, `${source}: ${(err as Error).message}`);
    }
    await ctx.admins.add({ username, password: given, role: 'administrator', description: 'created on the first start' });
    log.info({ username, password_source: source }, LOG.adminUserCreated);
    return;
  }
  let password = randomPassword();
  for (;;) {
    try {
      checkPassword(password);
      break;
    } catch {
      password = randomPassword();
    }
  }
  await ctx.admins.add({ username, password, role: 'administrator', description: 'created on the first start' });
  // The one place a secret is logged: the operator has no other way to learn it.
  log.warn({ username, initial_password: password, note: `shown once; log in and change it (POST /api/v5/users/${username}/change_pwd), or set ${DEFAULT_PASSWORD_ENV} before the first start` }, LOG.adminPasswordCreated);
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function audit(ctx: AdminContext, req: FastifyRequest, reply: FastifyReply): void {
  if (!WRITES.has(req.method) || !req.url.startsWith('/api/')) return;
  const route = req.routeOptions.url ?? req.url.split('?')[0]!;
  const p = req.principal;
  const isLogin = route === '/api/v5/login';
  const body = req.body as Record<string, unknown> | undefined;
  const entry: AuditEntry = {
    created_at: Date.now(),
    node: ctx.broker.nodeName,
    from: !p ? 'anonymous' : req.headers['user-agent']?.startsWith('junction-ctl') ? 'cli' : p.kind === 'user' ? 'dashboard' : 'rest_api',
    source: p?.name ?? (isLogin && typeof body?.username === 'string' ? body.username : ''),
    source_ip: req.ip,
    operation_id: `${req.method} ${route}`,
    operation_type: route.split('/')[3] ?? '',
    operation_result: reply.statusCode < 400 ? 'success' : 'failure',
    http_status_code: reply.statusCode,
    http_method: req.method,
    http_request: { bindings: { ...(req.params as Record<string, unknown>) }, body: redact(body) },
    duration_ms: Math.round(reply.elapsedTime * 1000) / 1000,
  };
  ctx.audit.record(entry);
}

function sendError(ctx: AdminContext, err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = fromStoreError(err);
  if (known) return reply.code(HTTP_STATUS[known.code]).send({ code: known.apiCode ?? DEFAULT_API_CODE[known.code], message: known.message });
  const fe = err as FastifyError;
  if (fe.validation) return reply.code(400).send({ code: 'BAD_REQUEST', message: fe.message });
  const status = fe.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return reply.code(status).send({ code: fe.code ?? 'BAD_REQUEST', message: fe.message });
  ctx.log.error({ err, method: req.method, route: req.routeOptions.url }, LOG.requestFailed);
  return reply.code(500).send({ code: 'INTERNAL_ERROR', message: 'internal error; see the broker log' });
}
