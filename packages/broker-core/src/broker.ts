import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from './clock.js';
import { defaultBrokerConfig, type BrokerConfig } from './config.js';
import { isLoopback } from './config-types.js';
import type { Broker, BrokerFeatures, CloseReason, ConnectInfo, DeliverySink, PublishOptions, PublishOutcome, SubscribeResult, Subscription, Will } from './contract.js';
import { AuthenticationError, JunctionError, NotAuthorizedError, QuotaExceededError } from './errors.js';
import { Hooks, type AuthnResult, type AuthzRequest, type ClientInfo } from './hooks.js';
import { silentLogger, type Logger } from './logger.js';
import type { Message, PublishRequest, Publisher, QoS } from './message.js';
import { Metrics } from './metrics.js';
import { Connection, type ConnectionHost } from './session/connection.js';
import { Outbox } from './session/outbox.js';
import { SessionPersistence } from './session/persistence.js';
import { rebuildSession } from './session/restore.js';
import { Session } from './session/session.js';
import type { SessionStore, StoredDelivery } from './store/session-store.js';
import { MemoryRetainedStore } from './store/memory-retained-store.js';
import type { RetainedStore } from './store/retained-store.js';
import { Router } from './router.js';
import { isSysTopic, parseSubscriptionFilter, topicMatches, validateTopicFilter, validateTopicName } from './topic/validate.js';
import { authorize } from './authz.js';
import { EnhancedAuthRegistry } from './enhanced-auth.js';
import type { ClusterLink, SessionSnapshot } from './cluster.js';
import { exportSession, importSession } from './session/transfer.js';

export interface BrokerOptions {
  /** Node name, as in `$SYS/brokers/{node}/…`. Default `junction@127.0.0.1`. */
  nodeName?: string;
  config?: Partial<BrokerConfig>;
  hooks?: Hooks;
  metrics?: Metrics;
  clock?: Clock;
  log?: Logger;
  retained?: RetainedStore;
  /** Durable session state; without one, sessions live in memory only. Call `restore()` after
   * construction to bring back the sessions it holds. */
  sessionStore?: SessionStore;
}

const NEVER_EXPIRES = 0xffffffff;

/**
 * The bus. Owns sessions, the subscription index, retained messages, wills and session expiry;
 * knows no sockets. Adapters talk to it through `open()` and the returned `SessionHandle`.
 */
export class BrokerCore implements Broker, ConnectionHost {
  readonly nodeName: string;
  readonly config: BrokerConfig;
  readonly hooks: Hooks;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly log: Logger;
  readonly retained: RetainedStore;
  readonly startedAt: number;
  readonly enhancedAuth = new EnhancedAuthRegistry();
  private readonly sessions = new Map<string, Session>();
  private readonly outbox: Outbox;
  private readonly persist: SessionPersistence | undefined;
  private readonly router: Router;
  private readonly self: Publisher;
  private connected = 0;
  private closing = false;
  /** Cluster mode only (see `attachCluster`): the link and the local interest per filter/group. */
  private cluster: ClusterLink | undefined;
  private interest: Map<string, number> | undefined;

  private retainedSweep: unknown;

  constructor(opts: BrokerOptions = {}) {
    this.nodeName = opts.nodeName ?? 'junction@127.0.0.1';
    this.config = { ...defaultBrokerConfig, ...opts.config };
    this.hooks = opts.hooks ?? new Hooks();
    this.metrics = opts.metrics ?? new Metrics();
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.retained = opts.retained ?? new MemoryRetainedStore({ maxRetained: this.config.max_retained_messages || undefined });
    this.persist = opts.sessionStore ? new SessionPersistence(opts.sessionStore, this.log) : undefined;
    this.outbox = new Outbox(this.config, this.hooks, this.metrics, this.clock, this.persist);
    this.router = new Router(this.config, this.outbox, (clientId, err) => this.log.error({ clientId, err }, 'delivery_failed'));
    this.self = { clientId: '$broker', protocol: '$internal', node: this.nodeName };
    this.startedAt = this.clock.now();
    this.hooks.onListenerError = (hook, err) => this.log.error({ hook, err }, 'hook_listener_failed');
    this.scheduleRetainedSweep();
  }

  /** Expired retained messages are never delivered; this removes them, freeing their storage. */
  private scheduleRetainedSweep(): void {
    const every = this.config.retained_msg_clear_interval;
    if (!(every > 0) || this.closing) return;
    this.retainedSweep = this.clock.setTimeout(() => {
      this.retainedSweep = undefined;
      this.retained.purgeExpired(this.clock.now()).then(
        (n) => {
          if (n > 0) this.log.debug({ count: n }, 'retained_expired_purged');
          this.scheduleRetainedSweep();
        },
        (err: unknown) => {
          this.log.error({ err }, 'retained_purge_failed');
          this.scheduleRetainedSweep();
        },
      );
    }, every);
  }

