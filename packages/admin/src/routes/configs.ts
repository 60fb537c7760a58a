/**
 * `GET /api/v5/configs` (the running configuration, secrets redacted), `GET /configs/{section}`
 * and `PUT /configs/{section}`, which changes the few keys that take effect at run time
 * (`HOT_KEYS`) and refuses any other change with 400 naming the key.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HOT_KEYS, type RuntimeConfig } from '../runtime-config.js';
import { errors } from '../schemas.js';

const SectionParam = Type.Object({ section: Type.String({ description: 'A top-level config section: `log`, `mqtt`, `dashboard`, `prometheus`, `listeners`, `gateway`, ...' }) });
const AnyObject = Type.Object({}, { additionalProperties: true });
const hotList = Object.entries(HOT_KEYS)
  .flatMap(([s, keys]) => Object.entries(keys).map(([k, what]) => `- \`${s}.${k}\`: ${what}`))
  .join('\n');

export function configRoutes(app: FastifyInstance, config: RuntimeConfig): void {
  app.get(
    '/api/v5/configs',
    {
      schema: {
        tags: ['Configs'],
        summary: 'The running configuration, with passwords, secrets, tokens and keys replaced by ******',
        response: { 200: Type.Object({}, { additionalProperties: true, description: 'By section, as in the config file (durations in milliseconds, addresses as {host, port}).' }), ...errors(401) },
      },
    },
    async () => config.snapshot(),
  );

  app.get<{ Params: Static<typeof SectionParam> }>(
    '/api/v5/configs/:section',
    { schema: { tags: ['Configs'], summary: 'One section of the running configuration, redacted', params: SectionParam, response: { 200: Type.Unknown(), ...errors(401, 404) } } },
    async (req) => config.section(req.params.section),
  );

  app.put<{ Params: Static<typeof SectionParam>; Body: Record<string, unknown> }>(
    '/api/v5/configs/:section',
    {
      schema: {
        tags: ['Configs'],
        summary: 'Change settings that take effect at run time',
        description: `The body is a part of the section (or all of it, as GET answered it): keys whose value does not change, or is \`******\`, are ignored; any other change is refused with 400 naming the key, and then nothing is applied. Changes last until the process ends (the config file is not written). Keys that change at run time:\n\n${hotList}`,
        params: SectionParam,
        body: AnyObject,
        response: { 200: Type.Unknown({ description: 'The section after the change, redacted.' }), ...errors(400, 401, 403, 404, 501) },
      },
    },
    async (req) => config.update(req.params.section, req.body),
  );
}
