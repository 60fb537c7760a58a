/**
 * Messages: EMQX's `POST /api/v5/publish` (and `/publish/bulk`) and the retainer's
 * `/api/v5/mqtt/retainer/messages`, `/message/{topic}` (read, delete).
 */
import { createHash, randomBytes } from 'node:crypto';
import { isSysTopic, type Message, type MessageProperties, type PublishRequest, type QoS } from '@junction/broker-core';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AdminContext } from '../context.js';
import { AdminError } from '../errors.js';
import { ErrorBody, errors, page, paged, PageQuery, rfc3339 } from '../schemas.js';

const Properties = Type.Object(
  {
    payload_format_indicator: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
    message_expiry_interval: Type.Optional(Type.Integer({ minimum: 0, description: 'Seconds.' })),
    response_topic: Type.Optional(Type.String()),
    correlation_data: Type.Optional(Type.String()),
    user_properties: Type.Optional(Type.Record(Type.String(), Type.String())),
    content_type: Type.Optional(Type.String()),
  },
  { additionalProperties: false, description: 'MQTT 5 properties.' },
);

const PublishBody = Type.Object(
  {
    topic: Type.String({ minLength: 1, examples: ['api/example/topic'] }),
    payload: Type.String({ description: 'The payload, as text or base64 (see payload_encoding).' }),
    payload_encoding: Type.Optional(Type.Union([Type.Literal('plain'), Type.Literal('base64')], { default: 'plain' })),
    qos: Type.Optional(Type.Integer({ minimum: 0, maximum: 2, default: 0 })),
    retain: Type.Optional(Type.Boolean({ default: false })),
    properties: Type.Optional(Properties),
    clientid: Type.Optional(Type.String({ description: 'Deprecated in EMQX; shown as the publisher.' })),
  },
  { additionalProperties: false },
);
type PublishBodyT = Static<typeof PublishBody>;

const PublishOk = Type.Object({ id: Type.String({ description: 'Message id (hex).' }) });
const PublishError = Type.Object({ reason_code: Type.Integer(), message: Type.String() });
/** A 400 is either a publish error (bad topic, bad payload) or a request that fails validation. */
const BadPublish = Type.Union([PublishError, ErrorBody]);

const Retained = Type.Object({
  topic: Type.String(),
  msgid: Type.String(),
  qos: Type.Integer(),
  from_clientid: Type.String(),
  from_username: Type.Union([Type.String(), Type.Null()]),
  publish_at: Type.String({ description: 'RFC 3339.' }),
});
const RetainedWithPayload = Type.Composite([Retained, Type.Object({ payload: Type.String({ description: 'Base64.' }) })]);
const RetainedQuery = Type.Object({ ...PageQuery, topic: Type.Optional(Type.String({ description: 'Only topics matching this filter.' })) });

type PublishResult = { status: 200; body: { id: string } } | { status: 202 | 400; body: { reason_code: number; message: string } };

export function messageRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.post<{ Body: PublishBodyT }>(
    '/api/v5/publish',
    {
      schema: {
        tags: ['Publish'],
        summary: 'Publish a message',
        description: '200 with the message id when at least one subscriber matched; 202 with reason code 16 when none did (a retained message is still stored).',
        body: PublishBody,
        response: { 200: PublishOk, 202: PublishError, 400: BadPublish, ...errors(401, 403) },
      },
    },
    async (req, reply) => {
      const r = await publishOne(ctx, req, req.body);
      return reply.code(r.status).send(r.body);
    },
  );

  app.post<{ Body: PublishBodyT[] }>(
    '/api/v5/publish/bulk',
    {
      schema: {
        tags: ['Publish'],
        summary: 'Publish several messages; 200 when all matched subscribers, else 202 (or 400 when one is invalid)',
        body: Type.Array(PublishBody, { minItems: 1, maxItems: 1000 }),
        response: { 200: Type.Array(PublishOk), 202: Type.Array(Type.Union([PublishOk, PublishError])), 400: BadPublish, ...errors(401, 403) },
      },
    },
    async (req, reply) => {
      const requests = req.body.map((b) => toRequest(ctx, b));
      const bad = requests.find((r): r is PublishResult & { status: 400 } => 'status' in r);
      if (bad) return reply.code(400).send(bad.body);
      const results: PublishResult[] = [];
      for (const r of requests as PublishRequest[]) results.push(await dispatch(ctx, req, r));
      return reply.code(results.every((r) => r.status === 200) ? 200 : 202).send(results.map((r) => r.body));
    },
  );

  const tags = ['Retainer'];
  app.get<{ Querystring: Static<typeof RetainedQuery> }>(
    '/api/v5/mqtt/retainer/messages',
    { schema: { tags, summary: 'List retained messages (without payloads)', querystring: RetainedQuery, response: { 200: paged(Retained, 'Retained messages.'), ...errors(400, 401) } } },
    async (req) => {
      const now = ctx.broker.clock.now();
      const filter = req.query.topic;
      let msgs: Message[];
      try {
        msgs = filter !== undefined ? await ctx.broker.retained.match(filter, now) : [...(await ctx.broker.retained.match('#', now)), ...(await ctx.broker.retained.match('$SYS/#', now))];
      } catch (err) {
        throw new AdminError('bad_request', (err as Error).message, { cause: err });
      }
      msgs.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
      return page(msgs.map(retainedView), req.query);
    },
  );

  app.get<{ Params: { '*': string } }>(
    '/api/v5/mqtt/retainer/message/*',
    { schema: { tags, summary: 'One retained message with its payload (URL-encode the topic)', response: { 200: RetainedWithPayload, ...errors(401, 404) } } },
    async (req) => {
      const msg = await ctx.broker.retained.get(req.params['*']);
      if (!msg || (msg.expiresAt !== undefined && msg.expiresAt <= ctx.broker.clock.now())) throw new AdminError('not_found', 'no retained message on this topic');
      return { ...retainedView(msg), payload: msg.payload.toString('base64') };
    },
  );

  app.delete<{ Params: { '*': string } }>(
    '/api/v5/mqtt/retainer/message/*',
    { schema: { tags, summary: 'Delete one retained message', response: { 204: Type.Null(), ...errors(401, 403, 404) } } },
    async (req, reply) => {
      if (!(await ctx.broker.retained.delete(req.params['*']))) throw new AdminError('not_found', 'no retained message on this topic');
      return reply.code(204).send();
    },
  );
}

