import type { Subscription, Will } from '../contract.js';
import type { Message, MessageProperties, UserProperties } from '../message.js';
import type { SessionStore, StoredDelivery, StoredSession } from './session-store.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Everything held for one client id. A record is optional: deliveries may come first. */
interface ClientState {
  record?: StoredSession;
  /** Next sequence number; starts at 1 and only grows until the client id is deleted. */
  nextSeq: number;
  /** By sequence number. Sequence numbers only grow, so insertion order is sequence order. */
  readonly deliveries: Map<number, StoredDelivery>;
  /** Packet id to sequence number, for the inflight deliveries. */
  readonly inflight: Map<number, number>;
  /** Inbound QoS 2 packet id to the time it was received. */
  readonly awaitingRel: Map<number, number>;
}

/**
 * Sessions in process memory: nothing survives a restart. Used when durable sessions are off and
 * as the reference implementation of {@link SessionStore}.
 *
 * Values are copied on the way in and on the way out (Buffers included), so neither the caller's
 * objects nor the ones it gets back share anything with what the store holds.
 *
 * Semantics beyond the interface:
 * - Sequence numbers are per client id, start at 1 and are never reused until `delete`, which
 *   starts the count again.
 * - `enqueue` and `addAwaitingRel` work for a client id without a record; `list` and `get` only
 *   report client ids with a record, and `delete` resolves true only when a record existed
 *   (it clears deliveries and awaiting-rel state either way).
 * - A packet id identifies at most one delivery: marking a delivery inflight under a packet id
 *   another delivery holds returns that other delivery to the queue.
 * - `markInflight` of an unknown sequence number and `markReleased` of an unknown packet id do
 *   nothing. Marking a delivery with a new packet id clears its `released` flag.
 */
export class MemorySessionStore implements SessionStore {
  readonly #clients = new Map<string, ClientState>();

