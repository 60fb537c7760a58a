export * from './config.js';
export { WebSocketListenerGroup, wsListenersFactory, wssListenersFactory } from './adapter.js';
export { MqttWebSocketHandler, type MqttWebSocketHandlerOptions, type HandshakeStats } from './transport/handler.js';
export { WebSocketListener } from './transport/listener.js';
export { WebSocketStream, type WebSocketStreamOptions } from './transport/ws-stream.js';
export { TrustedProxies, resolvePeer } from './transport/peer.js';
