/**
 * The variable part of every message type, §5.4, one entry per type: a typed table, so a
 * missing type is a compile error. The header (Length, MsgType) is `decode.ts` / `encode.ts`.
 */
import { MqttSnDecodeError } from './errors.js';
import { decodeFlags, encodeFlags, TOPIC_ID_TYPE, willQos, type Flags } from './flags.js';
import type { Reader } from './reader.js';
import type { MessageOf, MessageType, TopicRef, WillTopic } from './types.js';

interface BodyCodec<M> {
  decode(r: Reader): M;
  encode(m: M): Buffer;
}

type Table = { [K in Exclude<MessageType, 'encapsulated'>]: BodyCodec<MessageOf<K>> };

// ---------------------------------------------------------------- writers (range-checked)

function u8(n: number, field: string): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new RangeError(`${field} ${n} is not an octet`);
  return Buffer.of(n);
}

function u16(n: number, field: string): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`${field} ${n} is not a 16-bit integer`);
  return Buffer.of(n >> 8, n & 0xff);
}

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/** A short topic name is exactly two octets, §5.3.11. */
function shortName(name: string): Buffer {
  const b = utf8(name);
  if (b.length !== 2) throw new RangeError(`short topic name ${JSON.stringify(name)} is not two octets`);
  return b;
}

const cat = (...parts: Buffer[]) => Buffer.concat(parts);

// ---------------------------------------------------------------- shared shapes

const empty = <T extends 'willtopicreq' | 'willmsgreq' | 'pingresp'>(type: T): BodyCodec<MessageOf<T>> => ({
  decode: (r) => {
    r.done();
    return { type } as MessageOf<T>;
  },
  encode: () => Buffer.alloc(0),
});

const returnCodeOnly = <T extends 'connack' | 'willtopicresp' | 'willmsgresp'>(type: T): BodyCodec<MessageOf<T>> => ({
  decode: (r) => {
    const returnCode = r.u8();
    r.done();
    return { type, returnCode } as MessageOf<T>;
  },
  encode: (m) => u8((m as { returnCode: number }).returnCode, 'ReturnCode'),
});

const msgIdOnly = <T extends 'pubrec' | 'pubrel' | 'pubcomp' | 'unsuback'>(type: T): BodyCodec<MessageOf<T>> => ({
  decode: (r) => {
    const msgId = r.u16();
    r.done();
    return { type, msgId } as MessageOf<T>;
  },
  encode: (m) => u16((m as { msgId: number }).msgId, 'MsgId'),
});

/** TopicId, MsgId, ReturnCode: REGACK §5.4.11 and PUBACK §5.4.13. */
const idAck = <T extends 'regack' | 'puback'>(type: T): BodyCodec<MessageOf<T>> => ({
  decode: (r) => {
    const topicId = r.u16();
    const msgId = r.u16();
    const returnCode = r.u8();
    r.done();
    return { type, topicId, msgId, returnCode } as MessageOf<T>;
  },
  encode: (m) => {
    const a = m as MessageOf<'regack'>;
    return cat(u16(a.topicId, 'TopicId'), u16(a.msgId, 'MsgId'), u8(a.returnCode, 'ReturnCode'));
  },
});

const payloadOnly = <T extends 'willmsg' | 'willmsgupd'>(type: T): BodyCodec<MessageOf<T>> => ({
  decode: (r) => ({ type, payload: r.rest() }) as MessageOf<T>,
  encode: (m) => (m as { payload: Buffer }).payload,
});

/** WILLTOPIC §5.4.7 and WILLTOPICUPD §5.4.22: Flags + WillTopic, or nothing at all. */
const willTopic = <T extends 'willtopic' | 'willtopicupd'>(type: T): BodyCodec<MessageOf<T>> => ({
  decode: (r) => {
    if (r.remaining === 0) return { type } as MessageOf<T>;
    const f = decodeFlags(r.u8());
    const will: WillTopic = { qos: willQos(f), retain: f.retain, topic: r.text() };
    return { type, will } as MessageOf<T>;
  },
  encode: (m) => {
    const will = (m as { will?: WillTopic }).will;
    return will ? cat(u8(encodeFlags({ qos: will.qos, retain: will.retain }), 'Flags'), utf8(will.topic)) : Buffer.alloc(0);
  },
});