  get features(): BrokerFeatures {
    const c = this.config;
    return {
      sharedSubscriptions: c.shared_subscription,
      wildcardSubscriptions: c.wildcard_subscription,
      retainAvailable: c.retain_available,
      maxInflight: c.max_inflight,
      maxAwaitingRel: c.max_awaiting_rel,
    };
  }

  get keepaliveMultiplier(): number {
    return this.config.keepalive_multiplier;
  }

  // ---------------------------------------------------------------- connect

  async open(info: ConnectInfo, sink: DeliverySink): Promise<Connection> {
    return this.openNow(info, sink);
  }

  /**
   * `open()` without a promise while every hook it runs answers synchronously (the usual case:
   * ban checks, built-in authenticators, no cluster): the connect path then costs no microtask
   * turns. The first hook that returns a promise is awaited, and so is the rest from there on.
   */
  openNow(info: ConnectInfo, sink: DeliverySink): Connection | Promise<Connection> {
    if (this.closing) throw new AuthenticationError('server_unavailable', 'broker is shutting down');
    let assigned: string | undefined;
    if (info.clientId === '') {
      assigned = `junction-${randomBytes(8).toString('hex')}`;
      info = { ...info, clientId: assigned };
    }
    const client: ClientInfo = {
      clientId: info.clientId,
      username: info.username,
      protocol: info.protocol,
      peer: info.peer,
      listener: info.listener,
    };
    let authenticated: void | Promise<void>;
    try {
      authenticated = this.authenticate(info, client);
    } catch (err) {
      this.connackRefused(info, err);
      throw err;
    }
    if (authenticated !== undefined) {
      return authenticated.then(
        () => this.attach(info, client, sink, assigned),
        (err: unknown) => {
          this.connackRefused(info, err);
          throw err;
        },
      );
    }
    return this.attach(info, client, sink, assigned);
  }

  private connackRefused(info: ConnectInfo, err: unknown): void {
    if (this.hooks.has('client.connack')) this.hooks.emit('client.connack', info, err instanceof JunctionError ? err.code : 'server_unavailable');
  }

  /** After authentication: claim the client id in the cluster, if any, then attach. */
  private attach(info: ConnectInfo, client: ClientInfo, sink: DeliverySink, assigned: string | undefined): Connection | Promise<Connection> {
    if (this.cluster) {
      // Cluster-wide takeover: the client id may be connected, or its session held, elsewhere.
      return Promise.resolve(this.cluster.claim(info.clientId, info.cleanStart)).then((moved) => {
        if (moved && !info.cleanStart && !this.sessions.has(info.clientId)) this.adoptSession(moved, client);
        return this.attachLocal(info, client, sink, assigned);
      });
    }
    return this.attachLocal(info, client, sink, assigned);
  }

  private attachLocal(info: ConnectInfo, client: ClientInfo, sink: DeliverySink, assigned: string | undefined): Connection {
    const clientId = info.clientId;
    let session = this.sessions.get(clientId);
    if (session?.conn) {
      // [MQTT-3.1.4-3] the existing connection is closed; its will follows the usual rules.
      const old = session.conn as Connection;
      this.hooks.emit('session.takenover', session.client);
      old.kill('takeover');
    }
    session = this.sessions.get(clientId);
    let present = false;
    if (session && (info.cleanStart || session.ended)) {
      this.endSession(session, 'discarded');
      session = undefined;
    }
    if (session) {
      present = true;
      this.cancelTimers(session);
      // [MQTT-3.1.3-9] a new connection before the will delay ends cancels the will.
      session.pendingWill = undefined;
      session.client = client;
    } else {
      session = new Session(clientId, client);
      this.sessions.set(clientId, session);
      this.hooks.emit('session.created', client);
    }
    session.expiryInterval = this.expiryFor(info);
    session.window = Math.min(info.receiveMaximum ?? this.config.max_inflight, this.config.max_inflight);
    const conn = new Connection(this, session, sink, info, present, assigned, this.nodeName);
    session.conn = conn;
    session.pendingWill = info.will;
    this.saveIfPersistent(session);
    conn.setKeepalive(info.keepalive);
    this.connected++;
    this.metrics.counters['client.connected']++;
    if (present) this.hooks.emit('session.resumed', client);
    this.hooks.emit('client.connack', info, 'success');
    this.hooks.emit('client.connected', client, info);
    return conn;
  }

  /**
   * The `client.connect` interceptors, then the authenticators: synchronous
   * (undefined) while each answers synchronously; from the first promise on, a promise. Throws,
   * or rejects, with the refusal.
   */
  private authenticate(info: ConnectInfo, client: ClientInfo): void | Promise<void> {
    const walked = walkHooks(this.hooks.chain('client.connect'), info, (r) => this.connectVerdict(info, r));
    return isThenable(walked) ? walked.then(() => this.afterConnectHooks(info, client)) : this.afterConnectHooks(info, client);
  }

  /** Interceptors may have authenticated the client already; else the authenticators decide. */
  private afterConnectHooks(info: ConnectInfo, client: ClientInfo): void | Promise<void> {
    if (info.authenticated) {
      client.isSuperuser = info.authenticated.isSuperuser;
      client.attrs = info.authenticated.attrs;
      this.authnComplete(info, 'success', info.authenticated.isSuperuser === true, false);
      return;
    }
    return this.runAuthenticators(info, client);
  }

