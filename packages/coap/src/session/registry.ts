/**
 * The gateway's clients. Connectionless mode: every peer (and client id it names) is a client of
 * its own, opened on its first request and closed after `idle_timeout` without requests once it
 * observes nothing. Connection mode: `POST /mqtt/connection` opens a client under its client id
 * and issues a token; the session's keepalive is the heartbeat (EMQX `heartbeat`).
 * Credentials go through the broker's authentication chain in both modes.
 */
import { randomInt } from 'node:crypto';
import type { Broker, Clock, CloseReason, ConnectInfo, Logger, Metrics } from '@junction/broker-core';
import type { CoapConfig } from '../config.js';
import type { Query } from '../uri.js';
import { CoapClient, type ClientHost, type ClientMode } from './client.js';
import type { Link, ListenerRef } from './link.js';

/** EMQX issues tokens from 1..4294967295. */
const TOKEN_MAX = 4_294_967_295;

/** Why a client could not be opened, as the handlers answer it. */
export class ClientRefused extends Error {
  constructor(
    readonly reason: 'busy' | 'rate',
    message: string,
  ) {
    super(message);
    this.name = 'ClientRefused';
  }
}

export interface RegistryDeps {
  readonly broker: Broker;
  readonly config: CoapConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
}

interface ListenerCount {
  clients: number;
  windowStart: number;
  openedInWindow: number;
}

export class ClientRegistry implements ClientHost {
  readonly config: CoapConfig;
  readonly log: Logger;
  private readonly clients = new Map<string, CoapClient>();
  private readonly opening = new Map<string, Promise<CoapClient>>();
  private readonly perListener = new Map<string, ListenerCount>();
  /** Observations of all clients together (`max_observations`). */
  observationCount = 0;
  private closing = false;

  constructor(private readonly deps: RegistryDeps) {
    this.config = deps.config;
    this.log = deps.log;
  }

  get size(): number {
    return this.clients.size;
  }

  now(): number {
    return this.deps.clock.now();
  }

  setTimeout(fn: () => void, ms: number): unknown {
    return this.deps.clock.setTimeout(fn, ms);
  }

  clearTimeout(handle: unknown): void {
    if (handle !== undefined) this.deps.clock.clearTimeout(handle);
  }

  // ------------------------------------------------------------------ connectionless mode

  /** The connectionless client of this peer and client id, if it is open. */
  findConnectionless(link: Link, query: Query): CoapClient | undefined {
    return this.clients.get(connectionlessKey(link, query));
  }

  /** The connectionless client of this peer and client id, opened if need be. */
  connectionless(link: Link, query: Query): Promise<CoapClient> {
    const key = connectionlessKey(link, query);
    const existing = this.clients.get(key);
    if (existing) {
      this.seen(existing, link);
      return Promise.resolve(existing);
    }
    let p = this.opening.get(key);
    if (!p) {
      p = this.open(key, 'connectionless', link, query).finally(() => this.opening.delete(key));
      this.opening.set(key, p);
    }
    return p;
  }

  // ------------------------------------------------------------------ connection mode

  /** `POST /mqtt/connection`: opens a connection-mode client and issues its token. */
  async connect(link: Link, query: Query): Promise<CoapClient> {
    const client = await this.open(`connection|${query.get('clientid') ?? ''}`, 'connection', link, query);
    client.token = String(randomInt(1, TOKEN_MAX + 1));
    return client;
  }

  /** The connection-mode client with this client id, if open. */
  connection(clientId: string): CoapClient | undefined {
    return this.clients.get(`connection|${clientId}`);
  }

  /** A request of the client: it is alive (connection mode: its keepalive restarts) and reachable
   * at the request's address. */
  seen(client: CoapClient, link: Link): void {
    client.link = link;
    client.lastSeen = this.now();
    if (client.mode === 'connection') client.handle.touch();
  }

  // ------------------------------------------------------------------ lifecycle

  /** Closes a client from the gateway's side (DELETE, idle, shutdown). */
  close(client: CoapClient, reason: CloseReason): void {
    if (!this.forget(client)) return;
    client.handle.close(reason);
    this.log.debug({ clientId: client.clientId, reason }, 'coap_client_closed');
  }

  closedByCore(client: CoapClient, reason: CloseReason): void {
    if (this.forget(client)) this.log.debug({ clientId: client.clientId, reason }, 'coap_client_closed');
  }

