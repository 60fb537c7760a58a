import { BODIES } from './bodies.js';
import { MSG_TYPE, type MqttSnMessage } from './types.js';

/** The largest message the three-octet Length form can describe, §5.2.1. */
export const MAX_MESSAGE_LENGTH = 0xffff;

/**
 * Encodes one message into one datagram: the one-octet Length form up to 255 octets, the
 * three-octet form (0x01, length) above, §5.2.1. Throws `RangeError` for a field out of range or
 * a message longer than 65535 octets.
 */
export function encode(msg: MqttSnMessage): Buffer {
  if (msg.type === 'encapsulated') return encodeEncapsulated(msg);
  const body = (BODIES[msg.type] as { encode(m: MqttSnMessage): Buffer }).encode(msg);
  const code = MSG_TYPE[msg.type];
  const short = body.length + 2;
  if (short <= 0xff) {
    const out = Buffer.allocUnsafe(short);
    out[0] = short;
    out[1] = code;
    body.copy(out, 2);
    return out;
  }
  const long = body.length + 4;
  if (long > MAX_MESSAGE_LENGTH) throw new RangeError(`message of ${long} octets exceeds ${MAX_MESSAGE_LENGTH}`);
  const out = Buffer.allocUnsafe(long);
  out[0] = 0x01;
  out.writeUInt16BE(long, 1);
  out[3] = code;
  body.copy(out, 4);
  return out;
}

/** §5.5: the forwarder's header, then the encoded message. */
function encodeEncapsulated(msg: Extract<MqttSnMessage, { type: 'encapsulated' }>): Buffer {
  if (msg.message.type === 'encapsulated') throw new RangeError('an encapsulated message cannot carry another');
  const headerLength = 3 + msg.wirelessNodeId.length;
  if (headerLength > 0xff) throw new RangeError('wireless node id longer than 252 octets');
  if (!Number.isInteger(msg.radius) || msg.radius < 0 || msg.radius > 3) throw new RangeError(`radius ${msg.radius} is not 0..3`);
  const header = Buffer.allocUnsafe(3);
  header[0] = headerLength;
  header[1] = MSG_TYPE.encapsulated;
  header[2] = msg.radius;
  return Buffer.concat([header, msg.wirelessNodeId, encode(msg.message)]);
}
