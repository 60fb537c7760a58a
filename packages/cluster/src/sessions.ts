import { JunctionError, type BrokerCore, type Logger, type SessionSnapshot, type StoredDelivery } from '@junction/broker-core';
import { ErrorCode, type Msg, type NatsConnection, type NatsError } from 'nats';
import type { ClusterConfig } from './config.js';
import type { ParkedMessages } from './parking.js';
import type { PersistentInterest } from './persistent.js';
import { heldWith, RegistryConflictError, type ClientRegistry, type RegistryEntry, type RegistryWill } from './registry.js';
import { RestoredSessions } from './restored.js';
import { snapshotFromWire, snapshotToWire, type WireSnapshot } from './snapshot-wire.js';
import type { ClusterStats } from './stats.js';
import { encodeLevel } from './subject.js';
import type { Tasks } from './tasks.js';
import { DeadNodeWills, willToRegistry } from './wills.js';

const NEVER_EXPIRES = 0xffffffff;
/** How long after a failed registry write a record is written again (doubling per failure). */
const RECORD_RETRY_MS = 500;
const RECORD_RETRY_MAX_MS = 30_000;
/** setTimeout's limit (about 24.8 days); a longer expiry waits in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface HandoverRequest {
  clientId: string;
  resume: boolean;
}

/**
 * The session half of the cluster link: who owns each client id (the registry, compare-and-set),
 * moving a session between nodes on a claim, keeping the registry's copy of persistent sessions
 * and of connected clients' wills current, and the wills of dead nodes.
 */
