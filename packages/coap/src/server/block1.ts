/**
 * Reassembly of request bodies sent in Block1 blocks (RFC 7959 §2.3, §2.5). A transfer is keyed
 * by peer, Request-Tag (RFC 9175 §3), method and URI, not by token: clients may change the token
 * from one block to the next (libcoap does). Blocks are placed by byte offset (NUM x size), so a
 * client may switch to the smaller block size the server asks for in its 2.31 (§2.5).
 */
import type { Clock } from '@junction/broker-core';
import type { Block } from '../message/block.js';

export type BlockOutcome =
  /** Answer 2.31 Continue with this Block1 option. */
  | { readonly kind: 'continue'; readonly block: Block }
  /** The whole body; the final response carries this Block1 option. */
  | { readonly kind: 'complete'; readonly body: Buffer; readonly block: Block }
  /** §2.9.2: 4.08 Request Entity Incomplete: a block out of order, or none before it. */
  | { readonly kind: 'incomplete' }
  /** §2.9.3: 4.13 Request Entity Too Large, with Size1 = the limit. */
  | { readonly kind: 'too_large' }
  /** A retransmission of the block that completed a body: answered from the response cache. */
  | { readonly kind: 'duplicate' };

export interface Block1Options {
  readonly maxBodySize: number;
  readonly maxBlockSize: number;
  readonly lifetimeMs: number;
  readonly clock: Clock;
}

interface Transfer {
  chunks: Buffer[];
  /** Kept after the last block, without its chunks, to recognise that block's retransmission. */
  completed: boolean;
  received: number;
  /** The Message ID and offset of the last block taken, to recognise its retransmission. */
  lastMessageId: number;
  lastOffset: number;
  expiresAt: number;
}

export class Block1Assembler {
  private readonly transfers = new Map<string, Transfer>();

  constructor(private readonly opts: Block1Options) {}

  get size(): number {
    return this.transfers.size;
  }

  /**
   * One block of a request. `announced` is the Size1 option (the client's estimate of the whole
   * body, RFC 7959 §4), if any.
   */
  accept(key: string, block: Block, payload: Buffer, messageId: number, announced: number | undefined): BlockOutcome {
    const now = this.opts.clock.now();
    const max = this.opts.maxBodySize;
    const offset = block.num * block.size;
    // §2.5: a smaller block size may be asked for in the 2.31; never a larger one.
    const reply = (num: number): Block => ({ num, more: true, size: Math.min(block.size, this.opts.maxBlockSize) });
    let t = this.transfers.get(key);
    if (t && t.expiresAt <= now) {
      this.transfers.delete(key);
      t = undefined;
    }

    if (t && offset === t.lastOffset && messageId === t.lastMessageId) {
      // A retransmission of the block just taken (its response was lost): answer it again.
      return t.completed ? { kind: 'duplicate' } : { kind: 'continue', block: reply(block.num) };
    }
    if (offset === 0) {
      if ((announced !== undefined && announced > max) || payload.length > max) {
        this.transfers.delete(key);
        return { kind: 'too_large' };
      }
      t = { chunks: [], completed: false, received: 0, lastMessageId: messageId, lastOffset: 0, expiresAt: 0 };
      this.transfers.set(key, t);
    } else if (!t || t.completed) {
      return { kind: 'incomplete' };
    }
    if (offset !== t.received) {
      this.transfers.delete(key);
      return { kind: 'incomplete' };
    }
    if (t.received + payload.length > max) {
      this.transfers.delete(key);
      return { kind: 'too_large' };
    }
    t.chunks.push(payload);
    t.received += payload.length;
    t.lastMessageId = messageId;
    t.lastOffset = offset;
    t.expiresAt = now + this.opts.lifetimeMs;
    if (block.more) return { kind: 'continue', block: reply(block.num) };
    const body = Buffer.concat(t.chunks, t.received);
    t.chunks = [];
    t.completed = true;
    return { kind: 'complete', body, block };
  }

  /** Drops transfers not continued within `lifetimeMs` (called now and then by the listener). */
  expire(now = this.opts.clock.now()): void {
    for (const [key, t] of this.transfers) if (t.expiresAt <= now) this.transfers.delete(key);
  }

  clear(): void {
    this.transfers.clear();
  }
}
