import { BODIES } from './bodies.js';
import { MqttSnDecodeError } from './errors.js';
import { Reader } from './reader.js';
import { MSG_TYPE, type MessageType, type MqttSnMessage } from './types.js';

const TYPE_BY_CODE = new Map<number, MessageType>(Object.entries(MSG_TYPE).map(([name, code]) => [code, name as MessageType]));

/**
 * Decodes one datagram into one message. The Length field (§5.2.1) is one octet, or 0x01 followed
 * by two octets for longer messages; it must equal the datagram's length. A forwarder's
 * encapsulation (§5.5) is decoded with the message it carries. Throws `MqttSnDecodeError` for
 * anything else, and nothing but that.
 */
export function decode(buf: Buffer): MqttSnMessage {
  if (buf.length < 2) throw new MqttSnDecodeError('too_short', `${buf.length} octets`);
  if (buf[0] !== 0x01 && buf[1] === MSG_TYPE.encapsulated) return decodeEncapsulated(buf);
  return decodeOne(buf);
}

function decodeOne(buf: Buffer): MqttSnMessage {
  let length: number;
  let header: number;
  if (buf[0] === 0x01) {
    // Three-octet form: 0x01, then the total length in two octets.
    if (buf.length < 4) throw new MqttSnDecodeError('too_short', 'three-octet length form');
    length = (buf[1]! << 8) | buf[2]!;
    header = 3;
  } else {
    length = buf[0]!;
    header = 1;
  }
  if (length !== buf.length) throw new MqttSnDecodeError('length_mismatch', `Length ${length}, datagram ${buf.length}`);
  const code = buf[header]!;
  const type = TYPE_BY_CODE.get(code);
  if (type === undefined) throw new MqttSnDecodeError('unknown_type', `MsgType 0x${code.toString(16).padStart(2, '0')}`);
  if (type === 'encapsulated') throw new MqttSnDecodeError('invalid_flags', 'encapsulation with a three-octet length');
  const codec = BODIES[type] as { decode(r: Reader): MqttSnMessage };
  return codec.decode(new Reader(buf, header + 1, buf.length));
}

/** §5.5: Length (octets up to the end of the Wireless Node Id), 0xFE, Ctrl, node id, message. */
function decodeEncapsulated(buf: Buffer): MqttSnMessage {
  const length = buf[0]!;
  if (length < 3 || length > buf.length) throw new MqttSnDecodeError('length_mismatch', `encapsulation Length ${length}`);
  if (length === buf.length) throw new MqttSnDecodeError('truncated', 'encapsulation without a message');
  const ctrl = buf[2]!;
  const wirelessNodeId = buf.subarray(3, length);
  const inner = buf.subarray(length);
  if (inner.length >= 2 && inner[0] !== 0x01 && inner[1] === MSG_TYPE.encapsulated) throw new MqttSnDecodeError('nested_encapsulation');
  if (inner.length < 2) throw new MqttSnDecodeError('too_short', 'encapsulated message');
  return { type: 'encapsulated', radius: ctrl & 0b11, wirelessNodeId, message: decodeOne(inner) };
}
