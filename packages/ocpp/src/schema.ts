/**
 * @junction/ocpp/schema: the config schema of the OCPP gateway without its code (and its
 * WebSocket RPC and JSON-schema libraries), for an app that loads it only when configured.
 */
export { ocppGatewayDescriptor } from './config.js';