export class ClusterSessions {
  private broker: BrokerCore | undefined;
  private wills: DeadNodeWills | undefined;
  /** Wills of this node's connected clients, mirrored into their registry entries. */
  private readonly liveWills = new Map<string, RegistryWill>();
  private readonly pendingRecords = new Set<string>();
  /** Records to write again after a failed write (see `retryRecord`), and the next delay. */
  private readonly recordRetries = new Map<string, NodeJS.Timeout>();
  private readonly recordBackoff = new Map<string, number>();
  /** Callers of `recorded`, per client id, for the next write of its record. */
  private readonly recordWaiters = new Map<string, (() => void)[]>();
  private recordFlush: NodeJS.Immediate | undefined;
  private readonly unhooks: (() => void)[] = [];
  private readonly restored: RestoredSessions;
  /** Parked messages given to a claim's snapshot, purged once the session holds them. */
  private readonly takenOnClaim = new Map<string, number>();
  /** Client ids whose parked messages are being taken into their session here. */
  private readonly taking = new Map<string, boolean>();
  /** Expiry of the persistent sessions of dead nodes (see `expireOrphans`). */
  private readonly orphanTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly nodeName: string,
    private readonly config: ClusterConfig,
    private readonly control: NatsConnection,
    private readonly registry: ClientRegistry,
    private readonly parked: ParkedMessages,
    private readonly persistent: PersistentInterest,
    private readonly tasks: Tasks,
    private readonly stats: ClusterStats,
    private readonly log: Logger,
  ) {
    control.subscribe(this.handoverSubject(nodeName), { callback: (err, m) => this.onHandover(err, m) });
    this.restored = new RestoredSessions(nodeName, config, control, registry, stats, log);
  }

  /**
   * Start serving `broker`: follow its clients in the registry, take other nodes' hand-backs,
   * and check the sessions it restored from its durable store (the messages of one another node
   * took over meanwhile are handed to that node, see `RestoredSessions`; the others are
   * registered again).
   */
  async attach(broker: BrokerCore): Promise<void> {
    this.broker = broker;
    this.wills = new DeadNodeWills(this.registry, broker, this.tasks, this.stats, this.log);
    const record = (clientId: string) => this.scheduleRecord(clientId);
    this.unhooks.push(
      broker.hooks.on('client.connected', (c, info) => {
        if (info.will) this.liveWills.set(c.clientId, willToRegistry(info.will, c, this.nodeName));
        record(c.clientId);
        // Messages parked while the session was on its way here (after a claim read them, before
        // the session existed) were seen when nothing could take them: take them now, once what
        // the claim took is purged.
        const upTo = this.takenOnClaim.get(c.clientId);
        if (upTo === undefined) this.takeParked(c.clientId);
        else {
          this.takenOnClaim.delete(c.clientId);
          this.taking.set(c.clientId, true);
          void this.tasks.track(
            this.purgeTaken(broker, c.clientId, upTo).finally(() => {
              this.taking.delete(c.clientId);
              this.takeParked(c.clientId);
            }),
          );
        }
      }),
      broker.hooks.on('client.disconnected', (c) => {
        // From here on this node handles the will itself (published, delayed or dropped).
        if (this.liveWills.delete(c.clientId)) record(c.clientId);
      }),
      broker.hooks.on('session.subscribed', (c) => record(c.clientId)),
      broker.hooks.on('session.unsubscribed', (c) => record(c.clientId)),
    );
    this.restored.serve(broker);
    await this.restored.reconcile(broker);
    // Messages parked for sessions this node holds (restored ones, or parked while it was
    // thought gone): into the sessions now, and as they come.
    this.parked.onParked((clientId) => this.takeParked(clientId));
    for (const id of broker.sessionIds()) if (this.parked.has(id)) this.takeParked(id);
  }

  /** Take the messages parked for `clientId` into its session here, if this node holds it. */
  private takeParked(clientId: string): void {
    if (this.closed || !this.parked.has(clientId) || !this.broker?.sessionRecord(clientId)) return;
    if (this.taking.has(clientId)) {
      this.taking.set(clientId, true);
      return;
    }
    this.taking.set(clientId, false);
    const broker = this.broker;
    void this.tasks.track(
      (async () => {
        do {
          this.taking.set(clientId, false);
          const { deliveries, upTo } = await this.parked.take(clientId);
          if (deliveries.length === 0) break;
          // Parked for this node's session: one that no longer subscribes to a message skips it.
          if (!(await broker.appendMessages(clientId, deliveries, { subscribedOnly: true }))) break;
          this.stats.parkedTaken += deliveries.length;
          this.log.info({ clientId, messages: deliveries.length }, 'cluster_parked_taken');
          await this.parked.purge(clientId, upTo);
        } while (this.taking.get(clientId) === true && !this.closed);
      })()
        .catch((err) => this.log.warn({ err, clientId }, 'cluster_parked_take_failed'))
        .finally(() => this.taking.delete(clientId)),
    );
  }

  /** Once the session a claim resumed holds the parked messages (durably), remove them. */
  private async purgeTaken(broker: BrokerCore, clientId: string, upTo: number): Promise<void> {
    try {
      if (await broker.appendMessages(clientId, [])) await this.parked.purge(clientId, upTo);
    } catch (err) {
      this.log.warn({ err, clientId }, 'cluster_parked_purge_failed');
    }
  }

  /** Another node stopped answering (see `NodeLiveness`). */
  nodeDown(node: string): void {
    this.wills?.nodeDown(node);
    this.expireOrphans(node);
  }

  /**
   * The persistent sessions `dead` held live on in the registry (a client may resume them
   * anywhere, and messages for them are parked) until their expiry passes, counted from their
   * disconnect or else from now: then the entry is removed (compare-and-set: one survivor does
   * it) with the messages parked for it, unless the session was resumed meanwhile.
   */
  private expireOrphans(dead: string): void {
    const now = Date.now();
    for (const h of this.persistent.heldBy(dead)) {
      if (h.expiryInterval < NEVER_EXPIRES) this.expireOrphanAt(h.clientId, dead, (h.disconnectedAt ?? now) + h.expiryInterval * 1000);
    }
  }

  private expireOrphanAt(clientId: string, dead: string, at: number): void {
    if (this.closed) return;
    const wait = at - Date.now();
    const t = setTimeout(() => {
      this.orphanTimers.delete(t);
      if (wait > MAX_TIMER_MS) this.expireOrphanAt(clientId, dead, at);
      else void this.tasks.track(this.endOrphan(clientId, dead).catch((err) => this.log.warn({ err, clientId }, 'cluster_dead_node_sessions_failed')));
    }, Math.max(0, Math.min(wait, MAX_TIMER_MS)));
    t.unref();
    this.orphanTimers.add(t);
  }

  private async endOrphan(clientId: string, dead: string): Promise<void> {
    const { entry, revision } = await this.registry.read(clientId);
    if (entry?.node !== dead || !entry.session) return;
    try {
      await this.registry.remove(clientId, revision);
    } catch (err) {
      if (err instanceof RegistryConflictError) return; // resumed, or another survivor removed it
      throw err;
    }
    await this.parked.discard(clientId);
    this.log.info({ clientId, node: dead }, 'cluster_dead_node_session_expired');
  }

  // ---------------------------------------------------------------- claims and handover

  async claim(clientId: string, cleanStart: boolean): Promise<SessionSnapshot | undefined> {
    try {
      return await this.claimInRegistry(clientId, cleanStart);
    } catch (err) {
      if (err instanceof JunctionError) throw err;
      if (this.config.on_registry_unavailable === 'local') {
        this.log.warn({ err, clientId }, 'cluster_registry_unavailable');
        return undefined;
      }
      throw new JunctionError('server_unavailable', `client registry unavailable for ${clientId}`, { cause: err });
    }
  }

  private async claimInRegistry(clientId: string, cleanStart: boolean): Promise<SessionSnapshot | undefined> {
    let moved: SessionSnapshot | undefined;
    const asked = new Set<string>();
    const dead = new Set<string>();
    for (let attempt = 0; attempt < 5; attempt++) {
      const { entry, revision } = await this.registry.read(clientId);
      if (entry && entry.node !== this.nodeName && !asked.has(entry.node)) {
        asked.add(entry.node);
        const r = await this.requestHandover(entry.node, clientId, !cleanStart);
        if (r.reachable) moved = r.snapshot ?? moved;
        else {
          // The owner is gone (killed, partitioned away): resume from the registry's record.
          if (!cleanStart && entry.session) moved = { session: entry.session, deliveries: [] };
          dead.add(entry.node);
          this.log.warn({ clientId, owner: entry.node }, 'cluster_owner_unreachable');
        }
      }
      // The connection lost with a dead owner still has its will: whoever overwrites the entry
      // publishes it (the compare-and-set makes that once), unless a resumed session cancels a
      // delayed one [MQTT-3.1.3-9].
      const will = entry?.will && dead.has(entry.node) && (entry.will.delay <= 0 || cleanStart) ? entry.will : undefined;
      // A clean start begins a new session; otherwise the session (if any) continues here.
      const held = cleanStart ? [this.nodeName] : heldWith(entry?.held, this.nodeName);
      const next: RegistryEntry = { node: this.nodeName, ...(moved && { session: moved.session }), held };
      try {
        await this.tasks.track(this.registry.write(clientId, next, revision));
        if (moved) this.stats.takenOver++;
        if (will) this.wills?.publish(clientId, will, entry!.node);
        if (cleanStart) void this.tasks.track(this.parked.discard(clientId).catch((err) => this.log.warn({ err, clientId }, 'cluster_parked_purge_failed')));
        else if (moved && this.parked.has(clientId)) moved = await this.withParked(clientId, moved);
        return moved;
      } catch (err) {
        if (!(err instanceof RegistryConflictError)) throw err;
      }
    }
    throw new JunctionError('server_unavailable', `client id ${clientId} is being claimed on another node`);
  }

  /** `moved` with the messages parked for it appended (purged once the session holds them). */
  private async withParked(clientId: string, moved: SessionSnapshot): Promise<SessionSnapshot> {
    try {
      const { deliveries, upTo } = await this.parked.take(clientId);
      if (deliveries.length === 0) return moved;
      this.takenOnClaim.set(clientId, upTo);
      this.stats.parkedTaken += deliveries.length;
      this.log.info({ clientId, messages: deliveries.length }, 'cluster_parked_taken');
      let seq = 0;
      const all: StoredDelivery[] = [...moved.deliveries, ...deliveries].map((d) => ({ ...d, seq: ++seq }));
      return { session: moved.session, deliveries: all };
    } catch (err) {
      // They stay parked: taken when this node next hears of a message parked for the client.
      this.log.warn({ err, clientId }, 'cluster_parked_take_failed');
      return moved;
    }
  }

  private async requestHandover(node: string, clientId: string, resume: boolean): Promise<{ reachable: boolean; snapshot?: SessionSnapshot }> {
    const req: HandoverRequest = { clientId, resume };
    try {
      const m = await this.control.request(this.handoverSubject(node), JSON.stringify(req), { timeout: this.config.request_timeout });
      const reply = JSON.parse(m.string()) as { snapshot?: WireSnapshot };
      return { reachable: true, snapshot: reply.snapshot ? snapshotFromWire(reply.snapshot) : undefined };
    } catch (err) {
      const code = (err as NatsError).code;
      if (code === ErrorCode.NoResponders || code === ErrorCode.Timeout) return { reachable: false };
      throw err;
    }
  }

  private onHandover(err: NatsError | null, m: Msg): void {
    if (err) return;
    let reply: { snapshot?: WireSnapshot } = {};
    try {
      const req = JSON.parse(m.string()) as HandoverRequest;
      if (typeof req?.clientId !== 'string') throw new TypeError('clientId missing');
      const snap = this.broker?.handOver(req.clientId, req.resume === true);
      if (snap) reply = { snapshot: snapshotToWire(snap) };
      this.stats.handedOver++;
      this.log.info({ clientId: req.clientId, resume: req.resume === true, messages: snap?.deliveries.length ?? 0 }, 'cluster_session_handed_over');
    } catch (e) {
      this.log.warn({ err: e }, 'cluster_handover_failed');
    }
    m.respond(JSON.stringify(reply));
  }

  private handoverSubject(node: string): string {
    return `${this.config.subject_prefix}.ctl.${encodeLevel(node)}.handover`;
  }

  // ---------------------------------------------------------------- registry upkeep

  released(clientId: string): void {
    if (this.closed) return;
    if (this.parked.has(clientId)) void this.tasks.track(this.parked.discard(clientId).catch((err) => this.log.warn({ err, clientId }, 'cluster_parked_purge_failed')));
    void this.tasks.track(
      (async () => {
        const { entry, revision } = await this.registry.read(clientId);
        if (entry?.node === this.nodeName) await this.registry.remove(clientId, revision);
      })().catch((err) => {
        if (!(err instanceof RegistryConflictError)) this.log.warn({ err, clientId }, 'cluster_registry_release_failed');
      }),
    );
  }

  /** Keep the registry's copy of a session current (coalesced per event-loop turn). */
  private scheduleRecord(clientId: string): void {
    if (this.closed) return;
    this.pendingRecords.add(clientId);
    this.recordFlush ??= setImmediate(() => {
      this.recordFlush = undefined;
      this.flushRecords();
    });
  }

  /**
   * Resolves once the registry's copy of `clientId`'s session is as it is now (or cannot be: the
   * write failed, which is logged, or another node owns the entry).
   */
  recorded(clientId: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.scheduleRecord(clientId);
    return new Promise((resolve) => this.waitForRecord(clientId, [resolve]));
  }

  private waitForRecord(clientId: string, waiters: (() => void)[]): void {
    const list = this.recordWaiters.get(clientId);
    if (list) list.push(...waiters);
    else this.recordWaiters.set(clientId, waiters);
  }

  private flushRecords(): void {
    const ids = [...this.pendingRecords];
    this.pendingRecords.clear();
    for (const id of ids) {
      const waiters = this.recordWaiters.get(id);
      this.recordWaiters.delete(id);
      void this.tasks.track(this.writeRecord(id, waiters));
    }
  }

  private async writeRecord(clientId: string, waiters: (() => void)[] | undefined): Promise<void> {
    let again = false;
    try {
      const snap = this.broker?.sessionRecord(clientId);
      const will = this.liveWills.get(clientId);
      if (snap || will) {
        const { entry, revision } = await this.registry.read(clientId);
        if (entry?.node === this.nodeName) {
          await this.registry.write(clientId, { node: this.nodeName, ...(snap && { session: snap.session }), ...(will && { will }), ...(entry.held && { held: entry.held }) }, revision);
        }
      }
      // Written, or nothing of this node's to write.
      this.recordBackoff.delete(clientId);
    } catch (err) {
      if (err instanceof RegistryConflictError) again = !this.closed;
      else {
        // A registry that did not answer in time (a busy or electing JetStream): write the
        // record again a little later, or the cluster never learns this session's state.
        this.log.warn({ err, clientId }, 'cluster_registry_write_failed');
        this.retryRecord(clientId);
      }
    } finally {
      if (!again) for (const w of waiters ?? []) w();
    }
    if (again) {
      // Changed meanwhile (a will, a claim's hold): write the record again on the new revision.
      if (waiters) this.waitForRecord(clientId, waiters);
      this.scheduleRecord(clientId);
    }
  }

  /** Write `clientId`'s record again after a delay that doubles per failure, up to 30 s. */
  private retryRecord(clientId: string): void {
    if (this.closed || this.recordRetries.has(clientId)) return;
    const delay = this.recordBackoff.get(clientId) ?? RECORD_RETRY_MS;
    this.recordBackoff.set(clientId, Math.min(delay * 2, RECORD_RETRY_MAX_MS));
    const t = setTimeout(() => {
      this.recordRetries.delete(clientId);
      this.scheduleRecord(clientId);
    }, delay);
    t.unref();
    this.recordRetries.set(clientId, t);
  }

  /** Write what is pending, stop following the broker. The caller then settles the tasks. */
  close(): void {
    if (this.recordFlush) clearImmediate(this.recordFlush);
    this.recordFlush = undefined;
    this.flushRecords();
    this.wills?.stop();
    for (const t of this.orphanTimers) clearTimeout(t);
    this.orphanTimers.clear();
    this.restored.stop();
    this.closed = true;
    for (const u of this.unhooks.splice(0)) u();
    for (const t of this.recordRetries.values()) clearTimeout(t);
    this.recordRetries.clear();
    this.recordBackoff.clear();
    // Nothing more is written: nobody waits for it.
    for (const waiters of this.recordWaiters.values()) for (const w of waiters) w();
    this.recordWaiters.clear();
  }
}
