export { coapGatewayFactory, CoapGateway, type CoapGatewayOptions } from './adapter.js';
export * from './config.js';
export { SHORT_QUERY_NAMES, parseQuery, route, type Query, type Route } from './uri.js';
export { contentFormatFor, contentTypeFor } from './message/content-format.js';
export { parse as parseCoapMessage, encode as encodeCoapMessage, type CoapMessage, type MessageType, type ParseResult } from './message/frame.js';
export { Option as CoapOptionNumber, type CoapOption } from './message/options.js';
export { Rsp as CoapResponseCode } from './message/codes.js';
