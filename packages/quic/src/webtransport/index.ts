export * from './config.js';
export { webtransportListenersFactory, WebTransportListenerGroup } from './adapter.js';
export { WebTransportListener } from './listener.js';
export { WebStreamDuplex, type WebByteStream } from './stream-duplex.js';
export { wtErrorToH3 } from './h3-listener.js';
export { H3, H3Error } from './h3/errors.js';
