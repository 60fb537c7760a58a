/**
 * The rule engine, EMQX's `/api/v5/rules` (list, create, read, update, delete, metrics, reset)
 * and `/api/v5/rule_test` (run SQL on a sample event without running any action).
 */
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { AdminError } from '../errors.js';
import type { AdminRuleInfo, AdminRuleInput, AdminRules } from '../rules-api.js';
import { errors, page, paged, PageQuery, rfc3339 } from '../schemas.js';

const Rule = Type.Object({
  id: Type.String(),
  name: Type.String({ description: 'The `name` given at creation (kept in `metadata.name`), else the id.' }),
  sql: Type.String(),
  actions: Type.Array(Type.Unknown(), { description: '`{function: republish, args: {topic, qos, retain, payload}}`, `{function: console}`, or a sink id `type:name`.' }),
  enable: Type.Boolean(),
  description: Type.String(),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  from: Type.Array(Type.String(), { description: 'The FROM sources: topic filters, `$events/...`, `$bridges/...`.' }),
  created_at: Type.String({ description: 'RFC 3339.' }),
  updated_at: Type.String({ description: 'RFC 3339.' }),
});
const Definition = {
  sql: Type.String({ minLength: 1, description: 'SELECT ... FROM "topic/#" [WHERE ...], or FOREACH ... FROM ....' }),
  actions: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 64 })),
  enable: Type.Optional(Type.Boolean({ default: true })),
  description: Type.Optional(Type.String()),
  name: Type.Optional(Type.String({ description: 'A display name (EMQX); kept in `metadata.name`.' })),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
};
const NewRule = Type.Object({ id: Type.Optional(Type.String({ description: 'Default: a generated `rule_…` id.' })), ...Definition }, { additionalProperties: false });
const RulePatch = Type.Partial(Type.Object({ id: Type.String({ description: 'Ignored: the id is in the path.' }), ...Definition }), { additionalProperties: false });
const IdParam = Type.Object({ id: Type.String() });
const Metrics = Type.Object({
  id: Type.String(),
  metrics: Type.Record(Type.String(), Type.Number(), { description: 'matched, passed, failed, failed.exception, failed.no_result, actions.total, actions.success, actions.failed, ...' }),
  node_metrics: Type.Array(Type.Object({ node: Type.String(), metrics: Type.Record(Type.String(), Type.Number()) })),
});
const RuleTest = Type.Object(
  {
    sql: Type.String({ minLength: 1 }),
    context: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'The sample event: `clientid`, `username`, `topic`, `payload` (text; JSON for `payload.x` paths), `qos`, ... (`event_type` is implied by the FROM clause).',
      }),
    ),
  },
  { additionalProperties: false },
);
const RulesQuery = Type.Object({
  ...PageQuery,
  enable: Type.Optional(Type.Boolean()),
  from: Type.Optional(Type.String({ description: 'Rules with this FROM source.' })),
  like_id: Type.Optional(Type.String()),
  like_from: Type.Optional(Type.String()),
  like_description: Type.Optional(Type.String()),
});

type RuleView = Static<typeof Rule>;

