import { MqttSnDecodeError } from './errors.js';
import type { SnQoS } from './types.js';

/**
 * The Flags octet, §5.3.4 Table 4:
 *   bit 7 DUP | bits 6..5 QoS | bit 4 Retain | bit 3 Will | bit 2 CleanSession | bits 1..0 TopicIdType
 * QoS 0b11 means QoS -1. Each message uses only some of these fields; the others are ignored
 * when decoding and written as 0.
 */
export interface Flags {
  dup: boolean;
  qos: SnQoS;
  retain: boolean;
  will: boolean;
  cleanSession: boolean;
  topicIdType: number;
}

export const TOPIC_ID_TYPE = { NORMAL: 0b00, PREDEFINED: 0b01, SHORT: 0b10, RESERVED: 0b11 } as const;

export function decodeFlags(b: number): Flags {
  const q = (b >> 5) & 0b11;
  return {
    dup: (b & 0x80) !== 0,
    qos: q === 0b11 ? -1 : (q as 0 | 1 | 2),
    retain: (b & 0x10) !== 0,
    will: (b & 0x08) !== 0,
    cleanSession: (b & 0x04) !== 0,
    topicIdType: b & 0b11,
  };
}

export function encodeFlags(f: Partial<Flags>): number {
  const qos = f.qos ?? 0;
  if (qos !== -1 && qos !== 0 && qos !== 1 && qos !== 2) throw new RangeError(`invalid QoS ${String(qos)}`);
  const q = qos === -1 ? 0b11 : qos;
  return (f.dup ? 0x80 : 0) | (q << 5) | (f.retain ? 0x10 : 0) | (f.will ? 0x08 : 0) | (f.cleanSession ? 0x04 : 0) | ((f.topicIdType ?? 0) & 0b11);
}

/** QoS of a will (WILLTOPIC, WILLTOPICUPD): QoS -1 has no meaning there. */
export function willQos(f: Flags): 0 | 1 | 2 {
  if (f.qos === -1) throw new MqttSnDecodeError('invalid_flags', 'will QoS -1');
  return f.qos;
}