async function publishOne(ctx: AdminContext, req: FastifyRequest, body: PublishBodyT): Promise<PublishResult> {
  const r = toRequest(ctx, body);
  return 'status' in r ? r : dispatch(ctx, req, r);
}

function toRequest(ctx: AdminContext, b: PublishBodyT): PublishRequest | (PublishResult & { status: 400 }) {
  const fail = (reason_code: number, message: string) => ({ status: 400 as const, body: { reason_code, message } });
  if (isSysTopic(b.topic)) return fail(0x90, 'topic_name_invalid: $SYS topics are the broker\'s');
  if (/[+#]/.test(b.topic)) return fail(0x90, 'topic_name_invalid');
  if (b.retain && !ctx.broker.config.retain_available) return fail(0x9a, 'retain_not_supported');
  let payload: Buffer;
  if (b.payload_encoding === 'base64') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b.payload)) return fail(0x83, 'decode_base64_payload_failed');
    payload = Buffer.from(b.payload, 'base64');
  } else payload = Buffer.from(b.payload, 'utf8');
  return { topic: b.topic, payload, qos: (b.qos ?? 0) as QoS, retain: b.retain ?? false, properties: properties(b.properties) };
}

async function dispatch(ctx: AdminContext, req: FastifyRequest, r: PublishRequest): Promise<PublishResult> {
  const from = { clientId: 'http_api', username: req.principal?.name, protocol: 'http', peer: req.ip };
  let matched: number;
  try {
    matched = (await ctx.broker.publish(r, from)).matched;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'topic_name_invalid') return { status: 400, body: { reason_code: 0x90, message: 'topic_name_invalid' } };
    throw err;
  }
  if (matched === 0) return { status: 202, body: { reason_code: 0x10, message: 'no_matching_subscribers' } };
  return { status: 200, body: { id: randomBytes(16).toString('hex').toUpperCase() } };
}

function properties(p: Static<typeof Properties> | undefined): MessageProperties | undefined {
  if (!p || Object.keys(p).length === 0) return undefined;
  return {
    payloadFormatIndicator: p.payload_format_indicator === undefined ? undefined : p.payload_format_indicator === 1,
    messageExpiryInterval: p.message_expiry_interval,
    responseTopic: p.response_topic,
    correlationData: p.correlation_data === undefined ? undefined : Buffer.from(p.correlation_data),
    userProperties: p.user_properties,
    contentType: p.content_type,
  };
}

function retainedView(m: Message): Static<typeof Retained> {
  return {
    topic: m.topic,
    // The core gives messages no id; this one is stable for a stored message.
    msgid: createHash('sha256').update(`${m.topic}\u0000${m.timestamp}\u0000${m.from.clientId}`).digest('hex').slice(0, 32).toUpperCase(),
    qos: m.qos,
    from_clientid: m.from.clientId,
    from_username: m.from.username ?? null,
    publish_at: rfc3339(m.timestamp),
  };
}

