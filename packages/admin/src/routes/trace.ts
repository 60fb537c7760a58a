/**
 * Log traces, EMQX's `/api/v5/trace`: create one for a client id, topic filter or client
 * address with a time window, list them, stop one, read or download its file, delete one or all.
 */
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { AdminError } from '../errors.js';
import { errors, rfc3339, timeParam } from '../schemas.js';
import type { TraceInfo, TraceManager } from '../trace/trace-manager.js';

const Enc = Type.Union([Type.Literal('text'), Type.Literal('hex'), Type.Literal('hidden')], { description: 'How payloads are written: `text` (UTF-8), `hex`, or `hidden` (`******`).' });
const Fmt = Type.Union([Type.Literal('text'), Type.Literal('json')], { description: '`text`: readable lines; `json`: one JSON object per line.' });
const TraceType = Type.Union([Type.Literal('clientid'), Type.Literal('topic'), Type.Literal('ip_address')]);
const When = Type.Union([Type.String(), Type.Integer()], { description: 'RFC 3339, or epoch seconds.' });

const NewTrace = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,256}$', description: 'Unique: letters, digits, `_`, `-`.' }),
  type: TraceType,
  clientid: Type.Optional(Type.String({ description: 'For `type: clientid`: the client id.' })),
  topic: Type.Optional(Type.String({ description: 'For `type: topic`: a topic filter (wildcards work).' })),
  ip_address: Type.Optional(Type.String({ description: "For `type: ip_address`: the client's address." })),
  start_at: Type.Optional(When),
  end_at: Type.Optional(When),
  payload_encode: Type.Optional(Enc),
  formatter: Type.Optional(Fmt),
  payload_limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_048_576, description: 'Payload bytes written per message; default 1024.' })),
});
const TraceView = Type.Object(
  {
    name: Type.String(),
    type: TraceType,
    clientid: Type.Optional(Type.String()),
    topic: Type.Optional(Type.String()),
    ip_address: Type.Optional(Type.String()),
    status: Type.Union([Type.Literal('waiting'), Type.Literal('running'), Type.Literal('stopped')]),
    start_at: Type.String(),
    end_at: Type.String(),
    payload_encode: Enc,
    formatter: Fmt,
    payload_limit: Type.Integer(),
    log_size: Type.Record(Type.String(), Type.Integer(), { description: 'Bytes written, by node.' }),
  },
  { description: 'A trace.' },
);
const NameParam = Type.Object({ name: Type.String() });
const LogQuery = Type.Object({
  bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_485_760, default: 1000, description: 'At most this many bytes.' })),
  position: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'From this byte of the file.' })),
  node: Type.Optional(Type.String()),
});

