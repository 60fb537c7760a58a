import { JunctionError, type Logger } from '@junction/broker-core';
import { headers, type Msg, type MsgHdrs, type NatsConnection, type NatsError, type Subscription } from 'nats';
import type { ParkedMessages } from './parking.js';
import { parkedDelivery, type SessionTarget, type TargetsByNode } from './persistent.js';
import type { ClusterStats } from './stats.js';
import { encodeLevel } from './subject.js';

/**
 * Header of a message sent for confirmation: per node, the client ids of the persistent sessions
 * the publisher takes it to hold (JSON `{ node: [clientId, ...] }`).
 */
const FOR_HEADER = 'Junction-For';
/** Header of a confirmation: those of its client ids the node does not hold (JSON array). */
const NOT_HELD_HEADER = 'Junction-Not-Held';

interface Waiting {
  readonly deadline: number;
  /** Nodes yet to confirm, with the sessions to park the message for should they not. */
  readonly owners: TargetsByNode;
  readonly frame: Uint8Array;
  /** Parking for the owners that did not confirm. */
  readonly parks: Promise<void>[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The publishing side of "a QoS 1/2 message is acknowledged once it is queued for every
 * persistent session it is for": a message that other nodes' persistent sessions match
 * (`PersistentInterest`) goes out with a reply subject; each node that receives it answers once
 * it has queued it (stored, with a durable store), naming the sessions it was sent for that the
 * node does not hold (yet, or any more: a claim or takeover racing with the publisher's view of
 * the registry) — the message is parked for those. A node that does not answer within
 * `timeoutMs` is taken for gone: the message is parked in the cluster for each of that node's
 * matching sessions (`ParkedMessages`), and the node stays suspect — later messages for it are
 * parked at once — until it answers again (or, for a node the liveness check reported down, until
 * it is heard again). The promise of {@link expect} resolves when every owner confirmed or the
 * message is parked for it.
 */
export class Confirmations {
  private readonly waiting = new Map<number, Waiting>();
  private readonly suspects = new Set<string>();
  private readonly sub: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private readonly replyPrefix: string;
  private next = 0;

  constructor(
    control: NatsConnection,
    prefix: string,
    self: string,
    private readonly timeoutMs: number,
    /** A message that cannot be parked either: refuse it (reject), or acknowledge it anyway. */
    private readonly refuseUnparked: boolean,
    private readonly parked: ParkedMessages,
    private readonly stats: ClusterStats,
    private readonly log: Logger,
  ) {
    this.replyPrefix = `${prefix}.ctl.${encodeLevel(self)}.confirm.`;
    this.sub = control.subscribe(`${this.replyPrefix}*`, { callback: (err, m) => this.onReply(err, m) });
    this.sweeper = setInterval(() => this.sweep(), Math.max(20, Math.min(250, Math.floor(timeoutMs / 4))));
    this.sweeper.unref();
  }

  /**
   * `frame` is about to go out for `owners`' sessions: returns the reply subject to send it with
   * with the headers naming the sessions each owner is expected to hold, and the promise to
   * acknowledge the publisher after (for suspect owners the message is parked at once).
   */
  expect(owners: TargetsByNode, frame: Uint8Array): { reply: string; headers: MsgHdrs; done: Promise<void> } {
    const parkNow: Promise<void>[] = [];
    for (const [node, targets] of owners) {
      if (!this.suspects.has(node)) continue;
      parkNow.push(this.park(node, targets, frame));
      owners.delete(node);
    }
    // Suspects are asked too: their answer clears the suspicion.
    const id = ++this.next;
    const reply = this.replyPrefix + id;
    let done: Promise<void>;
    if (owners.size === 0) done = settle(parkNow);
    else {
      const waited = new Promise<void>((resolve, reject) => this.waiting.set(id, { deadline: Date.now() + this.timeoutMs, owners, frame, parks: [], resolve, reject }));
      this.stats.confirmsAwaited++;
      done = parkNow.length === 0 ? waited : settle([...parkNow, waited]);
    }
    // Nobody may wait for it (a will, a rule's republish): a refusal is not an unhandled rejection.
    done.catch(noop);
    const expected: Record<string, string[]> = {};
    for (const [node, targets] of owners) expected[node] = targets.map((t) => t.clientId);
    const h = headers();
    h.set(FOR_HEADER, JSON.stringify(expected));
    return { reply, headers: h, done };
  }

  /** The liveness check reported `node` down: park what waits for it, and park at once from now on. */
  nodeDown(node: string): void {
    this.suspects.add(node);
    for (const [id, w] of this.waiting) {
      if (w.owners.has(node)) this.giveUp(id, w, node);
    }
  }

  /** `node` was heard (a heartbeat): no longer suspect. */
  heard(node: string): void {
    this.suspects.delete(node);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    for (const w of this.waiting.values()) w.resolve();
    this.waiting.clear();
  }

  private onReply(err: NatsError | null, m: Msg): void {
    if (err) return;
    const id = Number(m.subject.slice(this.replyPrefix.length));
    const node = m.string();
    this.suspects.delete(node);
    const w = this.waiting.get(id);
    const targets = w?.owners.get(node);
    if (!w || !targets) return;
    w.owners.delete(node);
    const notHeld = readIds(m.headers?.get(NOT_HELD_HEADER));
    if (notHeld.length > 0) {
      const park = targets.filter((t) => notHeld.includes(t.clientId));
      if (park.length > 0) w.parks.push(this.park(node, park, w.frame));
    }
    if (w.owners.size === 0) this.finish(id, w);
  }

  private sweep(): void {
    const now = Date.now();
    // Insertion order is deadline order: stop at the first one still in time.
    for (const [id, w] of this.waiting) {
      if (w.deadline > now) break;
      for (const node of [...w.owners.keys()]) {
        if (!this.suspects.has(node)) this.log.warn({ node, timeoutMs: this.timeoutMs }, 'cluster_confirm_timeout');
        this.suspects.add(node);
        this.giveUp(id, w, node);
      }
    }
  }

  /** Park `w`'s message for `node`'s sessions; resolve `w` once nothing else waits. */
  private giveUp(id: number, w: Waiting, node: string): void {
    const targets = w.owners.get(node);
    if (!targets) return;
    w.owners.delete(node);
    w.parks.push(this.park(node, targets, w.frame));
    if (w.owners.size === 0) this.finish(id, w);
  }

  private finish(id: number, w: Waiting): void {
    this.waiting.delete(id);
    if (w.parks.length === 0) w.resolve();
    else settle(w.parks).then(w.resolve, w.reject);
  }

  /**
   * A message that cannot be parked (JetStream unreachable too: a partition) is logged and
   * counted; with `refuseUnparked` the promise rejects (the publisher is not told it is safe),
   * else it resolves (the message is lost for those sessions).
   */
  private park(node: string, targets: readonly SessionTarget[], frame: Uint8Array): Promise<void> {
    const b64 = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('base64');
    return settle(
      targets.map((t) =>
        this.parked.park(t.clientId, parkedDelivery(t, b64)).catch((err: unknown) => {
          this.stats.parkFailed++;
          this.log.warn({ err, clientId: t.clientId, node }, 'cluster_park_failed');
          if (this.refuseUnparked) throw new JunctionError('server_unavailable', `node ${node} did not confirm and the message could not be parked for ${t.clientId}`, { cause: err });
        }),
      ),
    );
  }
}

/** A confirmation's payload (the node's name) and headers. */
export interface Confirmation {
  readonly data: string;
  readonly headers?: MsgHdrs;
}

/**
 * The receiving side: the confirmation to send for message `m` once it is queued here — `self`'s
 * name, with the sessions it was sent for that `holds` denies (checked before it is delivered).
 */
export function confirmationFor(m: Msg, self: string, holds: (clientId: string) => boolean): Confirmation {
  let expected: string[] = [];
  try {
    const all = JSON.parse(m.headers?.get(FOR_HEADER) || '{}') as Record<string, unknown>;
    expected = readIds(all[self]);
  } catch {
    // A malformed header: confirm as a node that holds what it was sent for.
  }
  const notHeld = expected.filter((id) => !holds(id));
  if (notHeld.length === 0) return { data: self };
  const h = headers();
  h.set(NOT_HELD_HEADER, JSON.stringify(notHeld));
  return { data: self, headers: h };
}

/** Client ids from a header value (JSON array) or a parsed one; [] for anything else. */
function readIds(v: unknown): string[] {
  if (typeof v === 'string') {
    if (v === '') return [];
    try {
      v = JSON.parse(v);
    } catch {
      return [];
    }
  }
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function settle(ps: Promise<unknown>[]): Promise<void> {
  return ps.length === 1 ? ps[0]!.then(noop) : Promise.all(ps).then(noop);
}

function noop(): void {}
