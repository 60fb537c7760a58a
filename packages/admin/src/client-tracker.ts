/**
 * What the API knows about clients, learned from the core's notifications: connection details
 * (protocol, version, peer, keepalive, times) and subscriptions with their options. The core's
 * `session(clientId)` adds the live numbers (queue, inflight). Clients connected before the admin
 * server was created, and sessions restored from a store, are unknown until they reconnect: the
 * core offers no listing of its sessions (see docs/admin.md).
 */
import type { ConnectInfo, Hooks, Subscription } from '@junction/broker-core';

export interface TrackedClient {
  readonly clientid: string;
  username: string | undefined;
  protocol: string;
  proto_ver: number | string | undefined;
  peer: string;
  listener: string | undefined;
  clean_start: boolean;
  keepalive: number;
  /** Seconds. */
  expiry_interval: number;
  connected: boolean;
  /** Milliseconds since the epoch. */
  created_at: number;
  connected_at: number;
  disconnected_at: number | undefined;
  /** By filter as the client sent it (with any `$share/g/` prefix). One shared empty map until
   * the client's first subscription (most connections never subscribe). */
  subscriptions: ReadonlyMap<string, Subscription>;
}

const NO_SUBSCRIPTIONS: ReadonlyMap<string, Subscription> = new Map();

export class ClientTracker {
  private readonly clients = new Map<string, TrackedClient>();
  private readonly unhook: (() => void)[] = [];
  /** Tracked clients connected now, and the highest that number has been (EMQX's
   * `connections.max`). */
  private live = 0;
  maxConnections = 0;

  constructor(
    hooks: Hooks,
    private readonly now: () => number,
    /** The session expiry (seconds) the core gives a connection. */
    private readonly expiryOf: (info: ConnectInfo) => number,
  ) {
    this.unhook.push(
      hooks.on('session.created', (client) => {
        if (this.clients.get(client.clientId)?.connected) this.live--;
        this.clients.set(client.clientId, this.blank(client.clientId));
      }),
      hooks.on('client.connected', (client, info) => {
        const c = this.clients.get(client.clientId) ?? this.blank(client.clientId);
        // Re-inserted: the map stays in order of connection.
        this.clients.delete(client.clientId);
        this.clients.set(client.clientId, c);
        const t = this.now();
        c.username = client.username;
        c.protocol = client.protocol;
        c.proto_ver = info.protocolVersion;
        c.peer = client.peer;
        c.listener = client.listener;
        c.clean_start = info.cleanStart;
        c.keepalive = info.keepalive;
        c.expiry_interval = this.expiryOf(info);
        if (!c.connected) this.live++;
        c.connected = true;
        c.connected_at = t;
        c.disconnected_at = undefined;
        if (this.live > this.maxConnections) this.maxConnections = this.live;
      }),
      hooks.on('client.disconnected', (client) => {
        const c = this.clients.get(client.clientId);
        if (!c || !c.connected) return;
        this.live--;
        c.connected = false;
        c.disconnected_at = this.now();
      }),
      hooks.on('session.terminated', (clientId) => {
        if (this.clients.get(clientId)?.connected) this.live--;
        this.clients.delete(clientId);
      }),
      hooks.on('session.subscribed', (client, sub) => {
        const c = this.clients.get(client.clientId);
        if (!c) return;
        const subs = c.subscriptions === NO_SUBSCRIPTIONS ? (c.subscriptions = new Map<string, Subscription>()) : (c.subscriptions as Map<string, Subscription>);
        subs.set(sub.filter, { ...sub });
      }),
      hooks.on('session.unsubscribed', (client, filter) => {
        const c = this.clients.get(client.clientId);
        if (c && c.subscriptions !== NO_SUBSCRIPTIONS) (c.subscriptions as Map<string, Subscription>).delete(filter);
      }),
    );
  }

  get(clientId: string): TrackedClient | undefined {
    return this.clients.get(clientId);
  }

  /** In order of (re)connection, oldest first. */
  all(): IterableIterator<TrackedClient> {
    return this.clients.values();
  }

  get size(): number {
    return this.clients.size;
  }

  close(): void {
    for (const off of this.unhook.splice(0)) off();
    this.clients.clear();
    this.live = 0;
  }

  private blank(clientid: string): TrackedClient {
    const t = this.now();
    return {
      clientid,
      username: undefined,
      protocol: 'unknown',
      proto_ver: undefined,
      peer: '',
      listener: undefined,
      clean_start: true,
      keepalive: 0,
      expiry_interval: 0,
      connected: false,
      created_at: t,
      connected_at: t,
      disconnected_at: undefined,
      subscriptions: NO_SUBSCRIPTIONS,
    };
  }
}
