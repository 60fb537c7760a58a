/**
 * Key layout. All keys are raw bytes compared bytewise by LMDB (`keyEncoding: 'binary'`).
 *
 * ```text
 * client key   [len u8][client id UTF-8]          client ids of up to 250 bytes
 *              [0xFF][SHA-256 of the client id]    longer ones (LMDB keys are limited in size);
 *                                                  the id is kept in the `client_names` table
 * sessions     client key                         -> session record
 * deliveries   client key ++ seq (u64 BE)         -> a run: deliveries of the session from seq on
 *                                                  (message, qos, retain, sub ids, packet id)
 * inflight     client key ++ packet id (u16 BE)   -> seq (u64 BE) ++ released (u8); format 1 only:
 *                                                  moved into the deliveries on open
 * awaiting_rel client key ++ packet id (u16 BE)   -> receive time (f64 BE)
 * retained     topic UTF-8                        topics of up to 1,000 bytes
 *              [0xFF][SHA-256 of the topic]        longer ones (the topic is in the value)
 * meta         ASCII name                         -> store-level values (the sequence ceiling)
 * ```
 *
 * The client key is self-delimiting (length prefix, or fixed size after 0xFF), so the keys of one
 * client form one contiguous range, and big-endian numbers make a range read return a client's
 * deliveries in sequence order. UTF-8 never contains the byte 0xFF, so the hashed forms cannot
 * collide with plain ones.
 */
import { createHash } from 'node:crypto';
import { CorruptValueError, readU64, writeU64 } from './codec.js';

const HASHED = 0xff;
const MAX_PLAIN_CLIENT = 250;
const MAX_PLAIN_TOPIC = 1000;

export function clientKey(clientId: string): Buffer {
  const utf8 = Buffer.from(clientId, 'utf8');
  if (utf8.length <= MAX_PLAIN_CLIENT) {
    const out = Buffer.allocUnsafe(1 + utf8.length);
    out[0] = utf8.length;
    utf8.copy(out, 1);
    return out;
  }
  const out = Buffer.allocUnsafe(33);
  out[0] = HASHED;
  createHash('sha256').update(utf8).digest().copy(out, 1);
  return out;
}

/** True when the client id cannot be recovered from the key (it is kept in `client_names`). */
export function isHashedClientKey(key: Buffer): boolean {
  return key[0] === HASHED;
}

/** Length of the client key at the start of `key`. */
function clientKeyLength(key: Buffer): number {
  if (key.length === 0) throw new CorruptValueError('empty key');
  const n = key[0] === HASHED ? 33 : 1 + key[0]!;
  if (n > key.length) throw new CorruptValueError('key shorter than its client part');
  return n;
}

/** The client id of a plain client key. */
export function clientIdOfKey(key: Buffer): string {
  return key.toString('utf8', 1, key.length);
}

/** Splits `client key ++ suffix`, checking the suffix length; the client key is a copy. */
export function splitKey(key: Buffer, suffix: number): { client: Buffer; rest: number } {
  const n = clientKeyLength(key);
  if (key.length !== n + suffix) throw new CorruptValueError(`key of ${key.length} bytes does not match the layout`);
  return { client: Buffer.from(key.subarray(0, n)), rest: n };
}

export function seqKey(client: Buffer, seq: number): Buffer {
  const out = Buffer.allocUnsafe(client.length + 8);
  client.copy(out, 0);
  writeU64(out, client.length, seq);
  return out;
}

export function checkPacketId(packetId: number): void {
  if (!Number.isInteger(packetId) || packetId < 1 || packetId > 0xffff) throw new RangeError(`packet id out of range: ${packetId}`);
}

export function packetIdKey(client: Buffer, packetId: number): Buffer {
  checkPacketId(packetId);
  const out = Buffer.allocUnsafe(client.length + 2);
  client.copy(out, 0);
  out.writeUInt16BE(packetId, client.length);
  return out;
}

export function readSeqSuffix(key: Buffer, at: number): number {
  return readU64(key, at);
}

export function readPacketIdSuffix(key: Buffer, at: number): number {
  return key.readUInt16BE(at);
}

export function retainedKey(topic: string): Buffer {
  const utf8 = Buffer.from(topic, 'utf8');
  if (utf8.length <= MAX_PLAIN_TOPIC) return utf8;
  const out = Buffer.allocUnsafe(33);
  out[0] = HASHED;
  createHash('sha256').update(utf8).digest().copy(out, 1);
  return out;
}
