/** Banned clients, EMQX's `/api/v5/banned`: list, create, delete one, delete all. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { BAN_KINDS, type BannedStore, type BanRecord } from '../auth-stores.js';
import type { AdminContext } from '../context.js';
import { AdminError, fromStoreError } from '../errors.js';
import { errors, page, paged, PageQuery, rfc3339 } from '../schemas.js';

const As = Type.Union(
  BAN_KINDS.map((k) => Type.Literal(k)),
  { description: 'What `who` is: a client id, user name, address, CIDR network, or a regular expression over client ids or user names.' },
);
const Time = Type.Union([Type.String(), Type.Integer()], { description: 'RFC 3339 time or epoch milliseconds; `until` also takes `infinity`.' });
const Ban = Type.Object({
  as: As,
  who: Type.String(),
  by: Type.String(),
  reason: Type.String(),
  at: Type.String({ description: 'RFC 3339.' }),
  until: Type.String({ description: 'RFC 3339, or `infinity`.' }),
});
const NewBan = Type.Object(
  {
    as: As,
    who: Type.String({ minLength: 1 }),
    by: Type.Optional(Type.String({ description: 'Default: the user or API key making the request.' })),
    reason: Type.Optional(Type.String()),
    at: Type.Optional(Time),
    until: Type.Optional(Time),
  },
  { additionalProperties: false },
);
const BannedQuery = Type.Object({
  ...PageQuery,
  clientid: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
  peerhost: Type.Optional(Type.String()),
  like_clientid: Type.Optional(Type.String({ description: 'Substring of `who` of client id bans (plain or regex).' })),
  like_username: Type.Optional(Type.String()),
  like_peerhost: Type.Optional(Type.String()),
  like_peerhost_net: Type.Optional(Type.String()),
});

export function bannedRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const tags = ['Banned'];
  const store = (): BannedStore => ctx.auth.banned ?? unsupported();

  app.get<{ Querystring: Static<typeof BannedQuery> }>(
    '/api/v5/banned',
    { schema: { tags, summary: 'List live bans, oldest first', querystring: BannedQuery, response: { 200: paged(Ban, 'Bans.'), ...errors(401, 501) } } },
    async (req) => {
      const q = req.query;
      const exact: [keyof typeof q, string][] = [['clientid', 'clientid'], ['username', 'username'], ['peerhost', 'peerhost']];
      const like: [keyof typeof q, string[]][] = [['like_clientid', ['clientid', 'clientid_re']], ['like_username', ['username', 'username_re']], ['like_peerhost', ['peerhost']], ['like_peerhost_net', ['peerhost_net']]];
      const list = store()
        .list()
        .filter((b) => exact.every(([k, as]) => q[k] === undefined || (b.as === as && b.who === q[k])))
        .filter((b) => like.every(([k, kinds]) => q[k] === undefined || (kinds.includes(b.as) && b.who.includes(String(q[k])))));
      return page(list.map(banView), q);
    },
  );

  app.post<{ Body: Static<typeof NewBan> }>(
    '/api/v5/banned',
    {
      schema: {
        tags,
        summary: 'Ban a client id, user name, address or pattern; connected clients it covers are disconnected',
        body: NewBan,
        response: { 200: Ban, ...errors(400, 401, 403, 409, 501) },
      },
    },
    async (req) => {
      const b = req.body;
      try {
        return banView(store().create({ ...b, by: b.by ?? req.principal?.name ?? 'api' }));
      } catch (err) {
        throw fromStoreError(err) ?? err;
      }
    },
  );

  app.delete<{ Params: { as: string; '*': string } }>(
    '/api/v5/banned/:as/*',
    { schema: { tags, summary: 'Lift a ban (URL-encode `who`, e.g. a CIDR)', response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 501) } } },
    async (req, reply) => {
      const as = req.params.as as BanRecord['as'];
      if (!BAN_KINDS.includes(as)) throw new AdminError('bad_request', `as must be one of ${BAN_KINDS.join(', ')}`);
      if (!store().delete(as, req.params['*'])) throw new AdminError('not_found', 'no such ban');
      return reply.code(204).send();
    },
  );

  app.delete(
    '/api/v5/banned',
    { schema: { tags, summary: 'Lift every ban', response: { 204: Type.Null(), ...errors(401, 403, 501) } } },
    async (_req, reply) => {
      const s = store();
      if (s.clear) s.clear();
      else for (const b of s.list()) s.delete(b.as, b.who);
      return reply.code(204).send();
    },
  );
}

function banView(b: BanRecord): Static<typeof Ban> {
  return { as: b.as, who: b.who, by: b.by, reason: b.reason, at: rfc3339(b.at), until: b.until === undefined ? 'infinity' : rfc3339(b.until) };
}

export function unsupported(what = 'banned clients'): never {
  throw new AdminError('not_supported', `no store for ${what} was given to the admin server (is the auth plugin installed?)`);
}
