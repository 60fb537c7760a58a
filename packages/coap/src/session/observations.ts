/**
 * The observations of one client (RFC 7641 §3.1, §4.1): one per topic, each backed by one
 * subscription in the broker core whose Subscription Identifier says which observation a
 * delivery is for (the core merges overlapping subscriptions into one delivery that carries all
 * their identifiers).
 */
/** RFC 7641 §4.4: the Observe value is a 24-bit sequence number. */
const SEQ_MASK = 0xffffff;
/** MQTT 5 §3.8.2.1.2: Subscription Identifiers are 1..268,435,455. */
const MAX_SUBSCRIPTION_ID = 268_435_455;

/** The last notification that went out in blocks, kept so its later blocks can be fetched. */
export interface Representation {
  readonly payload: Buffer;
  readonly contentFormat?: number;
  readonly maxAge?: number;
  /** The Observe value of the notification that carried the first block. */
  readonly seq: number;
}

export interface Observation {
  /** The Subscription Identifier of its subscription. */
  readonly id: number;
  /** The topic (filter) as the client wrote it. */
  readonly topic: string;
  /** The filter on the bus (mountpoint applied). */
  readonly filter: string;
  /** The token of the registration; every notification carries it (RFC 7641 §3.2). */
  token: Buffer;
  /** The last Observe value sent. */
  seq: number;
  /** Block size for notifications (RFC 7959 §2.4: the client may ask for a smaller one). */
  blockSize: number;
  /** RFC 7641 §4.5: a client is asked for an ACK at least every 24 hours. */
  lastConfirmableAt: number;
  large?: Representation;
}

export class Observations {
  private readonly byTopic = new Map<string, Observation>();
  private readonly byId = new Map<number, Observation>();
  private lastId = 0;

  get size(): number {
    return this.byTopic.size;
  }

  get(topic: string): Observation | undefined {
    return this.byTopic.get(topic);
  }

  withId(id: number): Observation | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<Observation> {
    return this.byTopic.values();
  }

  add(topic: string, filter: string, token: Buffer, blockSize: number, now: number): Observation {
    const obs: Observation = { id: this.allocateId(), topic, filter, token, seq: 0, blockSize, lastConfirmableAt: now };
    this.byTopic.set(topic, obs);
    this.byId.set(obs.id, obs);
    return obs;
  }

  remove(topic: string): Observation | undefined {
    const obs = this.byTopic.get(topic);
    if (obs) {
      this.byTopic.delete(topic);
      this.byId.delete(obs.id);
    }
    return obs;
  }

  clear(): void {
    this.byTopic.clear();
    this.byId.clear();
  }

  /** The next Observe value of `obs` (RFC 7641 §4.4: rising, modulo 2^24). */
  static next(obs: Observation): number {
    obs.seq = (obs.seq + 1) & SEQ_MASK;
    return obs.seq;
  }

  private allocateId(): number {
    do this.lastId = this.lastId >= MAX_SUBSCRIPTION_ID ? 1 : this.lastId + 1;
    while (this.byId.has(this.lastId));
    return this.lastId;
  }
}
