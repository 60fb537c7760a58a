/** Dashboard users, EMQX's `/api/v5/users`: list, create, change role, delete, change password. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { AdminError } from '../errors.js';
import { errors } from '../schemas.js';

const Role = Type.Union([Type.Literal('administrator'), Type.Literal('viewer')], { description: '`administrator` may do anything; `viewer` may only read.' });
const User = Type.Object({ username: Type.String(), role: Role, description: Type.String(), backend: Type.String() });
const NewUser = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ description: '8 to 64 characters of at least two kinds (lower, upper, digits, others).' }),
    role: Type.Optional(Role),
    description: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
const UserChange = Type.Object({ role: Type.Optional(Role), description: Type.Optional(Type.String({ maxLength: 256 })) }, { additionalProperties: false });
const PasswordChange = Type.Object({ old_pwd: Type.String(), new_pwd: Type.String() }, { additionalProperties: false });
const Name = Type.Object({ username: Type.String() });

export function dashboardUserRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const tags = ['Dashboard'];
  const config = { tokenOnly: true };

  app.get('/api/v5/users', { config, schema: { tags, summary: 'List dashboard users', response: { 200: Type.Array(User), ...errors(401, 403) } } }, async () => ctx.admins.list());

  app.post<{ Body: Static<typeof NewUser> }>(
    '/api/v5/users',
    { config, schema: { tags, summary: 'Create a dashboard user', body: NewUser, response: { 200: User, ...errors(400, 401, 403, 409) } } },
    async (req) => ctx.admins.add(req.body),
  );

  app.put<{ Params: Static<typeof Name>; Body: Static<typeof UserChange> }>(
    '/api/v5/users/:username',
    { config, schema: { tags, summary: "Change a dashboard user's role or description", params: Name, body: UserChange, response: { 200: User, ...errors(400, 401, 403, 404) } } },
    async (req) => ctx.admins.update(req.params.username, req.body),
  );

  app.delete<{ Params: Static<typeof Name> }>(
    '/api/v5/users/:username',
    { config, schema: { tags, summary: 'Delete a dashboard user (not the last administrator)', params: Name, response: { 204: Type.Null(), ...errors(400, 401, 403, 404) } } },
    async (req, reply) => {
      await ctx.admins.delete(req.params.username);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Static<typeof Name>; Body: Static<typeof PasswordChange> }>(
    '/api/v5/users/:username/change_pwd',
    {
      config: { ...config, selfService: true },
      schema: {
        tags,
        summary: 'Change a password (a viewer only its own); the old one is required, and tokens issued before stop working',
        params: Name,
        body: PasswordChange,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const p = req.principal!;
      const { username } = req.params;
      if (p.role !== 'administrator' && p.name !== username) throw new AdminError('forbidden', 'a viewer may change only its own password');
      if (!ctx.admins.lookup(username)) throw new AdminError('not_found', `user ${JSON.stringify(username)} not found`);
      if (!(await ctx.admins.verify(username, req.body.old_pwd))) throw new AdminError('bad_request', 'old password is wrong', { apiCode: 'BAD_REQUEST' });
      await ctx.admins.changePassword(username, req.body.new_pwd);
      return reply.code(204).send();
    },
  );
}
