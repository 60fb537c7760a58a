/** `POST /api/v5/login` and `/logout`: user name and password for a bearer token (EMQX's shape). */
import { setTimeout as sleep } from 'node:timers/promises';
import { VERSION } from '@junction/broker-core';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';
import { AdminError } from '../errors.js';
import { LOG } from '../log-events.js';
import { errors } from '../schemas.js';

const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ maxLength: 1024 }) },
  { additionalProperties: false },
);

const LoginReply = Type.Object({
  token: Type.String({ description: 'Send as `Authorization: Bearer <token>`; valid for `dashboard.token_expired_time`.' }),
  version: Type.String(),
  role: Type.String(),
  license: Type.Object({ edition: Type.String() }),
});

export function sessionRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.post<{ Body: Static<typeof LoginBody> }>(
    '/api/v5/login',
    {
      config: { public: true },
      schema: {
        tags: ['Dashboard'],
        summary: 'Log in with a dashboard user name and password',
        description: 'Failed logins are answered slowly; too many from one address lock the user name there for a while (429).',
        security: [],
        body: LoginBody,
        response: { 200: LoginReply, ...errors(400, 401, 429) },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body;
      const locked = ctx.limiter.lockedFor(username, req.ip);
      if (locked > 0) {
        reply.header('retry-after', String(Math.ceil(locked / 1000)));
        throw new AdminError('locked', `too many failed logins; try again in ${Math.ceil(locked / 1000)} s`);
      }
      const user = await ctx.admins.verify(username, password);
      if (!user) {
        const nowLocked = ctx.limiter.failed(username, req.ip);
        ctx.log.warn({ username, ip: req.ip }, nowLocked ? LOG.loginLocked : LOG.loginFailed);
        await sleep(ctx.config.dashboard.unsuccessful_login_delay);
        throw new AdminError('unauthorized', 'Auth failed', { apiCode: 'BAD_USERNAME_OR_PWD' });
      }
      ctx.limiter.succeeded(username, req.ip);
      const { token } = ctx.tokens.issue(user.username);
      return { token, version: VERSION, role: user.role, license: { edition: 'opensource' } };
    },
  );

  app.post(
    '/api/v5/logout',
    {
      config: { tokenOnly: true, selfService: true },
      schema: { tags: ['Dashboard'], summary: 'Revoke the token of this request', response: { 204: Type.Null(), ...errors(401, 403) } },
    },
    async (req, reply) => {
      if (req.principal?.kind === 'user') ctx.tokens.revoke(req.principal.claims);
      return reply.code(204).send();
    },
  );
}
