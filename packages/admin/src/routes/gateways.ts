/**
 * What is listening: EMQX's `/api/v5/listeners` (MQTT listeners: tcp, ssl, ws, wss, quic) and
 * `/api/v5/gateways` (MQTT-SN, CoAP, OCPP, ... with their listeners and counters), the clients of
 * one gateway (`/gateways/{name}/clients`; for OCPP with each charger's reported state), and the
 * overview's time series `/api/v5/monitor` and `/monitor_current`.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdapterControl, AdapterState } from '../adapter-control.js';
import { chargerSummary, type ChargerTracker } from '../charger-tracker.js';
import type { TrackedClient } from '../client-tracker.js';
import type { AdminContext } from '../context.js';
import { AdminError } from '../errors.js';
import type { MonitorSampler } from '../sampler.js';
import { errors, page, paged, PageQuery, rfc3339 } from '../schemas.js';
import { protoName, splitPeer } from './clients.js';

export const Listener = Type.Object({
  id: Type.String({ description: '`type:name`, e.g. `tcp:default`.' }),
  type: Type.String(),
  name: Type.String(),
  bind: Type.String({ description: '`host:port` actually bound.' }),
  running: Type.Boolean({ description: 'False after `PUT /listeners/{id}/stop` (or while its gateway is disabled).' }),
  enable: Type.Boolean({ description: 'Same as `running`: listeners are enabled and disabled at run time by starting and stopping them.' }),
  current_connections: Type.Integer({ description: 'Connected clients that came through this listener.' }),
});
const Gateway = Type.Object({
  name: Type.String({ description: '`mqttsn`, `coap`, `ocpp`, ...' }),
  status: Type.Union([Type.Literal('running'), Type.Literal('stopped')]),
  protocol: Type.String({ description: 'The client protocol name, as in `/clients` `proto_name`.' }),
  current_connections: Type.Integer(),
  listeners: Type.Array(Listener),
  stats: Type.Record(Type.String(), Type.Number(), { description: "The gateway's own counters." }),
});
const Connector = Type.Object({
  evse_id: Type.Optional(Type.Integer()),
  connector_id: Type.Integer(),
  status: Type.String(),
  error_code: Type.Optional(Type.String()),
  updated_at: Type.String(),
});
const GatewayClient = Type.Object({
  clientid: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  proto_name: Type.String(),
  proto_ver: Type.Union([Type.Integer(), Type.String(), Type.Null()]),
  ip_address: Type.String(),
  listener: Type.Union([Type.String(), Type.Null()]),
  connected: Type.Boolean(),
  connected_at: Type.String(),
  disconnected_at: Type.Optional(Type.String()),
  keepalive: Type.Integer(),
  subscriptions_cnt: Type.Integer(),
  charger: Type.Optional(
    Type.Object(
      {
        state: Type.String({ description: 'A summary: Offline, Faulted, Charging, Available, ... (the most telling connector status), Booted or Connected.' }),
        vendor: Type.Optional(Type.String()),
        model: Type.Optional(Type.String()),
        firmware_version: Type.Optional(Type.String()),
        serial_number: Type.Optional(Type.String()),
        connectors: Type.Array(Connector),
        transaction_id: Type.Optional(Type.String()),
        last_action: Type.Optional(Type.String()),
        last_message_at: Type.Optional(Type.String()),
        boot_at: Type.Optional(Type.String()),
      },
      { description: 'OCPP only: what the charge point reported (BootNotification, StatusNotification, transactions).' },
    ),
  ),
});
const Sample = Type.Object({
  time_stamp: Type.Integer({ description: 'Epoch milliseconds.' }),
  connections: Type.Integer(),
  live_connections: Type.Integer(),
  sessions: Type.Integer(),
  subscriptions: Type.Integer(),
  retained_msg_count: Type.Integer(),
  received: Type.Integer({ description: 'Messages received since the previous sample.' }),
  sent: Type.Integer(),
  dropped: Type.Integer(),
  received_msg_rate: Type.Number({ description: 'Per second.' }),
  sent_msg_rate: Type.Number(),
  dropped_msg_rate: Type.Number(),
});
const Current = Type.Object({ ...Sample.properties, node: Type.String(), uptime: Type.Integer({ description: 'Milliseconds.' }), interval: Type.Integer({ description: 'Sampling interval, ms.' }) });
const NameParam = Type.Object({ name: Type.String() });

/** Gateway names as EMQX writes them, by config section (`gateway.mqttsn`) → client protocol. */
const GATEWAY_PROTOCOL: Readonly<Record<string, string>> = { mqttsn: 'mqtt-sn', coap: 'coap', ocpp: 'ocpp', lwm2m: 'lwm2m', stomp: 'stomp', exproto: 'exproto' };

