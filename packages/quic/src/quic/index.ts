export * from './config.js';
export { QuicListenerGroup, quicListenersFactory } from './adapter.js';
export { QuicListener, QUIC_CLOSE } from './listener.js';
export { QuicSessionStream } from './session-stream.js';
export { QuicStreamDuplex } from './stream-duplex.js';
export { MqttQuicClient, quicStreamBuilder, type MqttQuicClientOptions } from './client.js';
export { ClientMultiStream } from './client-mux.js';
