import type { BrokerCore, Logger, SessionSnapshot, StoredDelivery } from '@junction/broker-core';
import { ErrorCode, type Msg, type NatsConnection, type NatsError, type Subscription } from 'nats';
import type { ClusterConfig } from './config.js';
import { heldWith, RegistryConflictError, type ClientRegistry, type RegistryEntry } from './registry.js';
import { deliveriesFromWire, deliveryToWire, type WireDelivery } from './snapshot-wire.js';
import type { ClusterStats } from './stats.js';
import { encodeLevel } from './subject.js';

/** A node's request to the owner of a session: append these messages to its queue, in order. */
interface HandBackRequest {
  clientId: string;
  deliveries: WireDelivery[];
}

/** `held`: the owner holds the session and the messages are queued there (durable, when it has
 * a store); `error`: it could not take them. */
interface HandBackReply {
  held?: boolean;
  error?: string;
}

type HandBackResult = 'appended' | 'not_held' | 'unreachable';

/** Per hand-back request: well under NATS' default max_payload (1 MB). */
const CHUNK_BYTES = 256 * 1024;
const ATTEMPTS = 5;

interface Counts {
  sessions: number;
  registered: number;
  handedBack: number;
  messages: number;
  dropped: number;
  kept: number;
}

/**
 * The sessions a node restored from its durable store, against the cluster registry, and the
 * hand-back of their messages between nodes.
 *
 * A node killed while it held persistent sessions comes back with their queued and in-flight
 * messages (acknowledged to their publishers) in its store, while their clients may have resumed
 * the sessions on other nodes from the registry's record. At start, before any client connects,
 * it checks each restored session: still registered to it, or never registered, it registers it
 * again; moved to a node that continued it (the registry's `held` names this node), it sends the
 * messages to that node (`{prefix}.ctl.{node}.append`, request/reply, in order, in chunks), which
 * appends them to the session's queue; only once every chunk is acknowledged does it drop its
 * copy. A session that ended meanwhile (entry deleted, or the owner no longer holds it) or that
 * a clean start replaced is dropped with its messages. An owner that does not answer is taken
 * for dead: the node takes the session back (a later claim moves it, messages included).
 */
export class RestoredSessions {
  private sub: Subscription | undefined;
  private broker: BrokerCore | undefined;

  constructor(
    private readonly nodeName: string,
    private readonly config: ClusterConfig,
    private readonly control: NatsConnection,
    private readonly registry: ClientRegistry,
    private readonly stats: ClusterStats,
    private readonly log: Logger,
  ) {}

  /** Take other nodes' hand-backs for the sessions `broker` holds. */
  serve(broker: BrokerCore): void {
    this.broker = broker;
    this.sub = this.control.subscribe(this.subject(this.nodeName), { callback: (err, m) => this.onHandBack(err, m) });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
  }

  // ---------------------------------------------------------------- the restored node

  /** Check every session `broker` restored (see the class comment). Call before clients connect. */
  async reconcile(broker: BrokerCore): Promise<void> {
    const ids = broker.sessionIds();
    const counts: Counts = { sessions: ids.length, registered: 0, handedBack: 0, messages: 0, dropped: 0, kept: 0 };
    const check = (clientId: string) =>
      this.check(broker, clientId, counts).catch((err) => {
        counts.kept++;
        this.log.warn({ err, clientId }, 'cluster_restored_session_unchecked');
      });
    for (let i = 0; i < ids.length; i += 64) await Promise.all(ids.slice(i, i + 64).map(check));
    this.log.info({ ...counts }, 'cluster_restored_sessions_checked');
  }

