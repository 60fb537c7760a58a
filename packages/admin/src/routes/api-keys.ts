/** API keys, EMQX's `/api/v5/api_key`: for scripts, sent as HTTP Basic `api_key:api_secret`. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { errors } from '../schemas.js';

const Role = Type.Union([Type.Literal('administrator'), Type.Literal('viewer')]);
const Expiry = Type.Union([Type.String(), Type.Integer()], { description: 'RFC 3339 time, epoch milliseconds, or `infinity`.' });
const ApiKey = Type.Object({
  name: Type.String(),
  api_key: Type.String(),
  expired_at: Type.String({ description: 'RFC 3339, or `infinity`.' }),
  created_at: Type.String(),
  desc: Type.String(),
  enable: Type.Boolean(),
  expired: Type.Boolean(),
  role: Role,
});
const NewKey = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 256 }), expired_at: Type.Optional(Expiry), desc: Type.Optional(Type.String({ maxLength: 1024 })), enable: Type.Optional(Type.Boolean()), role: Type.Optional(Role) },
  { additionalProperties: false },
);
const KeyChange = Type.Object(
  { expired_at: Type.Optional(Expiry), desc: Type.Optional(Type.String({ maxLength: 1024 })), enable: Type.Optional(Type.Boolean()), role: Type.Optional(Role) },
  { additionalProperties: false },
);
const Name = Type.Object({ name: Type.String() });

export function apiKeyRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const tags = ['API Keys'];
  const config = { tokenOnly: true };

  app.get('/api/v5/api_key', { config, schema: { tags, summary: 'List API keys (never their secrets)', response: { 200: Type.Array(ApiKey), ...errors(401, 403) } } }, async () => ctx.apiKeys.list());

  app.post<{ Body: Static<typeof NewKey> }>(
    '/api/v5/api_key',
    {
      config,
      schema: {
        tags,
        summary: 'Create an API key; the answer holds its secret, which is never shown again',
        body: NewKey,
        response: { 200: Type.Composite([ApiKey, Type.Object({ api_secret: Type.String() })]), ...errors(400, 401, 403, 409) },
      },
    },
    async (req) => ctx.apiKeys.create(req.body),
  );

  app.get<{ Params: Static<typeof Name> }>(
    '/api/v5/api_key/:name',
    { config, schema: { tags, summary: 'One API key', params: Name, response: { 200: ApiKey, ...errors(401, 403, 404) } } },
    async (req) => ctx.apiKeys.get(req.params.name),
  );

  app.put<{ Params: Static<typeof Name>; Body: Static<typeof KeyChange> }>(
    '/api/v5/api_key/:name',
    { config, schema: { tags, summary: 'Enable, disable, re-date or describe an API key', params: Name, body: KeyChange, response: { 200: ApiKey, ...errors(400, 401, 403, 404) } } },
    async (req) => ctx.apiKeys.update(req.params.name, req.body),
  );

  app.delete<{ Params: Static<typeof Name> }>(
    '/api/v5/api_key/:name',
    { config, schema: { tags, summary: 'Delete an API key', params: Name, response: { 204: Type.Null(), ...errors(401, 403, 404) } } },
    async (req, reply) => {
      await ctx.apiKeys.delete(req.params.name);
      return reply.code(204).send();
    },
  );
}
