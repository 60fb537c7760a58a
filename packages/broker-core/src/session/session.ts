import type { Delivery, DeliverySink, Subscription, Will } from '../contract.js';
import type { ClientInfo } from '../hooks.js';
import type { Message, QoS } from '../message.js';
import { Fifo } from './fifo.js';

/** A message waiting for the inflight window or for the client to come back. */
export interface Pending {
  readonly message: Message;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly subscriptionIds?: readonly number[];
  /** Set when the message was written to the session store. */
  readonly ref?: { seq: number };
}

/** An outgoing QoS 1/2 message awaiting acknowledgement. */
export interface Inflight {
  readonly delivery: Delivery;
  /** QoS 2: PUBREC received, PUBREL sent, awaiting PUBCOMP. */
  released: boolean;
}

export interface StoredSubscription {
  readonly sub: Subscription;
  /** The filter without a `$share/{group}/` prefix. */
  readonly filter: string;
  readonly group?: string;
}

/** The minimal view of a live connection the session needs. */
export interface Attached {
  readonly sink: DeliverySink;
  /** Deliveries held until the adapter signals readiness (CONNACK sent, socket drained). */
  paused: boolean;
}

/** The start of every session's store-write chain: one settled promise, shared (sessions that
 * never write, e.g. clean ones, allocate none). */
const SETTLED: Promise<void> = Promise.resolve();

/**
 * Per client id state that outlives connections: subscriptions, the outgoing inflight window,
 * the queue, and inbound QoS 2 packet ids. Protocol-neutral.
 */
export class Session {
  client: ClientInfo;
  readonly subscriptions = new Map<string, StoredSubscription>();
  readonly inflight = new Map<number, Inflight>();
  readonly queue = new Fifo<Pending>();
  /** Inbound QoS 2 packet ids received and not yet released, with the time received. */
  readonly awaitingRel = new Map<number, number>();
  conn: Attached | null = null;
  /** Seconds. */
  expiryInterval = 0;
  /** Outgoing window: min(client receive maximum, max_inflight). */
  window = 32;
  expiryTimer: unknown = undefined;
  willTimer: unknown = undefined;
  pendingWill: Will | undefined;
  /** When a delayed will is due (ms since the epoch), for the session store. */
  willDueAt: number | undefined;
  /** Set once the session is discarded or expired. */
  ended = false;
  /** The session store holds a record of this session. */
  stored = false;
  /** Tail of this session's store writes (see SessionPersistence). */
  persistChain: Promise<void> = SETTLED;
  /** The store's promise behind `persistChain` (pipelined stores; see SessionPersistence.track). */
  persistLast: Promise<unknown> | undefined = undefined;
  private nextPacketId = 1;

  // Routing scratch state: one publish visits a session once even when several of its filters match.
  routeSeq = 0;
  routeQos: QoS = 0;
  routeRetain = false;
  routeIds: number[] | undefined;
  /** Marks the session as already listed among the persistent sessions a publish wrote to. */
  routeTouched: unknown = undefined;

  constructor(
    readonly clientId: string,
    client: ClientInfo,
  ) {
    this.client = client;
  }

  /** Restore the packet id counter after a restart, past the ids in flight. */
  resumePacketIds(after: number): void {
    this.nextPacketId = after >= 65535 ? 1 : after + 1;
  }

  allocatePacketId(): number {
    let id = this.nextPacketId;
    while (this.inflight.has(id)) id = id === 65535 ? 1 : id + 1;
    this.nextPacketId = id === 65535 ? 1 : id + 1;
    return id;
  }
}
