/** A request as the handlers see it, and the reply they give back. */
import type { Block } from '../message/block.js';
import type { MethodName, ResponseCode } from '../message/codes.js';
import type { Peer } from '../transport/udp.js';
import type { Query } from '../uri.js';
import type { Link } from '../session/link.js';

export interface CoapRequest {
  /** Where the request came from, and the listener that will carry the answer and notifications. */
  readonly link: Link;
  readonly peer: Peer;
  readonly confirmable: boolean;
  readonly method: MethodName;
  readonly messageId: number;
  readonly token: Buffer;
  /** Uri-Path segments (RFC 7252 §6.4). */
  readonly path: readonly string[];
  readonly query: Query;
  /** Observe option (RFC 7641 §2): 0 registers, 1 deregisters. */
  readonly observe?: number;
  /** Block2 option of the request (RFC 7959 §2.4): a block of a representation, or the size wanted. */
  readonly block2?: Block;
  readonly contentFormat?: number;
  /** The whole body; reassembled when it came in Block1 blocks. */
  readonly payload: Buffer;
}

export interface Reply {
  readonly code: ResponseCode;
  /** A diagnostic message for errors (RFC 7252 §5.5.2), the token on connect, or a representation. */
  readonly payload?: Buffer | string;
  readonly observe?: number;
  readonly contentFormat?: number;
  readonly maxAge?: number;
  readonly block1?: Block;
  readonly size1?: number;
  /**
   * The payload is a whole representation of which the request's Block2 option asks for one block
   * (RFC 7959 §2.4): the block is cut out on the way (with ETag, as node-coap does it).
   */
  readonly representation?: boolean;
}

export function reply(code: ResponseCode, payload?: string): Reply {
  return payload === undefined ? { code } : { code, payload };
}
