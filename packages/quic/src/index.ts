export * from './quic/index.js';
export * from './webtransport/index.js';
