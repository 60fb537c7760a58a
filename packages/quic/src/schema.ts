/**
 * @junction/quic/schema: the config schemas of the QUIC and WebTransport listeners without their
 * code (and its QUIC and HTTP/3 libraries), for an app that loads the adapters only when
 * configured.
 */
export { quicListenersDescriptor } from './quic/config.js';
export { webtransportListenersDescriptor } from './webtransport/config.js';