  private async check(broker: BrokerCore, clientId: string, counts: Counts): Promise<void> {
    const me = this.nodeName;
    const refused = new Set<string>();
    const own = async (snap: SessionSnapshot, entry: RegistryEntry | undefined, revision: number): Promise<boolean> => {
      try {
        await this.registry.write(clientId, { node: me, session: snap.session, held: heldWith(entry?.held, me) }, revision);
        counts.registered++;
        return true;
      } catch (err) {
        if (err instanceof RegistryConflictError) return false;
        throw err;
      }
    };
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      // Read again on every attempt: a claim from another node may have moved it meanwhile.
      const snap = broker.session(clientId)?.connected ? undefined : broker.sessionRecord(clientId, true);
      if (!snap) return;
      const { entry, revision } = await this.registry.read(clientId);
      if (!entry && revision > 0) return this.drop(broker, clientId, counts, 'ended');
      if (!entry || entry.node === me) {
        if (await own(snap, entry, revision)) return;
        continue;
      }
      // Another node owns the client id. Unless it continued this node's session, the client
      // started a new one (clean start) and these messages belong to none.
      if (!entry.held?.includes(me)) return this.drop(broker, clientId, counts, 'replaced');
      if (refused.has(entry.node)) return this.drop(broker, clientId, counts, 'ended');
      if (snap.deliveries.length === 0) return this.drop(broker, clientId, counts, 'moved');
      const r = await this.handBack(entry.node, clientId, snap.deliveries);
      if (r === 'appended') {
        counts.handedBack++;
        counts.messages += snap.deliveries.length;
        this.stats.messagesHandedBack += snap.deliveries.length;
        this.log.info({ clientId, node: entry.node, messages: snap.deliveries.length }, 'cluster_restored_messages_handed_back');
        broker.handOver(clientId, true);
        return;
      }
      if (r === 'not_held') {
        refused.add(entry.node);
        continue;
      }
      // The owner is dead too. Its entry's will is for the survivors to publish (see
      // DeadNodeWills); otherwise this node takes the session back, messages and all.
      this.log.warn({ clientId, owner: entry.node }, 'cluster_owner_unreachable');
      if (entry.will) {
        counts.kept++;
        return;
      }
      if (await own(snap, entry, revision)) return;
    }
    counts.kept++;
    this.log.warn({ clientId }, 'cluster_restored_session_unchecked');
  }

  /** Drop a restored session here without its will (the client reconnected elsewhere since). */
  private drop(broker: BrokerCore, clientId: string, counts: Counts, why: 'ended' | 'replaced' | 'moved'): void {
    const snap = broker.handOver(clientId, true);
    counts.dropped++;
    this.log.info({ clientId, why, messages: snap?.deliveries.length ?? 0 }, 'cluster_restored_session_dropped');
  }

  /** Send `deliveries` to `node` in order, chunk after chunk, each acknowledged. */
  private async handBack(node: string, clientId: string, deliveries: readonly StoredDelivery[]): Promise<HandBackResult> {
    const maxPayload = this.control.info?.max_payload ?? 1024 * 1024;
    const limit = Math.min(CHUNK_BYTES, Math.floor(maxPayload / 2));
    let chunk: WireDelivery[] = [];
    let size = 0;
    const send = async (): Promise<HandBackResult> => {
      const r = await this.request(node, { clientId, deliveries: chunk });
      chunk = [];
      size = 0;
      return r;
    };
    for (const d of deliveries) {
      const w = deliveryToWire(d);
      if (w.frame.length + 1024 > maxPayload) {
        // Larger than NATS takes in one request: lost, and said so.
        this.log.warn({ clientId, topic: d.message.topic, bytes: w.frame.length }, 'cluster_restored_message_too_large');
        continue;
      }
      if (chunk.length > 0 && size + w.frame.length > limit) {
        const r = await send();
        if (r !== 'appended') return r;
      }
      chunk.push(w);
      size += w.frame.length + 64;
    }
    return chunk.length > 0 ? send() : 'appended';
  }

  private async request(node: string, req: HandBackRequest): Promise<HandBackResult> {
    let m: Msg;
    try {
      m = await this.control.request(this.subject(node), JSON.stringify(req), { timeout: this.config.request_timeout });
    } catch (err) {
      const code = (err as NatsError).code;
      if (code === ErrorCode.NoResponders || code === ErrorCode.Timeout) return 'unreachable';
      throw err;
    }
    const reply = JSON.parse(m.string()) as HandBackReply;
    if (reply.error !== undefined) throw new Error(`node ${node} refused the messages of ${req.clientId}: ${reply.error}`);
    return reply.held === true ? 'appended' : 'not_held';
  }

  // ---------------------------------------------------------------- the owner

  private onHandBack(err: NatsError | null, m: Msg): void {
    if (err) return;
    const respond = (r: HandBackReply): void => void m.respond(JSON.stringify(r));
    let clientId: string;
    let deliveries: StoredDelivery[];
    try {
      const req = JSON.parse(m.string()) as HandBackRequest;
      if (typeof req?.clientId !== 'string') throw new TypeError('clientId missing');
      clientId = req.clientId;
      deliveries = deliveriesFromWire(req.deliveries);
    } catch (e) {
      this.log.warn({ err: e }, 'cluster_hand_back_invalid');
      respond({ error: String((e as Error)?.message ?? e) });
      return;
    }
    const broker = this.broker;
    if (!broker) return respond({ held: false });
    broker.appendMessages(clientId, deliveries).then(
      (held) => {
        if (held) this.stats.messagesTakenIn += deliveries.length;
        this.log.info({ clientId, held, messages: deliveries.length }, 'cluster_messages_taken_in');
        respond({ held });
      },
      (e: unknown) => {
        this.log.warn({ err: e, clientId }, 'cluster_hand_back_failed');
        respond({ error: String((e as Error)?.message ?? e) });
      },
    );
  }

  private subject(node: string): string {
    return `${this.config.subject_prefix}.ctl.${encodeLevel(node)}.append`;
  }
}