  /** An interceptor's answer: a denial throws; it never ends the walk. */
  private connectVerdict(info: ConnectInfo, r: AuthnResult): false {
    if (r.result === 'deny') {
      this.metrics.counters['client.auth.failure']++;
      throw new AuthenticationError(r.reason, r.message ?? `client ${info.clientId} refused: ${r.reason}`);
    }
    return false;
  }

  /** The `client.authenticate` chain; anonymous rules when all ignore. */
  private runAuthenticators(info: ConnectInfo, client: ClientInfo): void | Promise<void> {
    const walked = walkHooks(this.hooks.chain('client.authenticate'), info, (r) => this.authnVerdict(info, client, r));
    return isThenable(walked) ? walked.then((decided) => this.anonymous(info, decided)) : this.anonymous(info, walked);
  }

  /** No authenticator took a decision: the client is anonymous. */
  private anonymous(info: ConnectInfo, decided: boolean): void {
    if (decided) return;
    const anon = this.config.allow_anonymous;
    if (anon === true || (anon === 'loopback' && isLoopback(peerHost(info.peer)))) {
      this.authnComplete(info, 'success', false, true);
      return;
    }
    this.metrics.counters['client.auth.failure']++;
    this.authnComplete(info, 'not_authorized', false, true);
    throw new AuthenticationError('not_authorized', `anonymous client ${info.clientId} refused from ${info.peer}`);
  }

  /** One authenticator's answer: true when it decided (allowed; a denial throws). */
  private authnVerdict(info: ConnectInfo, client: ClientInfo, r: AuthnResult): boolean {
    if (r.result === 'ignore') return false;
    if (r.result === 'deny') {
      this.metrics.counters['client.auth.failure']++;
      this.authnComplete(info, r.reason, false, false);
      throw new AuthenticationError(r.reason, r.message ?? `client ${info.clientId} refused: ${r.reason}`);
    }
    client.isSuperuser = r.isSuperuser;
    client.attrs = r.attrs;
    this.authnComplete(info, 'success', r.isSuperuser === true, false);
    return true;
  }

  private authnComplete(info: ConnectInfo, reason: string, isSuperuser: boolean, isAnonymous: boolean): void {
    if (this.hooks.has('client.check_authn_complete')) this.hooks.emit('client.check_authn_complete', info, { reason, isSuperuser, isAnonymous });
  }

  private expiryFor(info: ConnectInfo): number {
    let s = info.sessionExpiryInterval;
    if (s === undefined || Number.isNaN(s)) s = info.cleanStart ? 0 : Math.floor(this.config.session_expiry_interval / 1000);
    return this.clampExpiry(s);
  }

  // ---------------------------------------------------------------- session handle operations

