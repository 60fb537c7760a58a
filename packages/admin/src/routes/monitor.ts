/**
 * Monitoring: EMQX's `/api/v5/stats`, `/metrics`, `/nodes`, `/status` (public, for health
 * checks), `/prometheus/stats`, plus `/audit` and the OpenAPI document `/openapi.json`.
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { COUNTERS, VERSION } from '@junction/broker-core';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditEntry } from '../audit.js';
import type { AdminContext } from '../context.js';
import { AdminError } from '../errors.js';
import type { PrometheusExporter } from '../prometheus.js';
import { errors, page, paged, PageQuery } from '../schemas.js';
import { STAT_NAMES } from '../stats.js';

const numbers = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, Type.Integer()]));
const statKeys = STAT_NAMES.flatMap((n) => [n, n.replace(/\.count$/, '.max')]);
const StatsObj = Type.Object({ node: Type.Optional(Type.String()), ...numbers(statKeys) });
const MetricsObj = Type.Object({ node: Type.Optional(Type.String()), ...numbers(COUNTERS) });
const Aggregate = Type.Object({ aggregate: Type.Optional(Type.Boolean({ description: 'true: one object for the cluster; false (default): one per node.' })) });

const Node = Type.Object({
  node: Type.String(),
  node_status: Type.String(),
  version: Type.String(),
  edition: Type.String(),
  role: Type.String(),
  uptime: Type.Integer({ description: 'Milliseconds since start.' }),
  connections: Type.Integer(),
  live_connections: Type.Integer(),
  sessions: Type.Integer(),
  memory_total: Type.Integer(),
  memory_used: Type.Integer({ description: 'Resident set size of the process.' }),
  memory_free: Type.Integer(),
  load1: Type.Number(),
  load5: Type.Number(),
  load15: Type.Number(),
  cpu_count: Type.Integer(),
  runtime: Type.String(),
  sys_path: Type.String(),
});

const AuditItem = Type.Object({
  created_at: Type.Integer(),
  node: Type.String(),
  from: Type.String(),
  source: Type.String(),
  source_ip: Type.String(),
  operation_id: Type.String(),
  operation_type: Type.String(),
  operation_result: Type.String(),
  http_status_code: Type.Integer(),
  http_method: Type.String(),
  http_request: Type.Object({ bindings: Type.Record(Type.String(), Type.Unknown()), body: Type.Optional(Type.Unknown({ description: 'The request body, secrets and payloads replaced by ******.' })) }),
  duration_ms: Type.Number(),
});
const AuditQuery = Type.Object({
  ...PageQuery,
  source: Type.Optional(Type.String()),
  from: Type.Optional(Type.String()),
  operation_type: Type.Optional(Type.String()),
  operation_result: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
  http_method: Type.Optional(Type.String()),
  gte_created_at: Type.Optional(Type.Integer()),
  lte_created_at: Type.Optional(Type.Integer()),
});

export function monitorRoutes(app: FastifyInstance, ctx: AdminContext, prometheus: PrometheusExporter): void {
  const b = ctx.broker;
  const tags = ['Metrics'];

  app.get<{ Querystring: Static<typeof Aggregate> }>(
    '/api/v5/stats',
    { schema: { tags, summary: 'Statistics: connections, sessions, subscriptions, topics, retained (now and highest seen)', querystring: Aggregate, response: { 200: Type.Union([StatsObj, Type.Array(StatsObj)]), ...errors(401) } } },
    async (req) => {
      const s = await ctx.stats.snapshot();
      return req.query.aggregate ? s : [{ node: b.nodeName, ...s }];
    },
  );

  app.get<{ Querystring: Static<typeof Aggregate> }>(
    '/api/v5/metrics',
    { schema: { tags, summary: "Counters with EMQX's names (messages.received, bytes.sent, ...)", querystring: Aggregate, response: { 200: Type.Union([MetricsObj, Type.Array(MetricsObj)]), ...errors(401) } } },
    async (req) => {
      const m = b.metrics.snapshot();
      return req.query.aggregate ? m : [{ node: b.nodeName, ...m }];
    },
  );

  const nodeView = (): Static<typeof Node> => {
    const st = b.stats();
    const [load1 = 0, load5 = 0, load15 = 0] = loadavg();
    return {
      node: b.nodeName,
      node_status: 'running',
      version: VERSION,
      edition: 'Opensource',
      role: 'core',
      uptime: b.clock.now() - b.startedAt,
      connections: st.connections,
      live_connections: st.connections,
      sessions: st.sessions,
      memory_total: totalmem(),
      memory_used: process.memoryUsage.rss(),
      memory_free: freemem(),
      load1,
      load5,
      load15,
      cpu_count: cpus().length,
      runtime: `node ${process.version}`,
      sys_path: process.cwd(),
    };
  };
  app.get('/api/v5/nodes', { schema: { tags: ['Nodes'], summary: 'The nodes of the cluster (this one)', response: { 200: Type.Array(Node), ...errors(401) } } }, async () => [nodeView()]);
  app.get<{ Params: { node: string } }>(
    '/api/v5/nodes/:node',
    { schema: { tags: ['Nodes'], summary: 'One node', params: Type.Object({ node: Type.String() }), response: { 200: Node, ...errors(401, 404) } } },
    async (req) => {
      if (req.params.node !== b.nodeName) throw new AdminError('not_found', `unknown node ${JSON.stringify(req.params.node)}`, { apiCode: 'SOURCE_ERROR' });
      return nodeView();
    },
  );

  app.get<{ Querystring: { format?: 'text' | 'json' } }>(
    '/api/v5/status',
    {
      config: { public: true },
      schema: {
        tags: ['Status'],
        summary: 'Liveness for load balancers and scripts; no credentials needed',
        security: [],
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('json')], { default: 'text' })) }),
        response: {
          200: Type.Union([Type.String(), Type.Object({ node_name: Type.String(), rel_vsn: Type.String(), broker_status: Type.String(), app_name: Type.String(), app_status: Type.String() })]),
        },
      },
    },
    async (req, reply) => {
      if (req.query.format === 'json') return { node_name: b.nodeName, rel_vsn: VERSION, broker_status: 'started', app_name: 'junction', app_status: 'running' };
      return reply.type('text/plain; charset=utf-8').send(`Node ${b.nodeName} is started\njunction is running`);
    },
  );

  app.get(
    '/api/v5/prometheus/stats',
    {
      config: { prometheus: true },
      schema: {
        tags: ['Monitor'],
        summary: "Prometheus text exposition with EMQX's metric names",
        description: 'Needs an API key (HTTP Basic) or a token unless `prometheus.enable_basic_auth` is false.',
        ...(ctx.config.prometheus.enable_basic_auth ? {} : { security: [] }),
        response: { 200: Type.String(), ...errors(401) },
      },
    },
    async (_req, reply) => reply.type(prometheus.contentType).send(await prometheus.render()),
  );

  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/api/v5/audit',
    { schema: { tags: ['Audit'], summary: 'The audit trail of writes, newest first (in memory; also logged as admin_audit)', querystring: AuditQuery, response: { 200: paged(AuditItem, 'Audit entries.'), ...errors(401) } } },
    async (req) => {
      const q = req.query;
      const keep = (e: AuditEntry) =>
        (q.source === undefined || e.source === q.source) &&
        (q.from === undefined || e.from === q.from) &&
        (q.operation_type === undefined || e.operation_type === q.operation_type) &&
        (q.operation_result === undefined || e.operation_result === q.operation_result) &&
        (q.http_method === undefined || e.http_method === q.http_method.toUpperCase()) &&
        (q.gte_created_at === undefined || e.created_at >= q.gte_created_at) &&
        (q.lte_created_at === undefined || e.created_at <= q.lte_created_at);
      return page(ctx.audit.list().filter(keep), q);
    },
  );

  app.get('/api/v5/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // Public, as EMQX's /api-docs/swagger.json: the shape of the API is no secret.
  app.get('/api-docs/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  app.get('/api-docs/swagger.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
