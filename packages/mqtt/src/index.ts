export * from './config.js';
export * from './reason-codes.js';
export { MqttConnection, type EngineContext, type TransportInfo } from './engine/connection.js';
export { StreamListener } from './transport/listener.js';
export { tlsServerOptions } from './transport/tls.js';
export { StreamListenerGroup, tcpListenersFactory, sslListenersFactory } from './adapter.js';