  async subscribeFor(conn: Connection, subs: Subscription[]): Promise<SubscribeResult[]> {
    const s = conn.session;
    const results: SubscribeResult[] = [];
    const retainedFor: Subscription[] = [];
    for (const sub of subs) {
      try {
        validateTopicFilter(sub.filter, { maxLevels: this.config.max_topic_levels });
        const { filter, group } = parseSubscriptionFilter(sub.filter);
        if (group !== undefined && !this.config.shared_subscription) {
          throw new JunctionError('shared_subscriptions_not_supported', 'shared subscriptions are disabled');
        }
        if (!this.config.wildcard_subscription && /[+#]/.test(filter)) {
          throw new JunctionError('wildcard_subscriptions_not_supported', 'wildcard subscriptions are disabled');
        }
        const isNewFilter = !s.subscriptions.has(sub.filter);
        if (isNewFilter && this.config.max_subscriptions > 0 && s.subscriptions.size >= this.config.max_subscriptions) {
          throw new QuotaExceededError('quota_exceeded', 'maximum subscriptions reached');
        }
        const verdict = await authorize(this.hooks, { client: s.client, action: 'subscribe', topic: sub.filter, qos: sub.qos }, this.metrics);
        if (!verdict) throw new NotAuthorizedError(`not authorized to subscribe to ${sub.filter}`);
        if (conn.closed) throw new JunctionError('session_closed', 'connection closed');
        const isNew = this.indexAdd(filter, s, sub, group);
        s.subscriptions.set(sub.filter, { sub, filter, group });
        results.push({ ok: true, qos: sub.qos });
        this.hooks.emit('session.subscribed', s.client, sub);
        // [MQTT-3.3.1-10..11] retain handling; shared subscriptions get no retained messages.
        const rh = sub.retainHandling ?? 0;
        if (group === undefined && (rh === 0 || (rh === 1 && isNew))) retainedFor.push(sub);
      } catch (err) {
        results.push({ ok: false, error: asJunctionError(err) });
      }
    }
    this.saveIfPersistent(s);
    if (this.cluster?.subscribed !== undefined && results.some((r) => r.ok)) await this.clusterSubscribed(s);
    if (retainedFor.length > 0) {
      setImmediate(() => this.sendRetained(conn, retainedFor).catch((err) => this.log.error({ clientId: conn.clientId, err }, 'retained_delivery_failed')));
    }
    return results;
  }

  private async sendRetained(conn: Connection, subs: Subscription[]): Promise<void> {
    for (const sub of subs) {
      const msgs = await this.retained.match(sub.filter, this.clock.now());
      if (conn.closed) return;
      for (const msg of msgs) {
        if (sub.noLocal && msg.from.clientId === conn.clientId) continue;
        const qos = Math.min(msg.qos, sub.qos) as QoS;
        // [MQTT-3.3.1-9] retained messages sent for a new subscription keep RETAIN set.
        this.outbox.offer(conn.session, msg, qos, true, sub.subscriptionId ? [sub.subscriptionId] : undefined);
      }
    }
  }

  /** Wait until the cluster knows of `s`'s new subscriptions (see `ClusterLink.subscribed`). */
  private async clusterSubscribed(s: Session): Promise<void> {
    try {
      await this.cluster!.subscribed!(s.client.clientId, s.expiryInterval > 0);
    } catch (err) {
      this.log.warn({ err, clientId: s.client.clientId }, 'cluster_subscribe_sync_failed');
    }
  }

  async unsubscribeFor(conn: Connection, filters: string[]): Promise<boolean[]> {
    const s = conn.session;
    const existed = filters.map((f) => {
      const stored = s.subscriptions.get(f);
      if (!stored) return false;
      s.subscriptions.delete(f);
      this.indexRemove(stored.filter, s, stored.group);
      this.hooks.emit('session.unsubscribed', s.client, f);
      return true;
    });
    this.saveIfPersistent(s);
    return existed;
  }

  /** Write a persistent session's record (subscriptions, expiry, will) to the session store. */
  private saveIfPersistent(s: Session, disconnectedAt?: number): void {
    if (this.persist && s.expiryInterval > 0) this.persist.saveSession(s, disconnectedAt, s.willDueAt);
  }

  publishFor(conn: Connection, req: PublishRequest, opts?: PublishOptions): PublishOutcome | Promise<PublishOutcome> {
    const s = conn.session;
    validateTopicName(req.topic, { maxLevels: this.config.max_topic_levels });
    if (isSysTopic(req.topic)) throw new NotAuthorizedError('clients may not publish to $SYS topics');
    if (req.qos === 2 && req.packetId !== undefined) {
      // [MQTT-4.3.3-9] a repeated QoS 2 PUBLISH before PUBREL is acknowledged, not routed again.
      if (s.awaitingRel.has(req.packetId)) return { matched: 0, duplicate: true };
      this.expireAwaitingRel(s);
      if (s.awaitingRel.size >= this.config.max_awaiting_rel) {
        throw new QuotaExceededError('receive_maximum_exceeded', 'too many QoS 2 messages awaiting PUBREL');
      }
    }
    if (req.retain && !this.config.retain_available) throw new JunctionError('protocol_error', 'retained messages are not available');
    this.countReceived(req.qos);
    if (!s.client.isSuperuser && this.hooks.chain('client.authorize').length > 0) {
      const areq: AuthzRequest = { client: s.client, action: 'publish', topic: req.topic, qos: req.qos, retain: req.retain };
      const verdict = authorize(this.hooks, areq, this.metrics);
      if (verdict instanceof Promise) {
        return verdict.then((ok) => {
          if (!ok) return this.denyPublish(conn, req);
          return this.accept(conn, req, opts?.pipeline === true);
        });
      }
      if (!verdict) return this.denyPublish(conn, req);
    }
    return this.accept(conn, req, opts?.pipeline === true);
  }

  private denyPublish(conn: Connection, req: PublishRequest): never {
    this.metrics.counters['messages.dropped']++;
    this.metrics.counters['messages.dropped.not_authorized']++;
    throw new NotAuthorizedError(`not authorized to publish to ${req.topic}`);
  }

  private accept(conn: Connection, req: PublishRequest, pipeline: boolean): PublishOutcome | Promise<PublishOutcome> {
    const s = conn.session;
    const persistent = this.persist !== undefined && s.expiryInterval > 0;
    if (req.qos === 2 && req.packetId !== undefined) {
      const now = this.clock.now();
      s.awaitingRel.set(req.packetId, now);
      if (persistent) this.persist!.awaitRel(s, req.packetId, now);
    }
    const outcome: PublishOutcome = { matched: this.dispatch(this.toMessage(req, conn.publisher)) };
    // QoS 1/2 are acknowledged once durable: every store write this publish caused is done.
    const forwarded = this.lastForwarded;
    if (req.qos === 0) return outcome;
    if (!this.persist || (this.lastWrites.length === 0 && !(persistent && req.qos === 2) && !req.retain)) {
      if (forwarded === undefined) return outcome;
      if (pipeline) {
        outcome.durable = forwarded;
        return outcome;
      }
      return forwarded.then(() => outcome);
    }
    const waits: Promise<unknown>[] = this.lastWrites.map((t) => this.persist!.durable(t));
    if (persistent && req.qos === 2) waits.push(this.persist!.durable(s));
    if (req.retain) waits.push(this.lastRetainWrite);
    if (forwarded !== undefined) waits.push(forwarded);
    if (pipeline) {
      outcome.durable = waits.length === 1 ? waits[0]!.then(noop) : Promise.all(waits).then(noop);
      return outcome;
    }
    return Promise.all(waits).then(() => outcome);
  }

  private expireAwaitingRel(s: Session): void {
    if (s.awaitingRel.size < this.config.max_awaiting_rel) return;
    const cutoff = this.clock.now() - this.config.await_rel_timeout;
    for (const [id, at] of s.awaitingRel) if (at <= cutoff) s.awaitingRel.delete(id);
  }

  releaseFor(conn: Connection, packetId: number): boolean {
    const s = conn.session;
    const known = s.awaitingRel.delete(packetId);
    if (known && this.persist && s.expiryInterval > 0) this.persist.releasedRel(s, packetId);
    return known;
  }

  ackFor(conn: Connection, packetId: number, kind: 'puback' | 'pubrec' | 'pubcomp'): boolean {
    return this.outbox.ack(conn.session, packetId, kind);
  }

  readyFor(conn: Connection): void {
    const s = conn.session;
    if (s.conn !== conn) return;
    conn.paused = false;
    if (conn.resendPending) {
      conn.resendPending = false;
      this.outbox.resend(s);
    }
    this.outbox.drain(s);
  }

  setExpiryFor(conn: Connection, seconds: number): void {
    const s = conn.session;
    const was = s.expiryInterval;
    s.expiryInterval = this.clampExpiry(seconds);
    if (this.persist && was > 0 && s.expiryInterval === 0) this.persist.deleteSession(s);
    this.saveIfPersistent(s);
  }

  private clampExpiry(seconds: number): number {
    const max = Math.floor(this.config.max_session_expiry_interval / 1000);
    return max > 0 && seconds > max ? max : seconds;
  }

  closeFor(conn: Connection, reason: CloseReason): void {
    const s = conn.session;
    if (s.conn !== conn) return;
    s.conn = null;
    this.connected--;
    this.metrics.counters['client.disconnected']++;
    this.hooks.emit('client.disconnected', s.client, reason);
    // [MQTT-3.1.2-10] a normal DISCONNECT (0x00) deletes the will; everything else publishes it.
    const will = reason === 'normal' ? undefined : s.pendingWill;
    s.pendingWill = undefined;
    if (will) this.scheduleWill(s, will);
    if (s.expiryInterval === 0 || (this.closing && !this.persist)) {
      this.endSession(s, 'clean');
      return;
    }
    // A persistent session outlives the connection: in the store too, across restarts.
    this.saveIfPersistent(s, this.clock.now());
    if (!this.closing) this.armExpiry(s, s.expiryInterval * 1000);
  }

  private armExpiry(s: Session, ms: number): void {
    if (s.expiryInterval === NEVER_EXPIRES) return;
    s.expiryTimer = this.clock.setTimeout(() => this.endSession(s, 'expired'), Math.max(0, ms));
  }

  // ---------------------------------------------------------------- wills and expiry

  private scheduleWill(s: Session, will: Will): void {
    const delay = will.delayInterval ?? 0;
    // [MQTT-3.1.3-9] the will waits for its delay or the end of the session, whichever is first.
    if (delay <= 0 || s.expiryInterval === 0) return this.publishWill(s, will);
    this.armWill(s, will, delay * 1000);
  }

  private armWill(s: Session, will: Will, ms: number): void {
    s.pendingWill = will;
    s.willDueAt = this.clock.now() + ms;
    s.willTimer = this.clock.setTimeout(() => {
      s.willTimer = undefined;
      s.pendingWill = undefined;
      s.willDueAt = undefined;
      this.publishWill(s, will);
      this.saveIfPersistent(s, this.clock.now());
    }, Math.max(0, ms));
  }

  private publishWill(s: Session, will: Will): void {
    // Clients may not publish to $SYS, not even through a will.
    if (isSysTopic(will.topic)) return;
    const from: Publisher = { clientId: s.clientId, username: s.client.username, protocol: s.client.protocol, peer: s.client.peer, node: this.nodeName };
    const req: PublishRequest = { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain, properties: will.properties };
    const go = (ok: boolean) => {
      if (!ok) return this.outbox.drop(this.toMessage(req, from), 'not_authorized');
      this.dispatch(this.toMessage(req, from));
    };
    try {
      if (s.client.isSuperuser || this.hooks.chain('client.authorize').length === 0) return go(true);
      const v = authorize(this.hooks, { client: s.client, action: 'publish', topic: will.topic, qos: will.qos, retain: will.retain }, this.metrics);
      if (v instanceof Promise) v.then(go, (err) => this.log.error({ err, clientId: s.clientId }, 'will_publish_failed'));
      else go(v);
    } catch (err) {
      this.log.error({ err, clientId: s.clientId }, 'will_publish_failed');
    }
  }

  private cancelTimers(s: Session): void {
    if (s.expiryTimer !== undefined) this.clock.clearTimeout(s.expiryTimer);
    if (s.willTimer !== undefined) this.clock.clearTimeout(s.willTimer);
    s.expiryTimer = s.willTimer = undefined;
    s.willDueAt = undefined;
  }

  /** `moved`: the session went to another node of the cluster, which now owns the client id. */
  private endSession(s: Session, why: 'expired' | 'discarded' | 'clean', moved = false): void {
    if (s.ended) return;
    s.ended = true;
    this.cancelTimers(s);
    if (s.pendingWill) {
      const will = s.pendingWill;
      s.pendingWill = undefined;
      this.publishWill(s, will);
    }
    for (const stored of s.subscriptions.values()) this.indexRemove(stored.filter, s, stored.group);
    s.subscriptions.clear();
    for (const p of s.queue.clear()) this.outbox.drop(p.message, 'session_ended', s);
    s.inflight.clear();
    this.persist?.deleteSession(s);
    if (this.sessions.get(s.clientId) === s) this.sessions.delete(s.clientId);
    if (why === 'discarded') this.hooks.emit('session.discarded', s.client);
    this.hooks.emit('session.terminated', s.clientId, why);
    if (!moved) this.cluster?.released(s.clientId);
  }

  // ---------------------------------------------------------------- routing

  /** Publish on behalf of the broker or an integration. */
  publish(req: PublishRequest, from?: Partial<Publisher>): PublishOutcome {
    validateTopicName(req.topic);
    return { matched: this.dispatch(this.toMessage(req, from ? { ...this.self, ...from } : this.self)) };
  }

  private toMessage(req: PublishRequest, from: Publisher): Message {
    const now = this.clock.now();
    const exp = req.properties?.messageExpiryInterval;
    return {
      topic: req.topic,
      payload: req.payload,
      qos: req.qos,
      retain: req.retain,
      properties: req.properties,
      from,
      timestamp: now,
      expiresAt: exp !== undefined && exp > 0 ? now + exp * 1000 : undefined,
    };
  }

  private dispatch(msg: Message): number {
    if (this.hooks.chain('message.publish').length > 0) {
      for (const fn of this.hooks.chain('message.publish')) {
        const next = fn(msg);
        if (next === null) {
          this.outbox.drop(msg, 'denied_by_hook');
          return 0;
        }
        msg = next;
      }
    }
    this.metrics.counters['messages.publish']++;
    if (msg.retain) this.storeRetained(msg);
    let matched = this.router.route(msg);
    this.lastForwarded = undefined;
    if (this.cluster !== undefined && !isSysTopic(msg.topic)) {
      matched += this.cluster.forward(msg);
      if (msg.qos > 0) this.lastForwarded = this.cluster.forwardedDurable?.();
    }
    if (matched === 0) this.outbox.drop(msg, 'no_subscribers');
    if (this.persist) this.lastWrites = this.outbox.takeTouched();
    return matched;
  }

  /** Persistent sessions the last dispatch wrote to (empty without a session store). */
  private lastWrites: Session[] = [];

  /** The cluster's promise for the last dispatch (see `ClusterLink.forwardedDurable`). */
  private lastForwarded: Promise<void> | undefined;

  /** The last retained write, which a durable QoS 1/2 retained publish waits for. */
  private lastRetainWrite: Promise<unknown> = Promise.resolve();

  private storeRetained(msg: Message): void {
    // [MQTT-3.3.1-6] an empty retained payload removes the retained message.
    let op: Promise<unknown>;
    if (msg.payload.length === 0) {
      op = this.retained.delete(msg.topic);
    } else {
      this.metrics.counters['messages.retained']++;
      op = this.retained.put(msg);
    }
    this.lastRetainWrite = op.catch((err) => this.log.warn({ err, topic: msg.topic }, 'retained_store_failed'));
  }

  private countReceived(qos: QoS): void {
    const c = this.metrics.counters;
    c['messages.received']++;
    if (qos === 0) c['messages.qos0.received']++;
    else if (qos === 1) c['messages.qos1.received']++;
    else c['messages.qos2.received']++;
  }

  // ---------------------------------------------------------------- cluster seam

  /**
   * Join a cluster: from now on the link hears about every change of this node's filter union and
   * every local publish, and claims client ids on connect (see `ClusterLink`). Returns a function
   * that detaches it. Without a link none of this runs.
   */
  attachCluster(link: ClusterLink): () => void {
    if (this.cluster) throw new JunctionError('server_unavailable', 'a cluster link is already attached');
    this.cluster = link;
    this.interest = new Map();
    this.router.remoteShared = true;
    for (const s of this.sessions.values()) for (const st of s.subscriptions.values()) this.countInterest(st.filter, st.group, 1);
    return () => {
      if (this.cluster !== link) return;
      this.cluster = undefined;
      this.interest = undefined;
      this.router.remoteShared = false;
    };
  }

  /** A message from another node: to the local non-shared subscribers only (not forwarded, not
   * stored as retained). Returns the number of local sessions it reached. */
  deliverRemote(msg: Message): number;
  /** …and call `stored` once every session write it caused is durable (at once without a store;
   * never when a write failed), with the client ids of the persistent sessions it was given to. */
  deliverRemote(msg: Message, stored: (persistent: readonly string[]) => void): number;
  deliverRemote(msg: Message, stored?: (persistent: readonly string[]) => void): number {
    const persistent: string[] | undefined = stored === undefined ? undefined : [];
    const n = this.router.route(msg, persistent);
    if (!this.persist) {
      stored?.(persistent!);
      return n;
    }
    const touched = this.outbox.takeTouched();
    if (stored === undefined) return n;
    const done = () => stored(persistent!);
    if (touched.length === 0) done();
    else if (touched.length === 1) this.persist.durable(touched[0]!).then(done, noop);
    else Promise.all(touched.map((t) => this.persist!.durable(t))).then(done, noop);
    return n;
  }

  /** A message the cluster gave this node for the shared group `group` on the plain `filter`:
   * to one local member. Returns false when the group has no member here. */
  deliverShared(msg: Message, filter: string, group: string): boolean {
    const ok = this.router.routeShared(msg, filter, group);
    if (this.persist) this.outbox.takeTouched();
    return ok;
  }

  /**
   * Another node claimed `clientId`: disconnect it here with `takeover` (0x8E) and give up its
   * session. With `resume`, returns the session (subscriptions, queued and in-flight messages)
   * for the new node, and its delayed will is cancelled; otherwise the session ends here as
   * `discarded` (a pending will is published).
   */
  handOver(clientId: string, resume: boolean): SessionSnapshot | undefined {
    const s = this.sessions.get(clientId);
    if (!s) return undefined;
    const conn = s.conn as Connection | null;
    if (conn) {
      this.hooks.emit('session.takenover', s.client);
      conn.kill('takeover');
    }
    if (s.ended) return undefined;
    let snap: SessionSnapshot | undefined;
    if (resume) {
      this.cancelTimers(s);
      s.pendingWill = undefined;
      snap = exportSession(s, true);
      s.queue.clear();
      s.inflight.clear();
    }
    this.endSession(s, 'discarded', true);
    return snap;
  }

  /** Client ids of the sessions this node holds (connected or not). */
  sessionIds(): string[] {
    return [...this.sessions.keys()];
  }

  /** The record of a live persistent session (subscriptions, expiry), for a cluster registry;
   * `withDeliveries`: also a copy of its in-flight and queued messages, in order (kept here). */
  sessionRecord(clientId: string, withDeliveries = false): SessionSnapshot | undefined {
    const s = this.sessions.get(clientId);
    if (!s || s.ended || s.expiryInterval === 0) return undefined;
    return exportSession(s, withDeliveries);
  }

  /**
   * Messages another node kept for a session this node now holds (a node restarted with its
   * durable store hands back what it had queued for a session that moved meanwhile): offered to
   * the session in order as new deliveries, sent at once when it is connected, else queued.
   * Expired ones are dropped, and so are QoS 2 ones the client already acknowledged with PUBREC.
   * Resolves false when this node holds no such session, true once they are queued (and durable,
   * with a session store). `subscribedOnly`: leave out messages none of the session's current
   * subscriptions match (it unsubscribed since they were kept for it).
   */
  async appendMessages(clientId: string, deliveries: readonly StoredDelivery[], opts: { subscribedOnly?: boolean } = {}): Promise<boolean> {
    const s = this.sessions.get(clientId);
    if (!s || s.ended) return false;
    const now = this.clock.now();
    for (const d of deliveries) {
      if (d.released) continue;
      if (opts.subscribedOnly && !subscribedTo(s, d.message.topic)) continue;
      if (d.message.expiresAt !== undefined && d.message.expiresAt <= now) this.outbox.drop(d.message, 'expired', s);
      else this.outbox.offer(s, d.message, d.qos, d.retain, d.subscriptionIds);
    }
    if (this.persist) {
      this.outbox.takeTouched();
      await this.persist.durable(s);
    }
    return true;
  }

  private adoptSession(snap: SessionSnapshot, client: ClientInfo): void {
    const s = importSession(snap, client);
    this.sessions.set(s.clientId, s);
    for (const sub of snap.session.subscriptions) {
      const { filter, group } = parseSubscriptionFilter(sub.filter);
      this.indexAdd(filter, s, sub, group);
      s.subscriptions.set(sub.filter, { sub, filter, group });
    }
  }

  private indexAdd(filter: string, s: Session, sub: Subscription, group: string | undefined): boolean {
    const isNew = this.router.index.add(filter, s, sub, group);
    if (isNew && this.interest) this.countInterest(filter, group, 1);
    return isNew;
  }

  private indexRemove(filter: string, s: Session, group: string | undefined): void {
    if (this.router.index.remove(filter, s, group) && this.interest) this.countInterest(filter, group, -1);
  }

  /** Reference-count local subscribers per filter (and shared group); tell the link on 0 <-> 1. */
  private countInterest(filter: string, group: string | undefined, delta: 1 | -1): void {
    const key = group === undefined ? filter : `${group}\u0000${filter}`;
    const n = (this.interest!.get(key) ?? 0) + delta;
    if (n <= 0) this.interest!.delete(key);
    else this.interest!.set(key, n);
    if (delta === 1 && n === 1) this.cluster!.interestAdded(filter, group);
    else if (delta === -1 && n === 0) this.cluster!.interestRemoved(filter, group);
  }

  // ---------------------------------------------------------------- introspection and lifecycle

  stats(): { connections: number; sessions: number; subscriptions: number; retained: number } {
    const retained = this.retained instanceof MemoryRetainedStore ? this.retained.countSync() : -1;
    return { connections: this.connected, sessions: this.sessions.size, subscriptions: this.router.index.size, retained };
  }

  /** Look up a live session's client info (for admin and tests). */
  session(clientId: string): { connected: boolean; subscriptions: string[]; queued: number; inflight: number } | undefined {
    const s = this.sessions.get(clientId);
    if (!s) return undefined;
    return { connected: s.conn !== null, subscriptions: [...s.subscriptions.keys()], queued: s.queue.length, inflight: s.inflight.size };
  }

  /** Disconnect a client: an administrative kick, a ban, an expired token. Returns false if it
   * is not connected. */
  kick(clientId: string, reason: 'kicked' | 'banned' | 'not_authorized' = 'kicked'): boolean {
    const conn = this.sessions.get(clientId)?.conn as Connection | undefined;
    if (!conn) return false;
    conn.kill(reason);
    return true;
  }

  /** Close every connection with `server_shutdown` and end all sessions' timers. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.retainedSweep !== undefined) this.clock.clearTimeout(this.retainedSweep);
    for (const s of [...this.sessions.values()]) {
      (s.conn as Connection | null)?.kill('server_shutdown');
      this.cancelTimers(s);
    }
    if (this.persist) await Promise.all([...this.sessions.values()].map((s) => this.persist!.durable(s)));
    await this.retained.close();
  }

  /**
   * Bring back the sessions of the session store after a restart: offline, subscribed, with their
   * queued and in-flight messages, inbound QoS 2 state, expiry and delayed wills. Sessions whose
   * expiry passed while the broker was down are ended (their delayed will is published).
   */
  async restore(): Promise<number> {
    if (!this.persist) return 0;
    const store = this.persist.store;
    const now = this.clock.now();
    let n = 0;
    for await (const stored of store.list()) {
      if (this.sessions.has(stored.clientId)) continue;
      const s = rebuildSession(stored, await store.deliveries(stored.clientId), await store.awaitingRel(stored.clientId), this.nodeName);
      this.sessions.set(s.clientId, s);
      for (const sub of stored.subscriptions) {
        const { filter, group } = parseSubscriptionFilter(sub.filter);
        this.indexAdd(filter, s, sub, group);
        s.subscriptions.set(sub.filter, { sub, filter, group });
      }
      n++;
      const since = stored.disconnectedAt ?? now;
      if (stored.pendingWill) {
        const { dueAt, ...will } = stored.pendingWill;
        this.armWill(s, will, dueAt - now);
      }
      if (stored.expiryInterval !== NEVER_EXPIRES) this.armExpiry(s, since + stored.expiryInterval * 1000 - now);
    }
    this.log.info({ sessions: n }, 'sessions_restored');
    return n;
  }
}

/** The host part of `host:port`, `[v6]:port` or a bare host. */
function peerHost(peer: string): string {
  if (peer.startsWith('[')) return peer.slice(1, peer.indexOf(']'));
  const i = peer.lastIndexOf(':');
  return i > 0 ? peer.slice(0, i) : peer;
}

function asJunctionError(err: unknown): JunctionError {
  return err instanceof JunctionError ? err : new JunctionError('server_unavailable', String((err as Error)?.message ?? err), { cause: err });
}

function noop(): void {}

function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}

/**
 * Calls `hooks` from the `i`-th on with `arg`, in order, without a promise while each answers
 * synchronously; from the first thenable answer on, goes on once it settles. `decided(answer)`
 * true ends the walk. Returns whether an answer decided (a promise of it once one was async);
 * throws, or rejects, with what a hook or `decided` throws.
 */
function walkHooks<A, R>(hooks: readonly ((arg: A) => R | PromiseLike<R>)[], arg: A, decided: (answer: R) => boolean, i = 0): boolean | Promise<boolean> {
  for (; i < hooks.length; i++) {
    const r = hooks[i]!(arg);
    if (isThenable(r)) {
      const next = i + 1;
      return Promise.resolve(r).then((v) => decided(v) || walkHooks(hooks, arg, decided, next));
    }
    if (decided(r)) return true;
  }
  return false;
}

/** Whether one of the session's plain subscriptions matches `topic`. */
function subscribedTo(s: Session, topic: string): boolean {
  for (const st of s.subscriptions.values()) if (st.group === undefined && topicMatches(st.filter, topic)) return true;
  return false;
}
