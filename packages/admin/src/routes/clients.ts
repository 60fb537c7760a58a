/**
 * Clients, subscriptions and topics: EMQX's `/api/v5/clients` (list with filters and paging,
 * detail, kick), `/clients/{clientid}/subscriptions`, `/subscriptions` and `/topics`.
 */
import { parseSubscriptionFilter, topicMatches } from '@junction/broker-core';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TrackedClient } from '../client-tracker.js';
import type { AdminContext } from '../context.js';
import { AdminError } from '../errors.js';
import { errors, page, paged, PageQuery, rfc3339, timeParam } from '../schemas.js';
import { routeOf } from '../stats.js';

const Client = Type.Object({
  node: Type.String(),
  clientid: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  proto_name: Type.String({ description: '`MQTT`, `MQTT-SN`, `CoAP`, `OCPP`, ...' }),
  proto_ver: Type.Union([Type.Integer(), Type.String(), Type.Null()]),
  ip_address: Type.String(),
  port: Type.Integer(),
  listener: Type.Union([Type.String(), Type.Null()]),
  is_bridge: Type.Boolean(),
  connected: Type.Boolean(),
  connected_at: Type.String({ description: 'RFC 3339.' }),
  disconnected_at: Type.Optional(Type.String({ description: 'RFC 3339; only when not connected.' })),
  created_at: Type.String({ description: 'When the session was created, RFC 3339.' }),
  clean_start: Type.Boolean(),
  keepalive: Type.Integer(),
  expiry_interval: Type.Integer({ description: 'Session expiry, seconds.' }),
  is_persistent: Type.Boolean(),
  subscriptions_cnt: Type.Integer(),
  subscriptions_max: Type.Union([Type.Integer(), Type.Literal('infinity')]),
  inflight_cnt: Type.Integer(),
  inflight_max: Type.Integer(),
  mqueue_len: Type.Integer(),
  mqueue_max: Type.Integer(),
  awaiting_rel_max: Type.Integer(),
});
type ClientView = Static<typeof Client>;

const ClientsQuery = Type.Object({
  ...PageQuery,
  node: Type.Optional(Type.String()),
  clientid: Type.Optional(Type.String({ description: 'Exact client id.' })),
  username: Type.Optional(Type.String({ description: 'Exact user name.' })),
  ip_address: Type.Optional(Type.String()),
  conn_state: Type.Optional(Type.Union([Type.Literal('connected'), Type.Literal('idle'), Type.Literal('disconnected')])),
  clean_start: Type.Optional(Type.Boolean()),
  proto_name: Type.Optional(Type.String()),
  proto_ver: Type.Optional(Type.String()),
  like_clientid: Type.Optional(Type.String({ description: 'Substring of the client id.' })),
  like_username: Type.Optional(Type.String({ description: 'Substring of the user name.' })),
  gte_created_at: Type.Optional(Type.String({ description: 'Epoch milliseconds or RFC 3339.' })),
  lte_created_at: Type.Optional(Type.String()),
  gte_connected_at: Type.Optional(Type.String()),
  lte_connected_at: Type.Optional(Type.String()),
});

const Subscription = Type.Object({
  node: Type.String(),
  clientid: Type.String(),
  topic: Type.String({ description: 'The filter as subscribed, with any `$share/{group}/` prefix.' }),
  qos: Type.Integer(),
  nl: Type.Integer(),
  rap: Type.Integer(),
  rh: Type.Integer(),
  durable: Type.Boolean(),
});
type SubscriptionView = Static<typeof Subscription>;

const SubscriptionsQuery = Type.Object({
  ...PageQuery,
  node: Type.Optional(Type.String()),
  clientid: Type.Optional(Type.String()),
  qos: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 })),
  topic: Type.Optional(Type.String({ description: 'Exact filter.' })),
  match_topic: Type.Optional(Type.String({ description: 'Subscriptions whose filter matches this topic (or filter).' })),
  share_group: Type.Optional(Type.String()),
});

const Topic = Type.Object({ topic: Type.String(), node: Type.String() });
const TopicsQuery = Type.Object({ ...PageQuery, node: Type.Optional(Type.String()), topic: Type.Optional(Type.String({ description: 'Routes matching this topic or filter.' })) });
const ClientIdParam = Type.Object({ clientid: Type.String() });

const PROTO_NAMES: Readonly<Record<string, string>> = { mqtt: 'MQTT', 'mqtt-sn': 'MQTT-SN', coap: 'CoAP', ocpp: 'OCPP', lwm2m: 'LwM2M' };