export function traceRoutes(app: FastifyInstance, ctx: AdminContext, traces: TraceManager): void {
  const node = ctx.broker.nodeName;
  const view = (t: TraceInfo): Static<typeof TraceView> => ({
    name: t.name,
    type: t.type,
    [t.type]: t.filter,
    status: t.status,
    start_at: rfc3339(t.start_at),
    end_at: rfc3339(t.end_at),
    payload_encode: t.payload_encode,
    formatter: t.formatter,
    payload_limit: t.payload_limit,
    log_size: { [node]: t.size },
  });
  const checkNode = (n: string | undefined) => {
    if (n !== undefined && n !== node) throw new AdminError('not_found', `no node ${JSON.stringify(n)}`, { apiCode: 'NODE_ERROR' });
  };

  app.get('/api/v5/trace', { schema: { tags: ['Trace'], summary: 'The traces, newest first', response: { 200: Type.Array(TraceView), ...errors(401) } } }, async () => traces.list().map(view));

  app.post<{ Body: Static<typeof NewTrace> }>(
    '/api/v5/trace',
    {
      schema: {
        tags: ['Trace'],
        summary: 'Trace a client id, topic filter or client address for a while',
        description:
          'Every event of the matching clients and messages (connects and refusals, disconnects, subscribes, unsubscribes, publishes, deliveries, drops) between `start_at` (default now) and `end_at` (default 10 minutes later) is written to a file of its own, whatever the log level. At most 30 traces; one per condition.',
        body: NewTrace,
        response: { 200: TraceView, ...errors(400, 401, 403, 409) },
      },
    },
    async (req) => {
      const b = req.body;
      const filter = b[b.type];
      if (filter === undefined || filter === '') throw new AdminError('bad_request', `${b.type} is required for a ${b.type} trace`);
      const start = timeParam(b.start_at);
      const end = timeParam(b.end_at);
      if (Number.isNaN(start) || Number.isNaN(end)) throw new AdminError('bad_request', 'start_at and end_at: RFC 3339 or epoch seconds');
      return view(
        traces.create({
          name: b.name,
          type: b.type,
          filter,
          ...(start !== undefined ? { start_at: start } : {}),
          ...(end !== undefined ? { end_at: end } : {}),
          ...(b.payload_encode ? { payload_encode: b.payload_encode } : {}),
          ...(b.formatter ? { formatter: b.formatter } : {}),
          ...(b.payload_limit !== undefined ? { payload_limit: b.payload_limit } : {}),
        }),
      );
    },
  );

  app.delete('/api/v5/trace', { schema: { tags: ['Trace'], summary: 'Delete every trace and its file', response: { 204: Type.Null(), ...errors(401, 403) } } }, async (_req, reply) => {
    await traces.clear();
    return reply.code(204).send();
  });

  app.delete<{ Params: Static<typeof NameParam> }>(
    '/api/v5/trace/:name',
    { schema: { tags: ['Trace'], summary: 'Delete a trace and its file', params: NameParam, response: { 204: Type.Null(), ...errors(401, 403, 404) } } },
    async (req, reply) => {
      await traces.delete(req.params.name);
      return reply.code(204).send();
    },
  );

  app.put<{ Params: Static<typeof NameParam> }>(
    '/api/v5/trace/:name/stop',
    { schema: { tags: ['Trace'], summary: 'Stop a trace; its file stays', params: NameParam, response: { 200: TraceView, ...errors(401, 403, 404) } } },
    async (req) => view(await traces.stop(req.params.name)),
  );

  app.get<{ Params: Static<typeof NameParam>; Querystring: { node?: string } }>(
    '/api/v5/trace/:name/download',
    {
      schema: {
        tags: ['Trace'],
        summary: "Download the trace's file",
        description: 'The file itself (`text/plain`), not a zip of one file per node as EMQX sends: Junction runs one node.',
        params: NameParam,
        querystring: Type.Object({ node: Type.Optional(Type.String()) }),
        response: { 200: Type.String({ description: 'The trace file.' }), ...errors(401, 404) },
      },
    },
    async (req, reply) => {
      checkNode(req.query.node);
      const { path, filename } = await traces.file(req.params.name);
      const body = await readFile(path).catch(() => Buffer.alloc(0));
      return reply.type('text/plain; charset=utf-8').header('content-disposition', `attachment; filename="${node.replace(/[^\w.@-]/g, '_')}-${filename}"`).send(body);
    },
  );

  app.get<{ Params: Static<typeof NameParam>; Querystring: Static<typeof LogQuery> }>(
    '/api/v5/trace/:name/log',
    {
      schema: {
        tags: ['Trace'],
        summary: 'Read part of the trace file (follow it with `position`)',
        params: NameParam,
        querystring: LogQuery,
        response: { 200: Type.Object({ items: Type.String(), meta: Type.Object({ position: Type.Integer(), bytes: Type.Integer() }) }), ...errors(400, 401, 404) },
      },
    },
    async (req) => {
      checkNode(req.query.node);
      const bytes = req.query.bytes ?? 1000;
      const r = await traces.read(req.params.name, req.query.position ?? 0, bytes);
      return { items: r.items, meta: { position: r.position, bytes } };
    },
  );
}
