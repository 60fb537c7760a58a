/**
 * @junction/ocpp: an OCPP-J 1.6 and 2.0.1 gateway. Charge points connect over WebSocket
 * (`/ocpp/{chargePointId}`); the charging back end talks to them over MQTT topics, in the
 * message format of EMQX's OCPP gateway.
 */
export { OcppGateway, ocppGatewayFactory } from './adapter.js';
export {
  defaultOcppConfig,
  dnstreamSchema,
  MESSAGE_FORMAT_CHECKING,
  ocppConfigSchema,
  resolveOcppConfig,
  sslOptionsSchema,
  SUBPROTOCOLS,
  upstreamSchema,
  websocketSchema,
  wsListenerDefaults,
  wsListenerSchema,
  wssListenerSchema,
  type DnstreamConfig,
  type MessageFormatChecking,
  type OcppConfig,
  type OcppConfigInput,
  type SslOptions,
  type Subprotocol,
  type UpstreamConfig,
  type WebsocketOptions,
  type WsListenerConfig,
  type WssListenerConfig,
} from './config.js';
export * from './frames.js';
export { checkTemplate, expandTemplate, OcppTopics, type TopicVars } from './topics.js';
export { loadSchemas, type MessageSchemas, type ValidationFailure } from './schemas.js';
export type { ConnectedEvent, DisconnectedEvent } from './charger/events.js';
export type { ReportReason } from './charger/ops.js';
export type { OcppCounters } from './charger/context.js';
