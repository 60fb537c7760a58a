import type { Logger, StoredDelivery } from '@junction/broker-core';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { ClusterConfig } from './config.js';
import { clientIdOfKey, keyOf } from './registry.js';
import { deliveriesFromWire, type WireDelivery } from './snapshot-wire.js';
import type { ClusterStats } from './stats.js';

/** Messages read from the stream per fetch while taking a session's parked messages. */
const FETCH_BATCH = 512;

/** What {@link ParkedMessages.take} read: the messages in order, and the last stream sequence. */
export interface Taken {
  readonly deliveries: StoredDelivery[];
  readonly upTo: number;
}

/**
 * Messages for persistent sessions whose node is gone, kept in the cluster until the session
 * resumes somewhere: a JetStream stream `{prefix}_parked`, one subject per client id
 * (`{prefix}.parked.{base64url client id}`), each message a JSON {@link WireDelivery}.
 *
 * A node parks a QoS 1/2 message when the node holding a matching persistent session does not
 * confirm it (see `Confirmations`); the node that resumes the session takes the parked messages
 * into it (`take`, then `purge` once they are queued there). Every node also sees each parked
 * message on a plain subscription, so it knows which client ids have some (`has`) and can take
 * them at once when it holds the session (`onParked`).
 */
export class ParkedMessages {
  private readonly known = new Set<string>();
  private readonly sub: Subscription;
  private onParkedFn: ((clientId: string) => void) | undefined;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly prefix: string,
    control: NatsConnection,
    private readonly stats: ClusterStats,
    private readonly log: Logger,
  ) {
    this.sub = control.subscribe(`${prefix}.parked.>`, { callback: (err, m) => this.seen(err, m) });
  }

  /** Create the stream (a core node) or bind to it (a replicant), and learn which client ids
   * have parked messages. */
  static async open(control: NatsConnection, js: JetStreamClient, config: ClusterConfig, stats: ClusterStats, log: Logger): Promise<ParkedMessages> {
    const jsm = await js.jetstreamManager();
    const stream = `${config.subject_prefix}_parked`;
    const subjects = [`${config.subject_prefix}.parked.>`];
    if (config.role === 'core') {
      const cfg = {
        name: stream,
        subjects,
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        num_replicas: config.kv_replicas,
        max_age: config.parked_max_age * 1_000_000,
      };
      try {
        await jsm.streams.add(cfg);
      } catch (err) {
        // Another core node created it first (or an earlier run did): keep its max age current.
        if (!isExisting(err)) throw err;
        const info = await jsm.streams.info(stream);
        if (info.config.max_age !== cfg.max_age) await jsm.streams.update(stream, { max_age: cfg.max_age });
      }
    }
    const parked = new ParkedMessages(js, jsm, stream, config.subject_prefix, control, stats, log);
    const info = await jsm.streams.info(stream, { subjects_filter: '>' });
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const id = parked.clientIdOf(subject);
      if (id !== undefined) parked.known.add(id);
    }
    return parked;
  }

  /** Called with a client id each time a message is parked for it (on any node). */
  onParked(fn: (clientId: string) => void): void {
    this.onParkedFn = fn;
  }

  /** Whether messages may be parked for `clientId` (false: none seen since this node started). */
  has(clientId: string): boolean {
    return this.known.has(clientId);
  }

  /** Keep `delivery` for `clientId`; resolves once the stream stored it. */
  async park(clientId: string, delivery: WireDelivery): Promise<void> {
    await this.js.publish(this.subjectOf(clientId), JSON.stringify(delivery));
    this.stats.parked++;
  }

  /** Read every message parked for `clientId`, in order, without removing them. */
  async take(clientId: string): Promise<Taken> {
    const subject = this.subjectOf(clientId);
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: subject });
    const count = info.state.subjects?.[subject] ?? 0;
    if (count === 0) {
      this.known.delete(clientId);
      return { deliveries: [], upTo: 0 };
    }
    // An ephemeral pull consumer of its own (nats-server 2.9 has no multi-filter ordered ones).
    const ci = await this.jsm.consumers.add(this.stream, {
      filter_subject: subject,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      inactive_threshold: 60_000_000_000,
      mem_storage: true,
    });
    const consumer = await this.js.consumers.get(this.stream, ci.name);
    const wire: WireDelivery[] = [];
    let upTo = 0;
    for (let pending = count; pending > 0; ) {
      const batch = await consumer.fetch({ max_messages: Math.min(FETCH_BATCH, pending), expires: 2000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        upTo = m.seq;
        pending = m.info.pending;
        try {
          wire.push(JSON.parse(m.string()) as WireDelivery);
        } catch (err) {
          this.log.warn({ err, clientId, seq: m.seq }, 'cluster_parked_invalid');
        }
        if (pending === 0) break;
      }
      if (got === 0) break;
    }
    await consumer.delete().catch(() => {});
    return { deliveries: deliveriesFromWire(wire), upTo };
  }

  /** Remove what `take` read for `clientId` (messages parked since stay). */
  async purge(clientId: string, upTo: number): Promise<void> {
    if (upTo === 0) return;
    const subject = this.subjectOf(clientId);
    await this.jsm.streams.purge(this.stream, { filter: subject, seq: upTo + 1 });
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: subject });
    if (!info.state.subjects?.[subject]) this.known.delete(clientId);
  }

  /** Remove every message parked for `clientId` (its session ended or started clean). */
  async discard(clientId: string): Promise<void> {
    if (!this.known.delete(clientId)) return;
    await this.jsm.streams.purge(this.stream, { filter: this.subjectOf(clientId) });
  }

  close(): void {
    this.sub.unsubscribe();
  }

  private seen(err: Error | null, m: Msg): void {
    if (err) return;
    const id = this.clientIdOf(m.subject);
    if (id === undefined) return;
    this.known.add(id);
    this.onParkedFn?.(id);
  }

  private subjectOf(clientId: string): string {
    return `${this.prefix}.parked.${keyOf(clientId)}`;
  }

  private clientIdOf(subject: string): string | undefined {
    const head = `${this.prefix}.parked.`;
    return subject.startsWith(head) ? clientIdOfKey(subject.slice(head.length)) : undefined;
  }
}

/** JetStream error 10058: a stream of that name with another configuration exists. */
function isExisting(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10058 || /already in use/i.test(String(e?.message ?? ''));
}