  #state(clientId: string): ClientState {
    let state = this.#clients.get(clientId);
    if (state === undefined) {
      state = { nextSeq: 1, deliveries: new Map(), inflight: new Map(), awaitingRel: new Map() };
      this.#clients.set(clientId, state);
    }
    return state;
  }

  /** Number of client ids with any state (record, deliveries or awaiting-rel). */
  get size(): number {
    return this.#clients.size;
  }

  async get(clientId: string): Promise<StoredSession | undefined> {
    const record = this.#clients.get(clientId)?.record;
    return record === undefined ? undefined : cloneSession(record);
  }

  async put(session: StoredSession): Promise<void> {
    this.#state(session.clientId).record = cloneSession(session);
  }

  async delete(clientId: string): Promise<boolean> {
    const state = this.#clients.get(clientId);
    if (state === undefined) return false;
    this.#clients.delete(clientId);
    return state.record !== undefined;
  }

  async *list(): AsyncIterable<StoredSession> {
    // Snapshot first: the caller may change the store between iterations.
    const records: StoredSession[] = [];
    for (const state of this.#clients.values()) if (state.record !== undefined) records.push(state.record);
    for (const record of records) yield cloneSession(record);
  }

  async enqueue(clientId: string, d: Omit<StoredDelivery, 'seq'>): Promise<number> {
    return this.append(clientId, d).seq;
  }

  /** Applied at once, as every write here: the sequence number is known on return. */
  append(clientId: string, d: Omit<StoredDelivery, 'seq'>): { seq: number; durable: Promise<void> } {
    const state = this.#state(clientId);
    const seq = state.nextSeq++;
    const stored = cloneDelivery({ ...d, seq });
    if (stored.packetId !== undefined) this.#bind(state, stored.packetId, seq);
    state.deliveries.set(seq, stored);
    return { seq, durable: Promise.resolve() };
  }

  async markInflight(clientId: string, seq: number, packetId: number): Promise<void> {
    const state = this.#clients.get(clientId);
    const current = state?.deliveries.get(seq);
    if (state === undefined || current === undefined) return;
    if (current.packetId === packetId) return;
    if (current.packetId !== undefined) state.inflight.delete(current.packetId);
    this.#bind(state, packetId, seq);
    const next: Mutable<StoredDelivery> = { ...current, packetId };
    delete next.released;
    state.deliveries.set(seq, next);
  }

  /** Points `packetId` at `seq`, returning any other delivery holding it to the queue. */
  #bind(state: ClientState, packetId: number, seq: number): void {
    const holder = state.inflight.get(packetId);
    if (holder !== undefined && holder !== seq) {
      const other = state.deliveries.get(holder);
      if (other !== undefined) {
        const queued: Mutable<StoredDelivery> = { ...other };
        delete queued.packetId;
        delete queued.released;
        state.deliveries.set(holder, queued);
      }
    }
    state.inflight.set(packetId, seq);
  }

  async markReleased(clientId: string, packetId: number): Promise<void> {
    const state = this.#clients.get(clientId);
    const seq = state?.inflight.get(packetId);
    if (state === undefined || seq === undefined) return;
    const current = state.deliveries.get(seq);
    if (current === undefined || current.released === true) return;
    state.deliveries.set(seq, { ...current, released: true });
  }

  async complete(clientId: string, packetId: number): Promise<boolean> {
    const state = this.#clients.get(clientId);
    const seq = state?.inflight.get(packetId);
    if (state === undefined || seq === undefined) return false;
    state.inflight.delete(packetId);
    return state.deliveries.delete(seq);
  }

  async discard(clientId: string, seq: number): Promise<boolean> {
    const state = this.#clients.get(clientId);
    const current = state?.deliveries.get(seq);
    if (state === undefined || current === undefined) return false;
    if (current.packetId !== undefined && state.inflight.get(current.packetId) === seq) {
      state.inflight.delete(current.packetId);
    }
    return state.deliveries.delete(seq);
  }

  async deliveries(clientId: string): Promise<StoredDelivery[]> {
    const state = this.#clients.get(clientId);
    if (state === undefined) return [];
    return Array.from(state.deliveries.values(), cloneDelivery);
  }

  async addAwaitingRel(clientId: string, packetId: number, at: number): Promise<void> {
    this.#state(clientId).awaitingRel.set(packetId, at);
  }

  async removeAwaitingRel(clientId: string, packetId: number): Promise<boolean> {
    return this.#clients.get(clientId)?.awaitingRel.delete(packetId) ?? false;
  }

  async awaitingRel(clientId: string): Promise<Map<number, number>> {
    return new Map(this.#clients.get(clientId)?.awaitingRel);
  }

  /** Drops everything held in memory. Idempotent; the store stays usable (and empty). */
  async close(): Promise<void> {
    this.#clients.clear();
  }
}

function cloneUserProperties(up: UserProperties): UserProperties {
  const out: UserProperties = {};
  for (const [key, value] of Object.entries(up)) out[key] = Array.isArray(value) ? [...value] : value;
  return out;
}

function cloneProperties(p: MessageProperties): MessageProperties {
  const out: MessageProperties = { ...p };
  if (p.correlationData !== undefined) out.correlationData = Buffer.from(p.correlationData);
  if (p.userProperties !== undefined) out.userProperties = cloneUserProperties(p.userProperties);
  return out;
}

function cloneMessage(m: Message): Message {
  const out: Mutable<Message> = { ...m, payload: Buffer.from(m.payload), from: { ...m.from } };
  if (m.properties !== undefined) out.properties = cloneProperties(m.properties);
  return out;
}

function cloneDelivery(d: StoredDelivery): StoredDelivery {
  const out: Mutable<StoredDelivery> = { ...d, message: cloneMessage(d.message) };
  if (d.subscriptionIds !== undefined) out.subscriptionIds = [...d.subscriptionIds];
  return out;
}

function cloneWill<W extends Will>(w: W): W {
  const out: W = { ...w, payload: Buffer.from(w.payload) };
  if (w.properties !== undefined) out.properties = cloneProperties(w.properties);
  return out;
}

function cloneSubscription(s: Subscription): Subscription {
  return { ...s };
}

function cloneSession(s: StoredSession): StoredSession {
  const out: Mutable<StoredSession> = { ...s, subscriptions: s.subscriptions.map(cloneSubscription) };
  if (s.pendingWill !== undefined) out.pendingWill = cloneWill(s.pendingWill);
  return out;
}
