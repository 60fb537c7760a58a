import { describe, expect, it } from 'vitest';
import { decode, encode, MqttSnDecodeError, type MqttSnMessage } from '../src/index.js';

const b = (...bytes: number[]) => Buffer.from(bytes);
const s = (text: string) => [...Buffer.from(text)];

/** Every MQTT-SN 1.2 message type (§5.4) with its exact bytes. */
const FIXTURES: [string, MqttSnMessage, Buffer][] = [
  ['ADVERTISE', { type: 'advertise', gwId: 1, duration: 900 }, b(0x05, 0x00, 0x01, 0x03, 0x84)],
  ['SEARCHGW', { type: 'searchgw', radius: 0 }, b(0x03, 0x01, 0x00)],
  ['GWINFO from a gateway', { type: 'gwinfo', gwId: 1 }, b(0x03, 0x02, 0x01)],
  ['GWINFO from a client, with GwAdd', { type: 'gwinfo', gwId: 7, gwAdd: b(127, 0, 0, 1) }, b(0x07, 0x02, 0x07, 127, 0, 0, 1)],
  ['CONNECT with will and clean session', { type: 'connect', will: true, cleanSession: true, protocolId: 1, duration: 30, clientId: 'c1' }, b(0x08, 0x04, 0x0c, 0x01, 0x00, 0x1e, ...s('c1'))],
  ['CONNECT, persistent session', { type: 'connect', will: false, cleanSession: false, protocolId: 1, duration: 65535, clientId: 'x' }, b(0x07, 0x04, 0x00, 0x01, 0xff, 0xff, ...s('x'))],
  ['CONNACK', { type: 'connack', returnCode: 0 }, b(0x03, 0x05, 0x00)],
  ['WILLTOPICREQ', { type: 'willtopicreq' }, b(0x02, 0x06)],
  ['WILLTOPIC QoS 1 retained', { type: 'willtopic', will: { qos: 1, retain: true, topic: 'w' } }, b(0x04, 0x07, 0x30, ...s('w'))],
  ['WILLTOPIC empty (delete the will)', { type: 'willtopic' }, b(0x02, 0x07)],
  ['WILLMSGREQ', { type: 'willmsgreq' }, b(0x02, 0x08)],
  ['WILLMSG', { type: 'willmsg', payload: Buffer.from('bye') }, b(0x05, 0x09, ...s('bye'))],
  ['REGISTER from a client', { type: 'register', topicId: 0, msgId: 1, topicName: 'a/b' }, b(0x09, 0x0a, 0, 0, 0, 1, ...s('a/b'))],
  ['REGACK', { type: 'regack', topicId: 1, msgId: 1, returnCode: 0 }, b(0x07, 0x0b, 0, 1, 0, 1, 0)],
  ['PUBLISH QoS 1, normal topic id', { type: 'publish', dup: false, qos: 1, retain: false, topic: { kind: 'id', id: 1 }, msgId: 2, payload: Buffer.from('hi') }, b(0x09, 0x0c, 0x20, 0, 1, 0, 2, ...s('hi'))],
  ['PUBLISH QoS -1, pre-defined id', { type: 'publish', dup: false, qos: -1, retain: false, topic: { kind: 'predefined', id: 5 }, msgId: 0, payload: Buffer.from('x') }, b(0x08, 0x0c, 0x61, 0, 5, 0, 0, ...s('x'))],
  ['PUBLISH QoS 0, short name, DUP and retain, empty payload', { type: 'publish', dup: true, qos: 0, retain: true, topic: { kind: 'short', name: 'ab' }, msgId: 0, payload: Buffer.alloc(0) }, b(0x07, 0x0c, 0x92, ...s('ab'), 0, 0)],
  ['PUBLISH QoS 2', { type: 'publish', dup: false, qos: 2, retain: false, topic: { kind: 'id', id: 0x1234 }, msgId: 0xabcd, payload: b(0) }, b(0x08, 0x0c, 0x40, 0x12, 0x34, 0xab, 0xcd, 0)],
  ['PUBACK', { type: 'puback', topicId: 1, msgId: 2, returnCode: 2 }, b(0x07, 0x0d, 0, 1, 0, 2, 0x02)],
  ['PUBCOMP', { type: 'pubcomp', msgId: 2 }, b(0x04, 0x0e, 0, 2)],
  ['PUBREC', { type: 'pubrec', msgId: 2 }, b(0x04, 0x0f, 0, 2)],
  ['PUBREL', { type: 'pubrel', msgId: 2 }, b(0x04, 0x10, 0, 2)],
  ['SUBSCRIBE by name, wildcard', { type: 'subscribe', dup: false, qos: 1, msgId: 3, topic: { kind: 'name', name: 'a/#' } }, b(0x08, 0x12, 0x20, 0, 3, ...s('a/#'))],
  ['SUBSCRIBE by pre-defined id', { type: 'subscribe', dup: false, qos: 2, msgId: 4, topic: { kind: 'predefined', id: 7 } }, b(0x07, 0x12, 0x41, 0, 4, 0, 7)],
  ['SUBSCRIBE by short name, DUP', { type: 'subscribe', dup: true, qos: 0, msgId: 5, topic: { kind: 'short', name: 'ab' } }, b(0x07, 0x12, 0x82, 0, 5, ...s('ab'))],
  ['SUBACK', { type: 'suback', qos: 1, topicId: 1, msgId: 3, returnCode: 0 }, b(0x08, 0x13, 0x20, 0, 1, 0, 3, 0)],
  ['UNSUBSCRIBE by name', { type: 'unsubscribe', msgId: 6, topic: { kind: 'name', name: 'a/#' } }, b(0x08, 0x14, 0x00, 0, 6, ...s('a/#'))],
  ['UNSUBSCRIBE by pre-defined id', { type: 'unsubscribe', msgId: 6, topic: { kind: 'predefined', id: 9 } }, b(0x07, 0x14, 0x01, 0, 6, 0, 9)],
  ['UNSUBACK', { type: 'unsuback', msgId: 6 }, b(0x04, 0x15, 0, 6)],
  ['PINGREQ', { type: 'pingreq' }, b(0x02, 0x16)],
  ['PINGREQ with client id (wake up)', { type: 'pingreq', clientId: 'c1' }, b(0x04, 0x16, ...s('c1'))],
  ['PINGRESP', { type: 'pingresp' }, b(0x02, 0x17)],
  ['DISCONNECT', { type: 'disconnect' }, b(0x02, 0x18)],
  ['DISCONNECT with duration (sleep)', { type: 'disconnect', duration: 60 }, b(0x04, 0x18, 0, 60)],
  ['WILLTOPICUPD', { type: 'willtopicupd', will: { qos: 2, retain: false, topic: 't' } }, b(0x04, 0x1a, 0x40, ...s('t'))],
  ['WILLTOPICUPD empty', { type: 'willtopicupd' }, b(0x02, 0x1a)],
  ['WILLTOPICRESP', { type: 'willtopicresp', returnCode: 0 }, b(0x03, 0x1b, 0)],
  ['WILLMSGUPD', { type: 'willmsgupd', payload: Buffer.from('m') }, b(0x03, 0x1c, ...s('m'))],
  ['WILLMSGRESP', { type: 'willmsgresp', returnCode: 3 }, b(0x03, 0x1d, 3)],
  ['Encapsulated PINGREQ from a forwarder (§5.5)', { type: 'encapsulated', radius: 1, wirelessNodeId: b(0xaa, 0xbb), message: { type: 'pingreq' } }, b(0x05, 0xfe, 0x01, 0xaa, 0xbb, 0x02, 0x16)],
];

