/**
 * One CoAP client mapped onto one broker-core session: its observations, and the delivery sink
 * that turns deliveries into notifications. Flow control follows RFC 7252 §4.7 (NSTART 1): while
 * a confirmable notification awaits its ACK, or the blocks of a large one are being fetched, the
 * sink reports back-pressure and the core holds further deliveries in the session queue.
 */
import type { CloseReason, Delivery, DeliverySink, Logger, SessionHandle } from '@junction/broker-core';
import type { CoapConfig } from '../config.js';
import type { Link } from './link.js';
import { buildNotification } from './notification.js';
import type { Outcome } from './notifier.js';
import { Observations, type Observation } from './observations.js';

/** RFC 7641 §4.5: at least one notification a day is confirmable. */
const CONFIRMABLE_AT_LEAST_EVERY = 24 * 3600 * 1000;

export type ClientMode = 'connectionless' | 'connection';

/** What a client needs from the gateway. */
export interface ClientHost {
  readonly config: CoapConfig;
  readonly log: Logger;
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** An observation was removed by the client side (RST, timeout) or by the client's request. */
  observationRemoved(client: CoapClient): void;
  /** The core closed the session (takeover, kick, keepalive, shutdown). */
  closedByCore(client: CoapClient, reason: CloseReason): void;
}

export class CoapClient implements DeliverySink {
  handle!: SessionHandle;
  readonly observations = new Observations();
  /** Connection mode: the token issued by `POST /mqtt/connection`. */
  token: string | undefined;
  lastSeen: number;
  idleTimer: unknown;
  /** CON notifications awaiting an ACK. */
  private awaitingAck = 0;
  /** A block-wise notification is being fetched until this time (0: none). */
  private blockwiseUntil = 0;
  private blockwiseTimer: unknown;
  /** `deliver` returned false: the core waits for `ready()`. */
  private held = false;
  closed = false;
  /** The listener the client was opened on, which counts it against its `max_connections`. */
  readonly origin: string;

  constructor(
    readonly key: string,
    readonly mode: ClientMode,
    /** As requested; replaced by the one the core assigns when none was given. */
    public clientId: string,
    readonly username: string | undefined,
    public link: Link,
    private readonly host: ClientHost,
  ) {
    this.lastSeen = host.now();
    this.origin = link.listener.name;
  }

  // ------------------------------------------------------------------ DeliverySink

  deliver(d: Delivery): boolean {
    const observations: Observation[] = [];
    for (const id of d.subscriptionIds ?? []) {
      const obs = this.observations.withId(id);
      if (obs) observations.push(obs);
    }
    if (observations.length === 0 || this.closed) {
      this.settle(d);
      return this.more();
    }
    const { config } = this.host;
    const now = this.host.now();
    const byQos = config.notify_type === 'con' || (config.notify_type === 'qos' && d.qos > 0);
    let unconfirmed = 0;
    for (const obs of observations) {
      // RFC 7641 §4.5: confirmable at least once a day, to learn whether the client is still there.
      const confirmable = byQos || now - obs.lastConfirmableAt >= CONFIRMABLE_AT_LEAST_EVERY;
      const n = buildNotification(obs, d.message, now, config.blockwise.enable);
      if (n.large) {
        obs.large = n.large;
        this.startBlockwise();
      }
      if (confirmable) {
        obs.lastConfirmableAt = now;
        unconfirmed++;
        this.awaitingAck++;
      }
      const onOutcome = (o: Outcome) => {
        if (confirmable) {
          this.awaitingAck--;
          if (--unconfirmed === 0) this.settle(d);
        }
        if (o === 'reset') this.cancel(obs, 'notification_reset');
        else if (o === 'timeout') this.cancel(obs, 'notification_timeout');
        this.resume();
      };
      this.link.listener.notifier.notify(this, this.link.peer, n.message, confirmable, onOutcome);
    }
    // A NON notification cannot be acknowledged: the delivery is done once it is sent.
    if (unconfirmed === 0) this.settle(d);
    return this.more();
  }

  resendPubrel(): void {
    // Nothing to resend: QoS 2 towards a CoAP client ends with its ACK (see `settle`).
  }

  closeBy(reason: CloseReason): void {
    this.host.closedByCore(this, reason);
  }

  // ------------------------------------------------------------------ observations

  /** The client fetched the last block of a large notification (or gave up: the timer ran out). */
  blockwiseDone(): void {
    if (this.blockwiseUntil === 0) return;
    this.blockwiseUntil = 0;
    this.host.clearTimeout(this.blockwiseTimer);
    this.resume();
  }

  /** Ends an observation from the client's side: its subscription goes too (RFC 7641 §3.6, §4.5). */
  cancel(obs: Observation, why: string): void {
    if (this.observations.withId(obs.id) !== obs) return;
    this.observations.remove(obs.topic);
    this.host.log.debug({ clientId: this.clientId, topic: obs.topic, why }, 'coap_observation_cancelled');
    if (!this.closed) this.handle.unsubscribe([obs.filter]).catch(() => {});
    this.host.observationRemoved(this);
  }

  /** Drops what is in flight for this client; called once its session is closed. */
  dispose(): void {
    this.closed = true;
    this.link.listener.notifier.forget(this);
    this.host.clearTimeout(this.blockwiseTimer);
    this.host.clearTimeout(this.idleTimer);
    this.observations.clear();
  }

  // ------------------------------------------------------------------ flow control

  private busy(): boolean {
    return this.awaitingAck > 0 || this.blockwiseUntil > 0;
  }

  /** `deliver`'s answer: false holds further deliveries in the core until `resume`. */
  private more(): boolean {
    const busy = this.busy();
    if (busy) this.held = true;
    return !busy;
  }

  private startBlockwise(): void {
    this.host.clearTimeout(this.blockwiseTimer);
    const lifetime = this.host.config.blockwise.exchange_lifetime;
    this.blockwiseUntil = this.host.now() + lifetime;
    // A client that never fetches the rest holds up the next notification this long at most.
    this.blockwiseTimer = this.host.setTimeout(() => this.blockwiseDone(), lifetime);
  }

  private resume(): void {
    if (!this.held || this.busy() || this.closed) return;
    this.held = false;
    this.handle.ready();
  }

  /**
   * The delivery is done with: acknowledge it to the core (MQTT QoS 1 PUBACK, QoS 2 PUBREC and
   * PUBCOMP). Also after a CON notification timed out: CoAP has no redelivery, and an
   * unacknowledged delivery would hold the inflight window forever.
   */
  private settle(d: Delivery): void {
    if (d.qos === 0) return;
    const id = d.packetId;
    // Not from inside `deliver`: the core would re-enter its outbox.
    queueMicrotask(() => {
      if (this.closed) return;
      if (d.qos === 1) this.handle.ack(id, 'puback');
      else {
        this.handle.ack(id, 'pubrec');
        this.handle.ack(id, 'pubcomp');
      }
    });
  }
}
