/**
 * A notification (RFC 7641 §3.2, §4.2) for one message on one observation: 2.05 Content with
 * the registration's token, the next Observe value, Content-Format from the MQTT 5 content type,
 * Max-Age from the remaining message expiry, and, when the payload is larger than the block size,
 * only its first block with Block2, Size2 and ETag (RFC 7959 §2.4, §3.4, §4).
 */
import { remainingExpiry, type Message } from '@junction/broker-core';
import { encodeBlock } from '../message/block.js';
import { codeFromString, Rsp } from '../message/codes.js';
import { contentFormatFor } from '../message/content-format.js';
import type { EncodeInput } from '../message/frame.js';
import { encodeUint, Option, type CoapOption } from '../message/options.js';
import { Observations, type Observation, type Representation } from './observations.js';

const CONTENT = codeFromString(Rsp.CONTENT);

export interface Notification {
  readonly message: Omit<EncodeInput, 'type' | 'messageId'>;
  /** Set when only the first block went out: the rest is fetched with GET and Block2. */
  readonly large?: Representation;
}

export function buildNotification(obs: Observation, msg: Message, now: number, blockwise: boolean): Notification {
  const seq = Observations.next(obs);
  const contentFormat = contentFormatFor(msg.properties?.contentType);
  const maxAge = remainingExpiry(msg, now);
  const options: CoapOption[] = [{ number: Option.OBSERVE, value: encodeUint(seq) }];
  if (contentFormat !== undefined) options.push({ number: Option.CONTENT_FORMAT, value: encodeUint(contentFormat) });
  if (maxAge !== undefined) options.push({ number: Option.MAX_AGE, value: encodeUint(maxAge) });
  const payload = msg.payload;
  if (!blockwise || payload.length <= obs.blockSize) {
    return { message: { code: CONTENT, token: obs.token, options, payload } };
  }
  options.push(
    { number: Option.ETAG, value: etagOf(payload) },
    { number: Option.BLOCK2, value: encodeBlock({ num: 0, more: true, size: obs.blockSize }) },
    { number: Option.SIZE2, value: encodeUint(payload.length) },
  );
  return {
    message: { code: CONTENT, token: obs.token, options, payload: payload.subarray(0, obs.blockSize) },
    large: { payload, contentFormat, maxAge, seq },
  };
}

/**
 * The ETag node-coap puts on the blocks it cuts (the 2-byte XOR of the payload), so the first
 * block, sent here, and the later ones, cut by node-coap, agree.
 */
export function etagOf(payload: Buffer): Buffer {
  const tag = Buffer.alloc(2);
  for (let i = 0; i < payload.length; i += 2) {
    tag[0] ^= payload[i]!;
    tag[1] ^= payload[i + 1] ?? 0;
  }
  return tag;
}