/** The topic of SUBSCRIBE / UNSUBSCRIBE, §5.4.15: a name, a pre-defined id, or a short name. */
function readFilterTopic(r: Reader, f: Flags): Exclude<TopicRef, { kind: 'id' }> {
  switch (f.topicIdType) {
    case TOPIC_ID_TYPE.NORMAL:
      return { kind: 'name', name: r.text() };
    case TOPIC_ID_TYPE.PREDEFINED: {
      const id = r.u16();
      r.done();
      return { kind: 'predefined', id };
    }
    case TOPIC_ID_TYPE.SHORT: {
      const name = r.text(2);
      r.done();
      return { kind: 'short', name };
    }
    default:
      throw new MqttSnDecodeError('invalid_topic_id_type', 'reserved TopicIdType 0b11');
  }
}

function writeFilterTopic(t: Exclude<TopicRef, { kind: 'id' }>): [number, Buffer] {
  switch (t.kind) {
    case 'name':
      return [TOPIC_ID_TYPE.NORMAL, utf8(t.name)];
    case 'predefined':
      return [TOPIC_ID_TYPE.PREDEFINED, u16(t.id, 'TopicId')];
    case 'short':
      return [TOPIC_ID_TYPE.SHORT, shortName(t.name)];
  }
}

// ---------------------------------------------------------------- the table

