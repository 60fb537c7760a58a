import { JunctionError, type Logger } from '@junction/broker-core';
import type { Msg, NatsConnection, NatsError, Subscription } from 'nats';
import type { ParkedMessages } from './parking.js';
import { parkedDelivery, type SessionTarget, type TargetsByNode } from './persistent.js';
import type { ClusterStats } from './stats.js';
import { expectationTokens, readConfirmation, replyPrefix } from './confirm-wire.js';

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
 * it has queued it (stored, with a durable store), listing the sessions it gave it to when they
 * are not the ones expected there (see `confirm-wire.ts`): the message is parked for the expected
 * sessions it did not reach (a session on its way to that node, or gone on: a claim or takeover
 * racing with the publisher's view of the registry). A node that does not answer within
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
    this.replyPrefix = replyPrefix(prefix, self);
    this.sub = control.subscribe(`${this.replyPrefix}>`, { callback: (err, m) => this.onReply(err, m) });
    this.sweeper = setInterval(() => this.sweep(), Math.max(20, Math.min(250, Math.floor(timeoutMs / 4))));
    this.sweeper.unref();
  }

  /**
   * `frame` is about to go out for `owners`' sessions: returns the reply subject to send it with
   * and the promise to acknowledge the publisher after (for suspect owners the message is parked
   * at once).
   */
  expect(owners: TargetsByNode, frame: Uint8Array): { reply: string; done: Promise<void> } {
    const parkNow: Promise<void>[] = [];
    for (const [node, targets] of owners) {
      if (!this.suspects.has(node)) continue;
      parkNow.push(this.park(node, targets, frame));
      owners.delete(node);
    }
    // Suspects are asked too: their answer clears the suspicion.
    const id = ++this.next;
    const reply = this.replyPrefix + id + expectationTokens(owners);
    let done: Promise<void>;
    if (owners.size === 0) done = settle(parkNow);
    else {
      const waited = new Promise<void>((resolve, reject) => this.waiting.set(id, { deadline: Date.now() + this.timeoutMs, owners, frame, parks: [], resolve, reject }));
      this.stats.confirmsAwaited++;
      done = parkNow.length === 0 ? waited : settle([...parkNow, waited]);
    }
    // Nobody may wait for it (a will, a rule's republish): a refusal is not an unhandled rejection.
    done.catch(noop);
    return { reply, done };
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
    const rest = m.subject.slice(this.replyPrefix.length);
    const dot = rest.indexOf('.');
    const id = Number(dot < 0 ? rest : rest.slice(0, dot));
    const { node, delivered } = readConfirmation(m.string());
    this.suspects.delete(node);
    const w = this.waiting.get(id);
    const targets = w?.owners.get(node);
    if (!w || !targets) return;
    w.owners.delete(node);
    if (delivered !== undefined) {
      const missed = targets.filter((t) => !delivered.includes(t.clientId));
      if (missed.length > 0) w.parks.push(this.park(node, missed, w.frame));
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

function settle(ps: Promise<unknown>[]): Promise<void> {
  return ps.length === 1 ? ps[0]!.then(noop) : Promise.all(ps).then(noop);
}

function noop(): void {}
