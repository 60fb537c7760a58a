import type { Logger } from '../logger.js';
import type { SessionStore, StoredDelivery, StoredSession } from '../store/session-store.js';
import type { Pending, Session } from './session.js';

/** Where a delivery lives in the store once its enqueue has run. */
export interface StoredRef {
  seq: number;
}

/**
 * Writes the state of persistent sessions (session expiry > 0) through to a SessionStore, in
 * order per session. `durable(s)` resolves once everything written for the session so far is
 * stored: the broker acknowledges QoS 1/2 publishes after it.
 *
 * With a store that has `append` (writes applied in call order, sequence numbers known at once),
 * each write is issued as it happens, and many messages share one commit. Otherwise every write of
 * a session waits for the previous one, so a later write can use the sequence number an earlier
 * enqueue was given.
 */
export class SessionPersistence {
  private readonly pipelined: boolean;

  constructor(
    readonly store: SessionStore,
    private readonly log: Logger,
  ) {
    this.pipelined = typeof store.append === 'function';
  }

  private readonly failed = (err: unknown, s: Session): void => this.log.error({ err, clientId: s.clientId }, 'session_store_write_failed');

  private run(s: Session, op: () => Promise<unknown>): Promise<void> {
    if (this.pipelined) {
      let done: Promise<unknown>;
      try {
        done = op();
      } catch (err) {
        done = Promise.reject(err);
      }
      this.track(s, done);
      return s.persistChain;
    }
    const next = s.persistChain.then(op).then(
      () => undefined,
      (err) => this.failed(err, s),
    );
    s.persistChain = next;
    return next;
  }

  /**
   * Pipelined: the session is durable once its latest write is, as the store resolves a write
   * only once every earlier one is durable too. Writes sharing a commit share their promise:
   * tracked once.
   */
  private track(s: Session, done: Promise<unknown>): void {
    if (done === s.persistLast) return;
    s.persistLast = done;
    s.persistChain = done.then(
      () => undefined,
      (err) => this.failed(err, s),
    );
  }

  /** The session record: subscriptions, expiry, disconnect time, a pending will. */
  saveSession(s: Session, disconnectedAt?: number, willDueAt?: number): void {
    const record: StoredSession = {
      clientId: s.clientId,
      expiryInterval: s.expiryInterval,
      disconnectedAt,
      subscriptions: [...s.subscriptions.values()].map((x) => x.sub),
      pendingWill: s.pendingWill && willDueAt !== undefined ? { ...s.pendingWill, dueAt: willDueAt } : undefined,
    };
    s.stored = true;
    void this.run(s, () => this.store.put(record));
  }

  /** Remove a session that was ever stored (clean sessions never touch the store). */
  deleteSession(s: Session): void {
    if (!s.stored) return;
    s.stored = false;
    void this.run(s, () => this.store.delete(s.clientId));
  }

  /** A message entered the session's queue (not sent yet). */
  queued(s: Session, p: Pending): void {
    const ref: StoredRef = { seq: 0 };
    (p as { ref?: StoredRef }).ref = ref;
    if (this.pipelined) {
      try {
        // `p` has the fields of a delivery; `append` copies what it needs.
        const { seq, durable } = this.store.append!(s.clientId, p);
        ref.seq = seq;
        this.track(s, durable);
      } catch (err) {
        this.failed(err, s);
      }
      return;
    }
    void this.run(s, async () => {
      ref.seq = await this.store.enqueue(s.clientId, toStored(p));
    });
  }

  /** A delivery went out under a packet id: from the queue (`ref` set) or directly. */
  sent(s: Session, p: Pending, packetId: number, ref: StoredRef | undefined): void {
    const store = this.store;
    if (this.pipelined && (store.markInflightNow || !ref)) {
      try {
        this.track(s, ref ? store.markInflightNow!(s.clientId, ref.seq, packetId) : store.append!(s.clientId, { ...toStored(p), packetId }).durable);
      } catch (err) {
        this.failed(err, s);
      }
      return;
    }
    if (ref) {
      void this.run(s, () => this.store.markInflight(s.clientId, ref.seq, packetId));
    } else {
      void this.run(s, () => this.store.enqueue(s.clientId, { ...toStored(p), packetId }));
    }
  }

  /** A queued message left without being sent (dropped or expired). */
  discarded(s: Session, ref: StoredRef | undefined): void {
    if (!ref) return;
    const store = this.store;
    if (this.pipelined && store.discardNow) {
      try {
        this.track(s, store.discardNow(s.clientId, ref.seq));
      } catch (err) {
        this.failed(err, s);
      }
      return;
    }
    void this.run(s, () => this.store.discard(s.clientId, ref.seq));
  }

  released(s: Session, packetId: number): void {
    void this.run(s, () => this.store.markReleased(s.clientId, packetId));
  }

  completed(s: Session, packetId: number): void {
    const store = this.store;
    if (this.pipelined && store.completeNow) {
      try {
        this.track(s, store.completeNow(s.clientId, packetId));
      } catch (err) {
        this.failed(err, s);
      }
      return;
    }
    void this.run(s, () => this.store.complete(s.clientId, packetId));
  }

  awaitRel(s: Session, packetId: number, at: number): void {
    void this.run(s, () => this.store.addAwaitingRel(s.clientId, packetId, at));
  }

  releasedRel(s: Session, packetId: number): void {
    void this.run(s, () => this.store.removeAwaitingRel(s.clientId, packetId));
  }

  /** Resolves when every write issued so far for this session is stored. */
  durable(s: Session): Promise<void> {
    return s.persistChain;
  }
}

function toStored(p: Pending): Omit<StoredDelivery, 'seq'> {
  return { message: p.message, qos: p.qos, retain: p.retain, subscriptionIds: p.subscriptionIds };
}