export function clientRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const tags = ['Clients'];
  const node = ctx.broker.nodeName;
  const checkNode = (n: string | undefined) => {
    if (n !== undefined && n !== node) throw new AdminError('bad_request', `unknown node ${JSON.stringify(n)}`);
  };

  app.get<{ Querystring: Static<typeof ClientsQuery> }>(
    '/api/v5/clients',
    { schema: { tags, summary: 'List clients, filtered and paged', querystring: ClientsQuery, response: { 200: paged(Client, 'Clients of this node.'), ...errors(400, 401) } } },
    async (req) => {
      const q = req.query;
      checkNode(q.node);
      const bounds = (['gte_created_at', 'lte_created_at', 'gte_connected_at', 'lte_connected_at'] as const).map((k) => {
        const t = timeParam(q[k]);
        if (t !== undefined && Number.isNaN(t)) throw new AdminError('bad_request', `${k} must be epoch milliseconds or RFC 3339`);
        return t;
      });
      const [gteC, lteC, gteK, lteK] = bounds;
      const ip = q.ip_address;
      const match = (c: TrackedClient, connected: boolean) =>
        (q.clientid === undefined || c.clientid === q.clientid) &&
        (q.username === undefined || c.username === q.username) &&
        (q.like_clientid === undefined || c.clientid.includes(q.like_clientid)) &&
        (q.like_username === undefined || (c.username ?? '').includes(q.like_username)) &&
        (ip === undefined || splitPeer(c.peer).host === ip) &&
        (q.conn_state === undefined || (q.conn_state === 'connected') === connected) &&
        (q.clean_start === undefined || c.clean_start === q.clean_start) &&
        (q.proto_name === undefined || protoName(c.protocol).toLowerCase() === q.proto_name.toLowerCase()) &&
        (q.proto_ver === undefined || String(c.proto_ver) === q.proto_ver) &&
        (gteC === undefined || c.created_at >= gteC) &&
        (lteC === undefined || c.created_at <= lteC) &&
        (gteK === undefined || c.connected_at >= gteK) &&
        (lteK === undefined || c.connected_at <= lteK);
      const all: ClientView[] = [];
      for (const c of ctx.tracker.all()) {
        const v = view(ctx, c);
        if (v && match(c, v.connected)) all.push(v);
      }
      return page(all, q);
    },
  );

  app.get<{ Params: Static<typeof ClientIdParam> }>(
    '/api/v5/clients/:clientid',
    { schema: { tags, summary: 'One client', params: ClientIdParam, response: { 200: Client, ...errors(401, 404) } } },
    async (req) => view(ctx, ctx.tracker.get(req.params.clientid)) ?? notFound(),
  );

  app.delete<{ Params: Static<typeof ClientIdParam> }>(
    '/api/v5/clients/:clientid',
    {
      schema: {
        tags,
        summary: 'Kick a client: it is disconnected (MQTT 5: DISCONNECT 0x98, administrative action)',
        params: ClientIdParam,
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      if (!ctx.broker.kick(req.params.clientid, 'kicked')) notFound('client is not connected');
      return reply.code(204).send();
    },
  );

  app.post<{ Body: string[] }>(
    '/api/v5/clients/kickout/bulk',
    {
      schema: { tags, summary: 'Kick several clients; unknown ones are skipped', body: Type.Array(Type.String(), { maxItems: 10_000 }), response: { 204: Type.Null(), ...errors(400, 401, 403) } },
    },
    async (req, reply) => {
      for (const id of req.body) ctx.broker.kick(id, 'kicked');
      return reply.code(204).send();
    },
  );

  app.get<{ Params: Static<typeof ClientIdParam> }>(
    '/api/v5/clients/:clientid/subscriptions',
    { schema: { tags, summary: "A client's subscriptions", params: ClientIdParam, response: { 200: Type.Array(Subscription), ...errors(401, 404) } } },
    async (req) => {
      const c = ctx.tracker.get(req.params.clientid);
      if (!c || !ctx.broker.session(c.clientid)) notFound();
      return subscriptionsOf(ctx, c);
    },
  );

  app.get<{ Querystring: Static<typeof SubscriptionsQuery> }>(
    '/api/v5/subscriptions',
    { schema: { tags: ['Subscriptions'], summary: 'List subscriptions, filtered and paged', querystring: SubscriptionsQuery, response: { 200: paged(Subscription, 'Subscriptions.'), ...errors(400, 401) } } },
    async (req) => {
      const q = req.query;
      checkNode(q.node);
      const all: SubscriptionView[] = [];
      const clients = q.clientid !== undefined ? [ctx.tracker.get(q.clientid)].filter((c): c is TrackedClient => c !== undefined) : ctx.tracker.all();
      for (const c of clients) {
        for (const s of subscriptionsOf(ctx, c)) {
          if (q.qos !== undefined && s.qos !== q.qos) continue;
          if (q.topic !== undefined && s.topic !== q.topic && routeOf(s.topic) !== q.topic) continue;
          if (q.share_group !== undefined && parseSubscriptionFilter(s.topic).group !== q.share_group) continue;
          if (q.match_topic !== undefined && !filterCovers(routeOf(s.topic), q.match_topic)) continue;
          all.push(s);
        }
      }
      return page(all, q);
    },
  );

  app.get<{ Querystring: Static<typeof TopicsQuery> }>(
    '/api/v5/topics',
    { schema: { tags: ['Subscriptions'], summary: 'List routes: the distinct subscribed topic filters', querystring: TopicsQuery, response: { 200: paged(Topic, 'Routes.'), ...errors(400, 401) } } },
    async (req) => {
      checkNode(req.query.node);
      const want = req.query.topic;
      return page(
        routes(ctx)
          .filter((t) => want === undefined || t === want || filterCovers(t, want))
          .map((topic) => ({ topic, node })),
        req.query,
      );
    },
  );

  app.get<{ Params: { '*': string } }>(
    '/api/v5/topics/*',
    { schema: { tags: ['Subscriptions'], summary: 'One route (URL-encode the topic filter)', response: { 200: Type.Array(Topic), ...errors(401, 404) } } },
    async (req) => {
      const topic = req.params['*'];
      if (!routes(ctx).includes(topic)) throw new AdminError('not_found', `no route for ${JSON.stringify(topic)}`, { apiCode: 'TOPIC_NOT_FOUND' });
      return [{ topic, node }];
    },
  );
}

