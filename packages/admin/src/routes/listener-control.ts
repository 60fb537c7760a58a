/**
 * Run-time control of listeners and gateways, EMQX's paths: `GET /listeners/{id}`,
 * `PUT /listeners/{id}/{start|stop|restart}` (POST is accepted too), and
 * `PUT /gateways/{name}/enable/{true|false}`. Every call is audited like any write.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdapterControl } from '../adapter-control.js';
import type { AdminContext } from '../context.js';
import { AdminError } from '../errors.js';
import { errors } from '../schemas.js';
import { Listener } from './gateways.js';

const IdParam = Type.Object({ id: Type.String({ description: 'Listener id `type:name`, e.g. `tcp:default` (`%3A` or `:`).' }) });
const ActionParams = Type.Object({ id: IdParam.properties.id, action: Type.Union([Type.Literal('start'), Type.Literal('stop'), Type.Literal('restart')]) });
const EnableParams = Type.Object({ name: Type.String({ description: '`mqttsn`, `coap`, `ocpp`, ...' }), enable: Type.Union([Type.Literal('true'), Type.Literal('false')]) });

export function listenerControlRoutes(app: FastifyInstance, ctx: AdminContext, control: AdapterControl): void {
  const view = (id: string) => {
    for (const a of control.states()) {
      if (!a.type.startsWith('listeners.')) continue;
      const found = a.listeners.find((l) => `${l.info.type}:${l.info.name}` === id);
      if (found) {
        const { info: l, running } = found;
        const connections = running ? [...ctx.tracker.all()].filter((c) => c.connected && c.listener === id).length : 0;
        return { id, type: l.type, name: l.name, bind: `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`, running, enable: running, current_connections: connections };
      }
    }
    throw new AdminError('not_found', `no listener ${JSON.stringify(id)}`, { apiCode: 'BAD_LISTENER_ID' });
  };

  app.get<{ Params: Static<typeof IdParam> }>(
    '/api/v5/listeners/:id',
    { schema: { tags: ['Listeners'], summary: 'One MQTT listener', params: IdParam, response: { 200: Listener, ...errors(401, 404) } } },
    async (req) => view(req.params.id),
  );

  app.route<{ Params: Static<typeof ActionParams> }>({
    method: ['PUT', 'POST'],
    url: '/api/v5/listeners/:id/:action',
    schema: {
      tags: ['Listeners'],
      summary: 'Stop, start or restart one MQTT listener',
      description:
        "`stop` closes the listener's socket and disconnects its clients (MQTT 5: DISCONNECT 0x8B server shutting down); `start` binds it again with the same config; `restart` does both. Not kept across restarts of the broker: the config decides at start. EMQX uses PUT; POST is accepted too.",
      params: ActionParams,
      response: { 200: Listener, ...errors(400, 401, 403, 404, 501, 503) },
    },
    handler: async (req) => {
      await control.listenerAction(req.params.id, req.params.action);
      return view(req.params.id);
    },
  });

  app.put<{ Params: Static<typeof EnableParams> }>(
    '/api/v5/gateways/:name/enable/:enable',
    {
      schema: {
        tags: ['Gateways'],
        summary: 'Disable (stop) or enable (start afresh) a protocol gateway',
        description: 'Disabling stops every listener of the gateway and disconnects its clients; enabling builds the gateway again from its config and binds its listeners. Not kept across restarts of the broker.',
        params: EnableParams,
        response: { 204: Type.Null({ description: 'Done (also when it already was in that state).' }), ...errors(400, 401, 403, 404, 501, 503) },
      },
    },
    async (req, reply) => {
      await control.setGatewayEnabled(req.params.name, req.params.enable === 'true');
      return reply.code(204).send();
    },
  );
}