describe('codec fixtures (MQTT-SN 1.2 §5.4)', () => {
  it.each(FIXTURES)('%s encodes byte-exact', (_name, msg, bytes) => {
    expect(encode(msg)).toEqual(bytes);
  });
  it.each(FIXTURES)('%s decodes', (_name, msg, bytes) => {
    expect(decode(bytes)).toEqual(msg);
  });
});

describe('Length field (§5.2.1)', () => {
  const publish = (n: number): MqttSnMessage => ({ type: 'publish', dup: false, qos: 0, retain: false, topic: { kind: 'id', id: 1 }, msgId: 0, payload: Buffer.alloc(n, 0x41) });

  it('uses one octet up to 255 octets', () => {
    const out = encode(publish(248));
    expect(out.length).toBe(255);
    expect(out[0]).toBe(255);
    expect(out[1]).toBe(0x0c);
  });

  it('uses 0x01 and two octets from 256 octets on', () => {
    const out = encode(publish(249));
    expect(out.length).toBe(258);
    expect([...out.subarray(0, 4)]).toEqual([0x01, 0x01, 0x02, 0x0c]);
    expect(decode(out)).toEqual(publish(249));
  });

  it('accepts the three-octet form for a short message too', () => {
    expect(decode(b(0x01, 0x00, 0x04, 0x17))).toEqual({ type: 'pingresp' });
  });

  it('refuses a message longer than 65535 octets', () => {
    expect(() => encode(publish(65535))).toThrow(RangeError);
  });
});

describe('decode errors', () => {
  const cases: [string, Buffer, string][] = [
    ['empty datagram', b(), 'too_short'],
    ['one octet', b(0x02), 'too_short'],
    ['Length larger than the datagram', b(0x03, 0x16), 'length_mismatch'],
    ['Length smaller than the datagram', b(0x02, 0x16, 0x00), 'length_mismatch'],
    ['reserved MsgType 0x03', b(0x02, 0x03), 'unknown_type'],
    ['reserved MsgType 0xFF', b(0x02, 0xff), 'unknown_type'],
    ['CONNACK without a return code', b(0x02, 0x05), 'truncated'],
    ['PUBREL with an extra octet', b(0x05, 0x10, 0, 1, 9), 'trailing_bytes'],
    ['PUBLISH with TopicIdType 0b11', b(0x07, 0x0c, 0x03, 0, 1, 0, 0), 'invalid_topic_id_type'],
    ['REGISTER with ill-formed UTF-8', b(0x07, 0x0a, 0, 0, 0, 1, 0xff), 'invalid_utf8'],
    ['WILLTOPIC with QoS -1', b(0x04, 0x07, 0x60, 0x74), 'invalid_flags'],
    ['three-octet form shorter than its header', b(0x01, 0x00, 0x03), 'too_short'],
    ['DISCONNECT with a one-octet duration', b(0x03, 0x18, 5), 'truncated'],
    ['encapsulation without a message', b(0x03, 0xfe, 0x00), 'truncated'],
    ['encapsulation inside encapsulation', b(0x03, 0xfe, 0x00, 0x04, 0xfe, 0x00, 0x02, 0x16), 'nested_encapsulation'],
  ];
  it.each(cases)('%s: %s', (_name, bytes, reason) => {
    let caught: unknown;
    try {
      decode(bytes);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MqttSnDecodeError);
    expect((caught as MqttSnDecodeError).reason).toBe(reason);
  });
});
