import { createHash, randomBytes } from 'node:crypto';
import type { BrokerCore, Logger, Message } from '@junction/broker-core';
import type { Msg, NatsConnection, NatsError, Subscription as NatsSubscription } from 'nats';
import { decodeFrame, encodeFrame, FrameError, ORIGIN_BYTES, type Frame } from './frame.js';
import { confirmationPayload } from './confirm-wire.js';
import type { Confirmations } from './confirm.js';
import type { PersistentInterest } from './persistent.js';
import type { ClusterStats } from './stats.js';
import { filterToSubjects, topicToSubject } from './subject.js';

const SUBJECT_CACHE_MAX = 4096;
/** nats-server closes a connection whose protocol line passes `max_control_line` (4 KB by
 * default): longer subjects are kept off NATS (such topics stay local to their node). */
const MAX_SUBJECT = 3800;

/**
 * The message half of the cluster link:
 * - one NATS subscription per subject of the node's filter union (reference-counted), on the
 *   `data` connection, which has echo off and also publishes every local message;
 * - one queue subscription per shared group and filter on the `control` connection (echo on, so
 *   the group's members on this node compete for this node's own publishes too);
 * - messages in and out as binary frames, with a per-origin sequence number that drops the
 *   second copy overlapping subjects (`a/+` and `a/#`) bring;
 * - a QoS 1/2 message that other nodes' persistent sessions match goes out with a reply subject,
 *   and a node that receives one answers with its name once it queued the message (see
 *   `Confirmations`).
 */