export const BODIES: Table = {
  // §5.4.1
  advertise: {
    decode: (r) => {
      const gwId = r.u8();
      const duration = r.u16();
      r.done();
      return { type: 'advertise', gwId, duration };
    },
    encode: (m) => cat(u8(m.gwId, 'GwId'), u16(m.duration, 'Duration')),
  },
  // §5.4.2
  searchgw: {
    decode: (r) => {
      const radius = r.u8();
      r.done();
      return { type: 'searchgw', radius };
    },
    encode: (m) => u8(m.radius, 'Radius'),
  },
  // §5.4.3
  gwinfo: {
    decode: (r) => {
      const gwId = r.u8();
      const gwAdd = r.rest();
      return gwAdd.length > 0 ? { type: 'gwinfo', gwId, gwAdd } : { type: 'gwinfo', gwId };
    },
    encode: (m) => cat(u8(m.gwId, 'GwId'), m.gwAdd ?? Buffer.alloc(0)),
  },
  // §5.4.4
  connect: {
    decode: (r) => {
      const f = decodeFlags(r.u8());
      const protocolId = r.u8();
      const duration = r.u16();
      return { type: 'connect', will: f.will, cleanSession: f.cleanSession, protocolId, duration, clientId: r.text() };
    },
    encode: (m) =>
      cat(u8(encodeFlags({ will: m.will, cleanSession: m.cleanSession }), 'Flags'), u8(m.protocolId, 'ProtocolId'), u16(m.duration, 'Duration'), utf8(m.clientId)),
  },
  connack: returnCodeOnly('connack'), // §5.4.5
  willtopicreq: empty('willtopicreq'), // §5.4.6
  willtopic: willTopic('willtopic'), // §5.4.7
  willmsgreq: empty('willmsgreq'), // §5.4.8
  willmsg: payloadOnly('willmsg'), // §5.4.9
  // §5.4.10
  register: {
    decode: (r) => {
      const topicId = r.u16();
      const msgId = r.u16();
      return { type: 'register', topicId, msgId, topicName: r.text() };
    },
    encode: (m) => cat(u16(m.topicId, 'TopicId'), u16(m.msgId, 'MsgId'), utf8(m.topicName)),
  },
  regack: idAck('regack'), // §5.4.11
  // §5.4.12
  publish: {
    decode: (r) => {
      const f = decodeFlags(r.u8());
      let topic: MessageOf<'publish'>['topic'];
      switch (f.topicIdType) {
        case TOPIC_ID_TYPE.NORMAL:
          topic = { kind: 'id', id: r.u16() };
          break;
        case TOPIC_ID_TYPE.PREDEFINED:
          topic = { kind: 'predefined', id: r.u16() };
          break;
        case TOPIC_ID_TYPE.SHORT:
          topic = { kind: 'short', name: r.text(2) };
          break;
        default:
          throw new MqttSnDecodeError('invalid_topic_id_type', 'reserved TopicIdType 0b11');
      }
      const msgId = r.u16();
      return { type: 'publish', dup: f.dup, qos: f.qos, retain: f.retain, topic, msgId, payload: r.rest() };
    },
    encode: (m) => {
      const t = m.topic;
      const topicIdType = t.kind === 'id' ? TOPIC_ID_TYPE.NORMAL : t.kind === 'predefined' ? TOPIC_ID_TYPE.PREDEFINED : TOPIC_ID_TYPE.SHORT;
      const topic = t.kind === 'short' ? shortName(t.name) : u16(t.id, 'TopicId');
      return cat(u8(encodeFlags({ dup: m.dup, qos: m.qos, retain: m.retain, topicIdType }), 'Flags'), topic, u16(m.msgId, 'MsgId'), m.payload);
    },
  },
  puback: idAck('puback'), // §5.4.13
  pubrec: msgIdOnly('pubrec'), // §5.4.14
  pubrel: msgIdOnly('pubrel'),
  pubcomp: msgIdOnly('pubcomp'),
  // §5.4.15
  subscribe: {
    decode: (r) => {
      const f = decodeFlags(r.u8());
      const msgId = r.u16();
      return { type: 'subscribe', dup: f.dup, qos: f.qos, msgId, topic: readFilterTopic(r, f) };
    },
    encode: (m) => {
      const [topicIdType, topic] = writeFilterTopic(m.topic);
      return cat(u8(encodeFlags({ dup: m.dup, qos: m.qos, topicIdType }), 'Flags'), u16(m.msgId, 'MsgId'), topic);
    },
  },
  // §5.4.16
  suback: {
    decode: (r) => {
      const f = decodeFlags(r.u8());
      const topicId = r.u16();
      const msgId = r.u16();
      const returnCode = r.u8();
      r.done();
      return { type: 'suback', qos: f.qos, topicId, msgId, returnCode };
    },
    encode: (m) => cat(u8(encodeFlags({ qos: m.qos }), 'Flags'), u16(m.topicId, 'TopicId'), u16(m.msgId, 'MsgId'), u8(m.returnCode, 'ReturnCode')),
  },
  // §5.4.17
  unsubscribe: {
    decode: (r) => {
      const f = decodeFlags(r.u8());
      const msgId = r.u16();
      return { type: 'unsubscribe', msgId, topic: readFilterTopic(r, f) };
    },
    encode: (m) => {
      const [topicIdType, topic] = writeFilterTopic(m.topic);
      return cat(u8(encodeFlags({ topicIdType }), 'Flags'), u16(m.msgId, 'MsgId'), topic);
    },
  },
  unsuback: msgIdOnly('unsuback'), // §5.4.18
  // §5.4.19
  pingreq: {
    decode: (r) => (r.remaining === 0 ? { type: 'pingreq' } : { type: 'pingreq', clientId: r.text() }),
    encode: (m) => (m.clientId ? utf8(m.clientId) : Buffer.alloc(0)),
  },
  pingresp: empty('pingresp'), // §5.4.20
  // §5.4.21
  disconnect: {
    decode: (r) => {
      if (r.remaining === 0) return { type: 'disconnect' };
      const duration = r.u16();
      r.done();
      return { type: 'disconnect', duration };
    },
    encode: (m) => (m.duration === undefined ? Buffer.alloc(0) : u16(m.duration, 'Duration')),
  },
  willtopicupd: willTopic('willtopicupd'), // §5.4.22
  willtopicresp: returnCodeOnly('willtopicresp'), // §5.4.24
  willmsgupd: payloadOnly('willmsgupd'), // §5.4.23
  willmsgresp: returnCodeOnly('willmsgresp'), // §5.4.25
};