export function gatewayRoutes(app: FastifyInstance, ctx: AdminContext, control: AdapterControl, chargers: ChargerTracker, sampler: MonitorSampler): void {
  const running = () => control.states();
  const connectionsBy = (key: (c: TrackedClient) => string | undefined) => {
    const counts = new Map<string, number>();
    for (const c of ctx.tracker.all()) {
      if (!c.connected) continue;
      const k = key(c);
      if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return counts;
  };
  const listenerViews = (a: AdapterState, perListener: Map<string, number>) =>
    a.listeners.map(({ info: l, running: up }) => {
      const id = `${l.type}:${l.name}`;
      return { id, type: l.type, name: l.name, bind: `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`, running: up, enable: up, current_connections: up ? (perListener.get(id) ?? 0) : 0 };
    });
  const gatewayViews = (): Static<typeof Gateway>[] => {
    const perListener = connectionsBy((c) => c.listener);
    return running()
      .filter((a) => a.type.startsWith('gateway.'))
      .map((a) => {
        const name = a.type.slice('gateway.'.length);
        const protocol = GATEWAY_PROTOCOL[name] ?? name;
        const { connections, ...stats } = a.stats();
        return {
          name,
          status: a.enabled ? ('running' as const) : ('stopped' as const),
          protocol: protoName(protocol),
          current_connections: connections,
          listeners: listenerViews(a, perListener),
          stats,
        };
      });
  };

  app.get(
    '/api/v5/listeners',
    { schema: { tags: ['Listeners'], summary: 'The MQTT listeners (tcp, ssl, ws, wss, quic) and whether they run', response: { 200: Type.Array(Listener), ...errors(401) } } },
    async () => {
      const perListener = connectionsBy((c) => c.listener);
      return running()
        .filter((a) => a.type.startsWith('listeners.'))
        .flatMap((a) => listenerViews(a, perListener));
    },
  );

  app.get(
    '/api/v5/gateways',
    { schema: { tags: ['Gateways'], summary: 'The protocol gateways that run (MQTT-SN, CoAP, OCPP, ...), with listeners and counters', response: { 200: Type.Array(Gateway), ...errors(401) } } },
    async () => gatewayViews(),
  );

  app.get<{ Params: Static<typeof NameParam> }>(
    '/api/v5/gateways/:name',
    { schema: { tags: ['Gateways'], summary: 'One gateway', params: NameParam, response: { 200: Gateway, ...errors(401, 404) } } },
    async (req) => gatewayViews().find((g) => g.name === req.params.name) ?? notFound(req.params.name),
  );

  app.get<{ Params: Static<typeof NameParam>; Querystring: { page?: number; limit?: number; like_clientid?: string } }>(
    '/api/v5/gateways/:name/clients',
    {
      schema: {
        tags: ['Gateways'],
        summary: "A gateway's clients; for OCPP with each charger's reported state",
        params: NameParam,
        querystring: Type.Object({ ...PageQuery, like_clientid: Type.Optional(Type.String()) }),
        response: { 200: paged(GatewayClient, 'Clients of the gateway.'), ...errors(400, 401, 404) },
      },
    },
    async (req) => {
      const name = req.params.name;
      if (!running().some((a) => a.type === `gateway.${name}`)) notFound(name);
      const protocol = GATEWAY_PROTOCOL[name] ?? name;
      const like = req.query.like_clientid;
      const out: Static<typeof GatewayClient>[] = [];
      for (const c of ctx.tracker.all()) {
        if (c.protocol !== protocol || (like !== undefined && !c.clientid.includes(like))) continue;
        const s = ctx.broker.session(c.clientid);
        if (!s) continue;
        const v: Static<typeof GatewayClient> = {
          clientid: c.clientid,
          username: c.username ?? null,
          proto_name: protoName(c.protocol),
          proto_ver: c.proto_ver ?? null,
          ip_address: splitPeer(c.peer).host,
          listener: c.listener ?? null,
          connected: s.connected,
          connected_at: rfc3339(c.connected_at),
          keepalive: c.keepalive,
          subscriptions_cnt: s.subscriptions.length,
        };
        if (!s.connected && c.disconnected_at !== undefined) v.disconnected_at = rfc3339(c.disconnected_at);
        if (protocol === 'ocpp') {
          const st = chargers.get(c.clientid);
          v.charger = {
            state: chargerSummary(st, s.connected),
            connectors: (st?.connectors ?? []).map((x) => ({ ...x, updated_at: rfc3339(x.updated_at) })),
            ...(st?.vendor !== undefined ? { vendor: st.vendor } : {}),
            ...(st?.model !== undefined ? { model: st.model } : {}),
            ...(st?.firmware_version !== undefined ? { firmware_version: st.firmware_version } : {}),
            ...(st?.serial_number !== undefined ? { serial_number: st.serial_number } : {}),
            ...(st?.transaction_id !== undefined ? { transaction_id: st.transaction_id } : {}),
            ...(st?.last_action !== undefined ? { last_action: st.last_action } : {}),
            ...(st?.last_message_at !== undefined ? { last_message_at: rfc3339(st.last_message_at) } : {}),
            ...(st?.boot_at !== undefined ? { boot_at: rfc3339(st.boot_at) } : {}),
          };
        }
        out.push(v);
      }
      return page(out, req.query);
    },
  );

  app.get<{ Querystring: { latest?: number } }>(
    '/api/v5/monitor',
    {
      schema: {
        tags: ['Metrics'],
        summary: 'Time series for charts: gauges and message counts per sample, oldest first',
        querystring: Type.Object({ latest: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, description: 'Only the samples of the last this many seconds.' })) }),
        response: { 200: Type.Array(Sample), ...errors(400, 401) },
      },
    },
    async (req) => sampler.latest(req.query.latest),
  );

  app.get(
    '/api/v5/monitor_current',
    { schema: { tags: ['Metrics'], summary: 'The newest sample: gauges and message rates per second', response: { 200: Current, ...errors(401) } } },
    async () => ({ ...sampler.current(), node: ctx.broker.nodeName, uptime: ctx.broker.clock.now() - ctx.broker.startedAt, interval: sampler.intervalMs }),
  );
}

function notFound(name: string): never {
  throw new AdminError('not_found', `no gateway ${JSON.stringify(name)} is running`);
}