  observationAdded(): void {
    this.observationCount++;
  }

  observationRemoved(client: CoapClient): void {
    this.observationCount--;
    this.armIdle(client);
  }

  /** Whether one more observation fits the limits (0: no limit). */
  observationAllowed(client: CoapClient): boolean {
    const perClient = this.config.max_observations_per_client;
    const total = this.config.max_observations;
    return (perClient === 0 || client.observations.size < perClient) && (total === 0 || this.observationCount < total);
  }

  closeAll(reason: CloseReason): void {
    this.closing = true;
    for (const client of [...this.clients.values()]) this.close(client, reason);
  }

  clientsOn(listener: string): number {
    return this.perListener.get(listener)?.clients ?? 0;
  }

  // ------------------------------------------------------------------ internals

  private async open(key: string, mode: ClientMode, link: Link, query: Query): Promise<CoapClient> {
    if (this.closing) throw new ClientRefused('busy', 'the gateway is shutting down');
    this.admit(link.listener, this.clients.has(key));
    const clientId = query.get('clientid') ?? '';
    const username = query.get('username');
    const password = query.get('password');
    const info: ConnectInfo = {
      clientId,
      username,
      password: password === undefined ? undefined : Buffer.from(password),
      protocol: 'coap',
      protocolVersion: 1,
      peer: link.peer.key,
      listener: link.listener.name,
      cleanStart: true,
      sessionExpiryInterval: 0,
      // Connection mode: the heartbeat is the session's keepalive; connectionless: no keepalive.
      keepalive: mode === 'connection' ? this.config.heartbeat / 1000 : 0,
    };
    const client = new CoapClient(key, mode, clientId, username, link, this);
    const handle = await this.deps.broker.open(info, client);
    client.handle = handle;
    if (this.closing) {
      handle.close('server_shutdown');
      throw new ClientRefused('busy', 'the gateway is shutting down');
    }
    client.clientId = handle.clientId;
    const previous = this.clients.get(key);
    if (previous) this.close(previous, 'takeover');
    this.clients.set(key, client);
    this.count(link.listener.name).clients++;
    this.deps.metrics.counters['connections.accepted']++;
    handle.ready();
    this.armIdle(client);
    this.log.debug({ clientId: client.clientId, mode, peer: link.peer.key }, 'coap_client_opened');
    return client;
  }

  /** `max_connections` and `max_conn_rate` of the listener. */
  private admit(listener: ListenerRef, replacing: boolean): void {
    const c = this.count(listener.name);
    if (!replacing && c.clients >= listener.maxConnections) throw new ClientRefused('busy', 'too many clients on this listener');
    if (listener.maxConnRate > 0) {
      const now = this.now();
      if (now - c.windowStart >= 1000) {
        c.windowStart = now;
        c.openedInWindow = 0;
      }
      if (c.openedInWindow >= listener.maxConnRate) throw new ClientRefused('rate', 'too many new clients per second on this listener');
      c.openedInWindow++;
    }
  }

  private count(listener: string): ListenerCount {
    let c = this.perListener.get(listener);
    if (!c) this.perListener.set(listener, (c = { clients: 0, windowStart: 0, openedInWindow: 0 }));
    return c;
  }

  /** Removes a client; false if it was not registered any more. */
  private forget(client: CoapClient): boolean {
    if (client.closed) return false;
    this.observationCount -= client.observations.size;
    client.dispose();
    if (this.clients.get(client.key) === client) {
      this.clients.delete(client.key);
      this.count(client.origin).clients--;
    }
    return true;
  }

  /** Connectionless: close after `idle_timeout` without requests, unless it observes something. */
  private armIdle(client: CoapClient): void {
    if (client.mode !== 'connectionless' || client.closed || client.observations.size > 0) return;
    this.clearTimeout(client.idleTimer);
    const check = () => {
      if (client.closed || client.observations.size > 0) return;
      const idle = this.now() - client.lastSeen;
      if (idle >= this.config.idle_timeout) this.close(client, 'normal');
      else client.idleTimer = this.setTimeout(check, this.config.idle_timeout - idle);
    };
    client.idleTimer = this.setTimeout(check, this.config.idle_timeout);
  }
}

function connectionlessKey(link: Link, query: Query): string {
  return `${link.listener.name}|${link.peer.key}|${query.get('clientid') ?? ''}`;
}
