export * from './types.js';
export { MqttSnDecodeError, type DecodeFailure } from './errors.js';
export { decode } from './decode.js';
export { encode, MAX_MESSAGE_LENGTH } from './encode.js';
export { TOPIC_ID_TYPE } from './flags.js';
