export * from './config.js';
export * from './reason-codes.js';
export { MqttConnection, type EngineContext, type TransportInfo } from './engine/connection.js';
export { StreamListener } from './transport/listener.js';
export { listenerRates, type ListenerRates } from './transport/rates.js';
export { admitWhenAllowed, type Admission } from './transport/admission.js';
export type { ClientLimits } from './engine/client-limiter.js';
export { tlsServerOptions } from './transport/tls.js';
export { StreamListenerGroup, tcpListenersFactory, sslListenersFactory } from './adapter.js';