export class ClusterRouting {
  private broker: BrokerCore | undefined;
  private readonly origin = randomBytes(ORIGIN_BYTES);
  private seq = 0;
  /** Highest sequence seen per origin incarnation. */
  private readonly lastSeq = new Map<number, number>();
  private readonly plain = new Map<string, { sub: NatsSubscription; refs: number }>();
  private readonly queues = new Map<string, NatsSubscription[]>();
  private readonly subjectCache = new Map<string, string>();
  private readonly nodeName: string;
  /** What the last `forward` waits for (see `forwardedDurable`). */
  private lastConfirm: Promise<void> | undefined;
  /** Connections with subscriptions sent since their last flush (see `synced`). */
  private readonly unflushed = new Set<NatsConnection>();
  /** The flush in progress, which every subscription sent before it waits for. */
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly data: NatsConnection,
    private readonly control: NatsConnection,
    private readonly prefix: string,
    nodeName: string,
    private readonly persistent: PersistentInterest,
    private readonly confirmations: Confirmations,
    private readonly stats: ClusterStats,
    private readonly log: Logger,
  ) {
    this.nodeName = nodeName;
  }

  /** Where messages from other nodes go. */
  attach(broker: BrokerCore): void {
    this.broker = broker;
  }

  /** Stop subscribing and forwarding (the connections are closed by the node). */
  close(): void {
    this.closed = true;
  }

  interestAdded(filter: string, group: string | undefined): void {
    if (this.closed || isSysFilter(filter)) return;
    const subjects = filterToSubjects(this.prefix, filter);
    if (subjects[0]!.length > MAX_SUBJECT) {
      this.log.warn({ filter }, 'cluster_filter_too_long');
      return;
    }
    if (group === undefined) {
      for (const subject of subjects) {
        const had = this.plain.get(subject);
        if (had) {
          had.refs++;
          continue;
        }
        const sub = this.data.subscribe(subject, { callback: (err, m) => this.onRemote(err, m) });
        this.plain.set(subject, { sub, refs: 1 });
        this.stats.subjects++;
        this.unflushed.add(this.data);
      }
      return;
    }
    const key = `${group}\u0000${filter}`;
    if (this.queues.has(key)) return;
    // The queue name names the group and the filter: `$share/g/a/+` and `$share/g/a/#` are two
    // shared subscriptions, each of which gets its own copy.
    const queue = 'q' + createHash('sha256').update(key).digest('hex').slice(0, 32);
    const subs = subjects.map((subject) => this.control.subscribe(subject, { queue, callback: (err, m) => this.onShared(err, m, filter, group) }));
    this.queues.set(key, subs);
    this.stats.queueSubscriptions += subs.length;
    this.unflushed.add(this.control);
  }

  /**
   * Resolves once every subscription sent so far is at this node's NATS server (a flush: its
   * PONG follows our SUB); undefined when none waits for that.
   */
  synced(): Promise<void> | undefined {
    if (this.unflushed.size === 0 || this.closed) return this.flushing;
    const conns = [...this.unflushed];
    this.unflushed.clear();
    const p = Promise.all(conns.map((nc) => nc.flush())).then(() => undefined);
    const done = () => {
      if (this.flushing === p) this.flushing = undefined;
    };
    p.then(done, done);
    this.flushing = p;
    return p;
  }

  interestRemoved(filter: string, group: string | undefined): void {
    if (this.closed || isSysFilter(filter)) return;
    if (group === undefined) {
      for (const subject of filterToSubjects(this.prefix, filter)) {
        const had = this.plain.get(subject);
        if (!had || --had.refs > 0) continue;
        had.sub.unsubscribe();
        this.plain.delete(subject);
        this.stats.subjects--;
      }
      return;
    }
    const key = `${group}\u0000${filter}`;
    const subs = this.queues.get(key);
    if (!subs) return;
    for (const s of subs) s.unsubscribe();
    this.queues.delete(key);
    this.stats.queueSubscriptions -= subs.length;
  }

  forward(msg: Message): number {
    if (this.closed) return 0;
    try {
      const subject = this.subjectOf(msg.topic);
      if (subject.length > MAX_SUBJECT) throw new RangeError('topic too long for a NATS subject');
      const frame = encodeFrame(msg, this.origin, ++this.seq);
      const owners = msg.qos > 0 ? this.persistent.match(msg) : undefined;
      if (owners === undefined) this.data.publish(subject, frame);
      else {
        const { reply, done } = this.confirmations.expect(owners, frame);
        this.lastConfirm = done;
        this.data.publish(subject, frame, { reply });
      }
      this.stats.forwarded++;
      return 1;
    } catch (err) {
      // A topic too long for a NATS subject, a payload over NATS's max_payload, or the
      // connection closing: local delivery stands.
      if (this.stats.forwardFailed++ % 1000 === 0) this.log.warn({ err, topic: msg.topic }, 'cluster_forward_failed');
      return 0;
    }
  }

  /** See `ClusterLink.forwardedDurable`. */
  forwardedDurable(): Promise<void> | undefined {
    const p = this.lastConfirm;
    this.lastConfirm = undefined;
    return p;
  }

  private subjectOf(topic: string): string {
    let s = this.subjectCache.get(topic);
    if (s === undefined) {
      if (this.subjectCache.size >= SUBJECT_CACHE_MAX) this.subjectCache.clear();
      s = topicToSubject(this.prefix, topic);
      this.subjectCache.set(topic, s);
    }
    return s;
  }

  private decode(m: Msg): Frame | undefined {
    try {
      return decodeFrame(m.data);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      if (this.stats.invalidFrames++ % 1000 === 0) this.log.warn({ err, subject: m.subject }, 'cluster_frame_invalid');
      return undefined;
    }
  }

  private onRemote(err: NatsError | null, m: Msg): void {
    if (err || !this.broker) return;
    const f = this.decode(m);
    if (!f) return;
    const last = this.lastSeq.get(f.origin);
    if (last !== undefined && f.seq <= last) {
      this.stats.duplicates++;
      return;
    }
    this.lastSeq.set(f.origin, f.seq);
    this.stats.received++;
    const reply = m.reply;
    if (reply === undefined || reply === '') this.broker.deliverRemote(f.message);
    else this.broker.deliverRemote(f.message, (persistent) => this.confirm(reply, persistent));
  }

  /** Answer a message sent for confirmation, once queued for the persistent sessions listed. */
  private confirm(reply: string, persistent: readonly string[]): void {
    try {
      if (!this.data.isClosed()) this.data.publish(reply, confirmationPayload(reply, this.prefix, this.nodeName, persistent));
    } catch {
      // reconnecting: the publisher parks the message after its timeout
    }
  }

  private onShared(err: NatsError | null, m: Msg, filter: string, group: string): void {
    if (err || !this.broker) return;
    const f = this.decode(m);
    if (!f) return;
    this.stats.sharedReceived++;
    if (!this.broker.deliverShared(f.message, filter, group)) this.stats.sharedMissed++;
  }
}

function isSysFilter(filter: string): boolean {
  return filter === '$SYS' || filter.startsWith('$SYS/');
}