function notFound(message = 'Client ID not found'): never {
  throw new AdminError('not_found', message, { apiCode: 'CLIENTID_NOT_FOUND' });
}

function view(ctx: AdminContext, c: TrackedClient | undefined): ClientView | undefined {
  if (!c) return undefined;
  const s = ctx.broker.session(c.clientid);
  if (!s) return undefined;
  const cfg = ctx.broker.config;
  const { host, port } = splitPeer(c.peer);
  const v: ClientView = {
    node: ctx.broker.nodeName,
    clientid: c.clientid,
    username: c.username ?? null,
    proto_name: protoName(c.protocol),
    proto_ver: c.proto_ver ?? null,
    ip_address: host,
    port,
    listener: c.listener ?? null,
    is_bridge: false,
    connected: s.connected,
    connected_at: rfc3339(c.connected_at),
    created_at: rfc3339(c.created_at),
    clean_start: c.clean_start,
    keepalive: c.keepalive,
    expiry_interval: c.expiry_interval,
    is_persistent: c.expiry_interval > 0,
    subscriptions_cnt: s.subscriptions.length,
    subscriptions_max: cfg.max_subscriptions > 0 ? cfg.max_subscriptions : 'infinity',
    inflight_cnt: s.inflight,
    inflight_max: cfg.max_inflight,
    mqueue_len: s.queued,
    mqueue_max: cfg.max_mqueue_len,
    awaiting_rel_max: cfg.max_awaiting_rel,
  };
  if (!s.connected && c.disconnected_at !== undefined) v.disconnected_at = rfc3339(c.disconnected_at);
  return v;
}

/** The core's list of filters is the truth; the tracker adds the options it saw. */
function subscriptionsOf(ctx: AdminContext, c: TrackedClient): SubscriptionView[] {
  const filters = ctx.broker.session(c.clientid)?.subscriptions ?? [];
  return filters.map((topic) => {
    const sub = c.subscriptions.get(topic);
    return {
      node: ctx.broker.nodeName,
      clientid: c.clientid,
      topic,
      qos: sub?.qos ?? 0,
      nl: sub?.noLocal ? 1 : 0,
      rap: sub?.retainAsPublished ? 1 : 0,
      rh: sub?.retainHandling ?? 0,
      durable: false,
    };
  });
}

function routes(ctx: AdminContext): string[] {
  const set = new Set<string>();
  for (const c of ctx.tracker.all()) for (const f of ctx.broker.session(c.clientid)?.subscriptions ?? []) set.add(routeOf(f));
  return [...set].sort();
}

/** True when `filter` matches `topic`, where `topic` may itself be a filter (then: equal). */
function filterCovers(filter: string, topic: string): boolean {
  if (/[+#]/.test(topic)) return filter === topic;
  try {
    return topicMatches(filter, topic);
  } catch {
    return false;
  }
}

export function protoName(protocol: string): string {
  return PROTO_NAMES[protocol.toLowerCase()] ?? protocol.toUpperCase();
}

/** `host:port`, `[v6]:port` or a bare host. */
export function splitPeer(peer: string): { host: string; port: number } {
  if (peer.startsWith('[')) {
    const end = peer.indexOf(']');
    return { host: peer.slice(1, end), port: Number(peer.slice(end + 2)) || 0 };
  }
  const i = peer.lastIndexOf(':');
  if (i > 0 && peer.indexOf(':') === i) return { host: peer.slice(0, i), port: Number(peer.slice(i + 1)) || 0 };
  return { host: peer, port: 0 };
}
