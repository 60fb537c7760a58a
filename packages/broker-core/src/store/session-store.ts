import type { Subscription, Will } from '../contract.js';
import type { Message, QoS } from '../message.js';

/** A session as persisted: everything needed to resume it after a restart. */
export interface StoredSession {
  readonly clientId: string;
  /** Seconds; 0xFFFFFFFF never expires. */
  readonly expiryInterval: number;
  /** Milliseconds since the epoch; undefined while a client is connected. */
  readonly disconnectedAt?: number;
  /** Keyed by the filter as the client sent it (with any `$share/` prefix). */
  readonly subscriptions: readonly Subscription[];
  /** A will waiting for its delay, with the time it is due. */
  readonly pendingWill?: Will & { readonly dueAt: number };
}

/** One outgoing message of a session: queued, or inflight under a packet id. */
export interface StoredDelivery {
  /** Store-assigned, increasing per session: the delivery order. */
  readonly seq: number;
  readonly message: Message;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly subscriptionIds?: readonly number[];
  /** Set once sent with a packet id (inflight). */
  readonly packetId?: number;
  /** QoS 2: PUBREC received, awaiting PUBCOMP. */
  readonly released?: boolean;
}

/**
 * Durable session state for sessions that outlive their connection. Every implementation passes
 * `sessionStoreSuite` from `@junction/broker-core/testing`.
 */
export interface SessionStore {
  get(clientId: string): Promise<StoredSession | undefined>;
  /** Create or replace the session record (its deliveries are kept). */
  put(session: StoredSession): Promise<void>;
  /** Remove the session, its deliveries and its inbound QoS 2 state; true if it existed. */
  delete(clientId: string): Promise<boolean>;
  /** Every stored session, in no particular order. */
  list(): AsyncIterable<StoredSession>;

  /** Append an outgoing message; resolves with the assigned sequence number. */
  enqueue(clientId: string, d: Omit<StoredDelivery, 'seq'>): Promise<number>;
  /**
   * Optional, for stores that apply every write in call order as it is called (an in-memory
   * index updated at once, commits in call order): `enqueue` that returns the sequence number at
   * once, with `durable` resolving as `enqueue` would; throws as `enqueue` rejects. A store that
   * has it promises that each write's promise resolves only once every earlier write is durable
   * too, so the broker issues the writes of a session without waiting for each other (one
   * group commit carries many messages) instead of one after the other.
   */
  append?(clientId: string, d: Omit<StoredDelivery, 'seq'>): { seq: number; durable: Promise<void> };
  /**
   * Optional, for stores that have `append`: `markInflight`, `complete` and `discard` applied at
   * once in call order as `append` is, without their results. Each returns a promise that
   * resolves once that write and every earlier one are durable; writes that share a commit may
   * return the same promise (so the broker tracks one promise per commit, not one per write).
   * They throw as the plain forms reject. A store may write the in-flight state of a QoS 1
   * delivery behind, briefly (the LMDB store does: see its README); the promise then covers the
   * earlier writes, and a restart may find such a delivery queued rather than in flight.
   */
  markInflightNow?(clientId: string, seq: number, packetId: number): Promise<void>;
  completeNow?(clientId: string, packetId: number): Promise<void>;
  discardNow?(clientId: string, seq: number): Promise<void>;
  /** Mark a delivery as sent under a packet id, or as released (QoS 2 PUBREC). */
  markInflight(clientId: string, seq: number, packetId: number): Promise<void>;
  markReleased(clientId: string, packetId: number): Promise<void>;
  /** Remove a completed delivery by packet id; true if it existed. */
  complete(clientId: string, packetId: number): Promise<boolean>;
  /** Remove a queued delivery by sequence number (dropped or expired); true if it existed. */
  discard(clientId: string, seq: number): Promise<boolean>;
  /** Deliveries of a session in sequence order. */
  deliveries(clientId: string): Promise<StoredDelivery[]>;

  /** Inbound QoS 2 packet ids received and not yet released (exactly-once across restarts). */
  addAwaitingRel(clientId: string, packetId: number, at: number): Promise<void>;
  removeAwaitingRel(clientId: string, packetId: number): Promise<boolean>;
  awaitingRel(clientId: string): Promise<Map<number, number>>;

  close(): Promise<void>;
}