export function ruleRoutes(app: FastifyInstance, ctx: AdminContext, rules: AdminRules | undefined): void {
  const tags = ['Rules'];
  const engine = (): AdminRules => rules ?? unsupported();
  const mustGet = (id: string): AdminRuleInfo => engine().get(id) ?? notFound(id);

  app.get<{ Querystring: Static<typeof RulesQuery> }>(
    '/api/v5/rules',
    { schema: { tags, summary: 'List rules, in creation order', querystring: RulesQuery, response: { 200: paged(Rule, 'Rules.'), ...errors(400, 401, 501) } } },
    async (req) => {
      const q = req.query;
      const list = engine()
        .list()
        .filter(
          (r) =>
            (q.enable === undefined || r.enable === q.enable) &&
            (q.from === undefined || r.from.includes(q.from)) &&
            (q.like_id === undefined || r.id.includes(q.like_id)) &&
            (q.like_from === undefined || r.from.some((f) => f.includes(q.like_from!))) &&
            (q.like_description === undefined || r.description.includes(q.like_description)),
        );
      return page(list.map(ruleView), q);
    },
  );

  app.post<{ Body: Static<typeof NewRule> }>(
    '/api/v5/rules',
    { schema: { tags, summary: 'Create a rule; its SQL and actions are checked first', body: NewRule, response: { 201: Rule, ...errors(400, 401, 403, 409, 501) } } },
    async (req, reply) => {
      const { id = `rule_${randomBytes(4).toString('hex')}`, ...def } = req.body;
      if (engine().get(id)) throw new AdminError('already_exists', `rule ${JSON.stringify(id)} exists`);
      const info = definitionError(() => engine().create(id, { ...toInput(def), sql: def.sql }));
      return reply.code(201).send(ruleView(info));
    },
  );

  app.get<{ Params: Static<typeof IdParam> }>(
    '/api/v5/rules/:id',
    { schema: { tags, summary: 'One rule', params: IdParam, response: { 200: Rule, ...errors(401, 404, 501) } } },
    async (req) => ruleView(mustGet(req.params.id)),
  );

  app.put<{ Params: Static<typeof IdParam>; Body: Static<typeof RulePatch> }>(
    '/api/v5/rules/:id',
    {
      schema: {
        tags,
        summary: 'Change a rule (only the fields given; `enable: false` disables it); it keeps its metrics',
        params: IdParam,
        body: RulePatch,
        response: { 200: Rule, ...errors(400, 401, 403, 404, 501) },
      },
    },
    async (req) => {
      const old = mustGet(req.params.id);
      const { id: _ignored, ...patch } = req.body;
      const input = toInput(patch, old.metadata);
      return ruleView(definitionError(() => engine().update(old.id, input)));
    },
  );

  app.delete<{ Params: Static<typeof IdParam> }>(
    '/api/v5/rules/:id',
    { schema: { tags, summary: 'Delete a rule', params: IdParam, response: { 204: Type.Null(), ...errors(401, 403, 404, 501) } } },
    async (req, reply) => {
      if (!engine().remove(req.params.id)) notFound(req.params.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: Static<typeof IdParam> }>(
    '/api/v5/rules/:id/metrics',
    { schema: { tags, summary: "A rule's counters", params: IdParam, response: { 200: Metrics, ...errors(401, 404, 501) } } },
    async (req) => {
      const metrics = engine().metrics(req.params.id) ?? notFound(req.params.id);
      return { id: req.params.id, metrics, node_metrics: [{ node: ctx.broker.nodeName, metrics }] };
    },
  );

  app.put<{ Params: Static<typeof IdParam> }>(
    '/api/v5/rules/:id/metrics/reset',
    { schema: { tags, summary: "Set a rule's counters to zero", params: IdParam, response: { 204: Type.Null(), ...errors(401, 403, 404, 501) } } },
    async (req, reply) => {
      if (!engine().resetMetrics(req.params.id)) notFound(req.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: Static<typeof RuleTest> }>(
    '/api/v5/rule_test',
    {
      schema: {
        tags,
        summary: 'Run SQL on a sample event: the output (an object, or a list for FOREACH); 412 NOT_MATCH when WHERE rejects it. No action runs.',
        body: RuleTest,
        response: { 200: Type.Unknown(), ...errors(400, 401, 412, 501) },
      },
    },
    async (req, reply) => {
      const { event_type: _implied, ...context } = req.body.context ?? {};
      const r = definitionError(() => engine().test(req.body.sql, context));
      if (!r.passed) return reply.code(412).send({ code: 'NOT_MATCH', message: 'SQL Not Match' });
      const isForeach = /^\s*foreach\b/i.test(req.body.sql);
      return isForeach || r.outputs.length !== 1 ? r.outputs : r.outputs[0];
    },
  );
}

function ruleView(r: AdminRuleInfo): RuleView {
  const name = r.metadata?.name;
  return {
    id: r.id,
    name: typeof name === 'string' ? name : r.id,
    sql: r.sql,
    actions: [...r.actions],
    enable: r.enable,
    description: r.description,
    ...(r.metadata ? { metadata: r.metadata } : {}),
    from: [...r.from],
    created_at: rfc3339(r.createdAt),
    updated_at: rfc3339(r.updatedAt),
  };
}

/** The engine's input: a `name` goes into `metadata.name`, next to the metadata the rule has. */
function toInput(def: Partial<AdminRuleInput> & { name?: string }, oldMeta?: Record<string, unknown>): Partial<AdminRuleInput> {
  const { name, ...rest } = def;
  const out: Partial<AdminRuleInput> = { ...rest };
  if (name !== undefined) out.metadata = { ...oldMeta, ...rest.metadata, name };
  return out;
}

/** The engine's definition errors (`config_invalid`: bad SQL, a bad action) and evaluation errors
 * of a sample are the caller's fault. */
function definitionError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const e = err as { code?: unknown; name?: unknown } | null;
    // RuleEvalError: evaluating the sample raised (a payload that is not JSON, a bad argument).
    if (e?.code === 'config_invalid' || e?.name === 'RuleEvalError') throw new AdminError('bad_request', (err as Error).message, { cause: err });
    throw err;
  }
}

function notFound(id: string): never {
  throw new AdminError('not_found', `no rule ${JSON.stringify(id)}`);
}

function unsupported(): never {
  throw new AdminError('not_supported', 'no rule engine was given to the admin server (is the rules plugin installed?)');
}
