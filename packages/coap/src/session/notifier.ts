/**
 * Server-initiated messages of one listener: notifications (RFC 7641 §4.2) sent CON or NON,
 * with the retransmission of RFC 7252 §4.2 for CON (initial timeout ACK_TIMEOUT to
 * ACK_TIMEOUT x ACK_RANDOM_FACTOR, doubled each time, MAX_RETRANSMIT retransmissions) and the
 * matching of the client's ACK or RST by Message ID and peer (§4.4). A NON notification is
 * remembered for NON_LIFETIME so that a RST rejecting it can still be matched (RFC 7641 §3.6).
 */
import type { Clock } from '@junction/broker-core';
import { encode, type EncodeInput } from '../message/frame.js';
import type { Peer } from '../transport/udp.js';

/** RFC 7252 §4.8 ACK_RANDOM_FACTOR. */
const ACK_RANDOM_FACTOR = 1.5;
/** RFC 7252 §4.8.2 NON_LIFETIME, in ms. */
const NON_LIFETIME = 145_000;
/** NON notifications remembered at most, per listener, for matching a RST. */
const NON_REMEMBERED = 10_000;

/** How a CON notification ended; a NON one only ever ends in `reset`. */
export type Outcome = 'acked' | 'reset' | 'timeout';

export interface NotifierOptions {
  readonly ackTimeoutMs: number;
  readonly maxRetransmit: number;
  readonly clock: Clock;
  readonly random?: () => number;
}

interface Exchange {
  readonly owner: object;
  readonly peer: Peer;
  readonly bytes: Buffer;
  readonly onOutcome: (o: Outcome) => void;
  retransmissions: number;
  timeoutMs: number;
  timer: unknown;
}

interface Remembered {
  readonly owner: object;
  readonly at: number;
  readonly onReset: () => void;
}

export class Notifier {
  private nextId: number;
  private readonly con = new Map<string, Exchange>();
  private readonly non = new Map<string, Remembered>();
  private readonly random: () => number;
  /** Notifications sent (CON, NON), retransmitted, and how CON ones ended; RSTs for either. */
  readonly counts = { con: 0, retransmissions: 0, non: 0, acked: 0, reset: 0, timeout: 0 };

  constructor(
    private readonly send: (bytes: Buffer, to: Peer) => void,
    private readonly opts: NotifierOptions,
  ) {
    this.random = opts.random ?? Math.random;
    this.nextId = Math.floor(this.random() * 0x10000);
  }

  /**
   * Sends a message the gateway originates. `owner` groups exchanges so they can be dropped
   * together (`forget`) when a client goes away. Returns the Message ID used.
   */
  notify(owner: object, to: Peer, msg: Omit<EncodeInput, 'type' | 'messageId'>, confirmable: boolean, onOutcome: (o: Outcome) => void): number {
    const messageId = this.allocate(to);
    const bytes = encode({ ...msg, type: confirmable ? 'CON' : 'NON', messageId });
    const key = keyOf(to, messageId);
    this.send(bytes, to);
    if (confirmable) {
      this.counts.con++;
      const timeoutMs = this.opts.ackTimeoutMs * (1 + this.random() * (ACK_RANDOM_FACTOR - 1));
      const ex: Exchange = { owner, peer: to, bytes, onOutcome, retransmissions: 0, timeoutMs, timer: undefined };
      this.con.set(key, ex);
      this.arm(key, ex);
    } else {
      this.counts.non++;
      this.remember(key, { owner, at: this.opts.clock.now(), onReset: () => onOutcome('reset') });
    }
    return messageId;
  }

  /** An empty ACK or RST from `from`: true when it answered one of our messages. */
  onEmpty(from: Peer, type: 'ACK' | 'RST', messageId: number): boolean {
    const key = keyOf(from, messageId);
    const ex = this.con.get(key);
    if (ex) {
      this.con.delete(key);
      this.opts.clock.clearTimeout(ex.timer);
      this.counts[type === 'ACK' ? 'acked' : 'reset']++;
      ex.onOutcome(type === 'ACK' ? 'acked' : 'reset');
      return true;
    }
    const non = this.non.get(key);
    if (non) {
      // RFC 7252 §4.3: a NON may be rejected with RST (an ACK for it is meaningless).
      if (type === 'RST') {
        this.non.delete(key);
        this.counts.reset++;
        non.onReset();
      }
      return true;
    }
    return false;
  }

  /** Drops every exchange of `owner`, without outcomes. */
  forget(owner: object): void {
    for (const [key, ex] of this.con) {
      if (ex.owner !== owner) continue;
      this.opts.clock.clearTimeout(ex.timer);
      this.con.delete(key);
    }
    for (const [key, r] of this.non) if (r.owner === owner) this.non.delete(key);
  }

  /** CON notifications awaiting an ACK. */
  get outstanding(): number {
    return this.con.size;
  }

  stop(): void {
    for (const ex of this.con.values()) this.opts.clock.clearTimeout(ex.timer);
    this.con.clear();
    this.non.clear();
  }

  private arm(key: string, ex: Exchange): void {
    ex.timer = this.opts.clock.setTimeout(() => {
      if (this.con.get(key) !== ex) return;
      if (ex.retransmissions >= this.opts.maxRetransmit) {
        this.con.delete(key);
        this.counts.timeout++;
        ex.onOutcome('timeout');
        return;
      }
      ex.retransmissions++;
      ex.timeoutMs *= 2;
      this.counts.retransmissions++;
      this.send(ex.bytes, ex.peer);
      this.arm(key, ex);
    }, ex.timeoutMs);
  }

  private remember(key: string, r: Remembered): void {
    // Insertion order is time order: expire from the front, and cap the size.
    for (const [k, old] of this.non) {
      if (this.non.size < NON_REMEMBERED && r.at - old.at < NON_LIFETIME) break;
      this.non.delete(k);
    }
    this.non.delete(key);
    this.non.set(key, r);
  }

  /** RFC 7252 §4.4: a Message ID not in use with this peer. */
  private allocate(to: Peer): number {
    for (let i = 0; i < 0x10000; i++) {
      const id = this.nextId;
      this.nextId = (this.nextId + 1) & 0xffff;
      const key = keyOf(to, id);
      if (!this.con.has(key) && !this.non.has(key)) return id;
    }
    throw new Error('no free message id');
  }
}

function keyOf(peer: Peer, messageId: number): string {
  return `${peer.key}/${messageId}`;
}
