/**
 * Built-in authentication users, EMQX's `/api/v5/authentication/{id}/users` with the id
 * `password_based:built_in_database` (URL-encoded `password_based%3Abuilt_in_database`; the SCRAM
 * id shares the same users), and built-in authorization rules,
 * `/api/v5/authorization/sources/built_in_database/rules/{users,clients,all}`.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AclRule, AclRuleOwner, AclRuleStore, BuiltInUserStore } from '../auth-stores.js';
import type { AdminContext } from '../context.js';
import { AdminError, fromStoreError } from '../errors.js';
import { errors, page, paged, PageQuery } from '../schemas.js';
import { unsupported } from './banned.js';

const AUTHENTICATORS = new Set(['password_based:built_in_database', 'scram:built_in_database']);

const User = Type.Object({ user_id: Type.String(), is_superuser: Type.Boolean() });
const NewUser = Type.Object({ user_id: Type.String({ minLength: 1 }), password: Type.String(), is_superuser: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false });
const UserChange = Type.Object({ password: Type.Optional(Type.String()), is_superuser: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const UsersQuery = Type.Object({ ...PageQuery, like_user_id: Type.Optional(Type.String({ description: 'Substring of the user id.' })), is_superuser: Type.Optional(Type.Boolean()) });
const IdParam = Type.Object({ id: Type.String({ description: '`password_based:built_in_database`' }) });
const UserParam = Type.Object({ id: Type.String(), user_id: Type.String() });

const Rule = Type.Object(
  {
    permission: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
    action: Type.Union([Type.Literal('publish'), Type.Literal('subscribe'), Type.Literal('all')]),
    topic: Type.String({ minLength: 1 }),
    qos: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 2 }))),
    retain: Type.Optional(Type.Union([Type.Boolean(), Type.Literal('all')])),
  },
  { additionalProperties: false },
);
const Rules = Type.Array(Rule, { description: 'Checked in order; the first match decides.' });

export function authnRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const tags = ['Authentication'];
  const users = (id: string): BuiltInUserStore => {
    if (!AUTHENTICATORS.has(id)) throw new AdminError('not_found', `no authenticator ${JSON.stringify(id)}; built-in users live in password_based:built_in_database`);
    return ctx.auth.users ?? unsupported('built-in users');
  };
  const run = async <T>(fn: () => T | Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw fromStoreError(err) ?? err;
    }
  };

  app.get<{ Params: Static<typeof IdParam>; Querystring: Static<typeof UsersQuery> }>(
    '/api/v5/authentication/:id/users',
    { schema: { tags, summary: 'List built-in users', params: IdParam, querystring: UsersQuery, response: { 200: paged(User, 'Users.'), ...errors(401, 404, 501) } } },
    async (req) => page(users(req.params.id).list({ like: req.query.like_user_id, is_superuser: req.query.is_superuser }).map(userView), req.query),
  );

  app.post<{ Params: Static<typeof IdParam>; Body: Static<typeof NewUser> }>(
    '/api/v5/authentication/:id/users',
    { schema: { tags, summary: 'Create a built-in user', params: IdParam, body: NewUser, response: { 201: User, ...errors(400, 401, 403, 404, 409, 501) } } },
    async (req, reply) => reply.code(201).send(userView(await run(() => users(req.params.id).add(req.body)))),
  );

  app.get<{ Params: Static<typeof UserParam> }>(
    '/api/v5/authentication/:id/users/:user_id',
    { schema: { tags, summary: 'One built-in user', params: UserParam, response: { 200: User, ...errors(401, 404, 501) } } },
    async (req) => {
      const u = users(req.params.id).lookup(req.params.user_id);
      if (!u) throw new AdminError('not_found', `user ${JSON.stringify(req.params.user_id)} not found`);
      return userView(u);
    },
  );

  app.put<{ Params: Static<typeof UserParam>; Body: Static<typeof UserChange> }>(
    '/api/v5/authentication/:id/users/:user_id',
    { schema: { tags, summary: "Change a built-in user's password or superuser flag", params: UserParam, body: UserChange, response: { 200: User, ...errors(400, 401, 403, 404, 501) } } },
    async (req) => userView(await run(() => users(req.params.id).update(req.params.user_id, req.body))),
  );

  app.delete<{ Params: Static<typeof UserParam> }>(
    '/api/v5/authentication/:id/users/:user_id',
    { schema: { tags, summary: 'Delete a built-in user', params: UserParam, response: { 204: Type.Null(), ...errors(401, 403, 404, 501) } } },
    async (req, reply) => {
      await run(() => users(req.params.id).delete(req.params.user_id));
      return reply.code(204).send();
    },
  );

  // ---------------------------------------------------------------- authorization rules
  const rules = (): AclRuleStore => ctx.auth.rules ?? unsupported('built-in authorization rules');
  const base = '/api/v5/authorization/sources/built_in_database/rules';
  for (const kind of ['username', 'clientid'] as const) {
    const seg = kind === 'username' ? 'users' : 'clients';
    const Entry = Type.Object({ [kind]: Type.String({ minLength: 1 }), rules: Rules });
    const Param = Type.Object({ [kind]: Type.String() });
    const Query = Type.Object({ ...PageQuery, [`like_${kind}`]: Type.Optional(Type.String()) });
    const owner = (name: string): AclRuleOwner => (kind === 'username' ? { username: name } : { clientid: name });
    const atags = ['Authorization'];
    type E = { rules: AclRule[] } & Record<string, unknown>;

    app.get<{ Querystring: Record<string, string | number | undefined> }>(
      `${base}/${seg}`,
      { schema: { tags: atags, summary: `List rules by ${kind}`, querystring: Query, response: { 200: paged(Entry, 'Rules.'), ...errors(401, 501) } } },
      async (req) => {
        const like = req.query[`like_${kind}`] as string | undefined;
        const list = (kind === 'username' ? rules().list('username') : rules().list('clientid')) as unknown as E[];
        return page(list.filter((e) => like === undefined || String(e[kind]).includes(like)), req.query);
      },
    );

    app.post<{ Body: E[] }>(
      `${base}/${seg}`,
      { schema: { tags: atags, summary: `Set the rules of several ${kind}s`, body: Type.Array(Entry, { maxItems: 10_000 }), response: { 204: Type.Null(), ...errors(400, 401, 403, 501) } } },
      async (req, reply) => {
        await run(() => {
          for (const e of req.body) rules().set(owner(String(e[kind])), e.rules);
        });
        return reply.code(204).send();
      },
    );

    app.get<{ Params: Record<string, string> }>(
      `${base}/${seg}/:${kind}`,
      { schema: { tags: atags, summary: `The rules of one ${kind}`, params: Param, response: { 200: Entry, ...errors(401, 404, 501) } } },
      async (req) => {
        const name = req.params[kind]!;
        const r = rules().get(owner(name));
        if (!r) throw new AdminError('not_found', `no rules for ${kind} ${JSON.stringify(name)}`);
        return { [kind]: name, rules: r };
      },
    );

    app.put<{ Params: Record<string, string>; Body: E }>(
      `${base}/${seg}/:${kind}`,
      { schema: { tags: atags, summary: `Replace the rules of one ${kind}`, params: Param, body: Type.Object({ [kind]: Type.Optional(Type.String()), rules: Rules }), response: { 204: Type.Null(), ...errors(400, 401, 403, 501) } } },
      async (req, reply) => {
        await run(() => rules().set(owner(req.params[kind]!), req.body.rules));
        return reply.code(204).send();
      },
    );

    app.delete<{ Params: Record<string, string> }>(
      `${base}/${seg}/:${kind}`,
      { schema: { tags: atags, summary: `Delete the rules of one ${kind}`, params: Param, response: { 204: Type.Null(), ...errors(401, 403, 404, 501) } } },
      async (req, reply) => {
        if (!rules().delete(owner(req.params[kind]!))) throw new AdminError('not_found', `no rules for ${kind} ${JSON.stringify(req.params[kind])}`);
        return reply.code(204).send();
      },
    );
  }

  const AllRules = Type.Object({ rules: Rules });
  app.get(`${base}/all`, { schema: { tags: ['Authorization'], summary: 'The rules for all clients', response: { 200: AllRules, ...errors(401, 501) } } }, async () => ({ rules: rules().get('all') ?? [] }));
  app.post<{ Body: { rules: AclRule[] } }>(
    `${base}/all`,
    { schema: { tags: ['Authorization'], summary: 'Replace the rules for all clients', body: AllRules, response: { 204: Type.Null(), ...errors(400, 401, 403, 501) } } },
    async (req, reply) => {
      await run(() => rules().set('all', req.body.rules));
      return reply.code(204).send();
    },
  );
  app.delete(`${base}/all`, { schema: { tags: ['Authorization'], summary: 'Delete the rules for all clients', response: { 204: Type.Null(), ...errors(401, 403, 501) } } }, async (_req, reply) => {
    rules().delete('all');
    return reply.code(204).send();
  });
}

function userView(u: { user_id: string; is_superuser: boolean }): Static<typeof User> {
  return { user_id: u.user_id, is_superuser: u.is_superuser };
}
