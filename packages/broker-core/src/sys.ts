import { Type, type Static } from '@sinclair/typebox';
import type { BrokerCore } from './broker.js';
import { Duration } from './config-types.js';

export const VERSION = '0.1.0';

/** EMQX's `sys_topics` section. */
export const sysTopicsSchema = Type.Object(
  {
    sys_msg_interval: Duration({ default: '1m', description: 'Interval between publications of broker statistics on `$SYS/` topics; 0 disables them.' }),
    sys_heartbeat_interval: Duration({ default: '30s', description: 'Interval between `$SYS/brokers/<node>/uptime` and `datetime` heartbeats; 0 disables them.' }),
    sys_event_messages: Type.Object(
      {
        client_connected: Type.Boolean({ default: true, description: 'Publish `$SYS/brokers/<node>/clients/<clientid>/connected` when a client connects.' }),
        client_disconnected: Type.Boolean({ default: true, description: 'Publish `$SYS/brokers/<node>/clients/<clientid>/disconnected` when a client disconnects.' }),
        client_subscribed: Type.Boolean({ default: false, description: 'Publish `…/clients/<clientid>/subscribed` for every subscription.' }),
        client_unsubscribed: Type.Boolean({ default: false, description: 'Publish `…/clients/<clientid>/unsubscribed` for every unsubscription.' }),
      },
      { additionalProperties: false, default: {}, description: 'Client lifecycle events published under `$SYS/brokers/<node>/clients/`.' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'The `$SYS/` topics the broker publishes about itself.' },
);

export type SysTopicsConfig = Static<typeof sysTopicsSchema>;

export const defaultSysTopics: SysTopicsConfig = {
  sys_msg_interval: 60_000,
  sys_heartbeat_interval: 30_000,
  sys_event_messages: { client_connected: true, client_disconnected: true, client_subscribed: false, client_unsubscribed: false },
};

/**
 * Publishes `$SYS/brokers/{node}/…` as EMQX does: version and sysdescr (retained), the uptime and
 * datetime heartbeat, statistics and metrics, and client lifecycle events.
 */
export class SysPublisher {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unhook: (() => void)[] = [];
  private readonly base: string;
  private readonly config: SysTopicsConfig;

  constructor(
    private readonly broker: BrokerCore,
    config: Partial<SysTopicsConfig> = {},
  ) {
    this.config = { ...defaultSysTopics, ...config, sys_event_messages: { ...defaultSysTopics.sys_event_messages, ...config.sys_event_messages } };
    this.base = `$SYS/brokers/${broker.nodeName}`;
  }

  start(): void {
    if (this.timers.length > 0 || this.unhook.length > 0) return;
    const c = this.config;
    this.put('version', VERSION, true);
    this.put('sysdescr', 'Junction MQTT broker', true);
    this.every(c.sys_heartbeat_interval, () => this.heartbeat());
    this.every(c.sys_msg_interval, () => this.publishStats());
    this.watchClients();
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
    for (const off of this.unhook.splice(0)) off();
  }

  heartbeat(): void {
    const b = this.broker;
    this.put('uptime', String(Math.floor((b.clock.now() - b.startedAt) / 1000)));
    this.put('datetime', new Date(b.clock.now()).toISOString());
  }

  /** One round of statistics and metrics. */
  publishStats(): void {
    const st = this.broker.stats();
    const c = this.broker.metrics.counters;
    this.put('stats/connections/count', String(st.connections));
    this.put('stats/sessions/count', String(st.sessions));
    this.put('stats/subscriptions/count', String(st.subscriptions));
    this.put('stats/retained/count', String(st.retained));
    for (const name of SYS_METRICS) this.put(`metrics/${name.replaceAll('.', '/')}`, String(c[name]));
  }

  private watchClients(): void {
    const ev = this.config.sys_event_messages;
    const hooks = this.broker.hooks;
    const now = () => this.broker.clock.now();
    if (ev.client_connected) {
      this.unhook.push(
        hooks.on('client.connected', (client, info) =>
          this.event(client.clientId, 'connected', {
            clientid: client.clientId,
            username: client.username ?? null,
            ipaddress: client.peer,
            proto_name: info.protocol.toUpperCase(),
            proto_ver: info.protocolVersion ?? null,
            keepalive: info.keepalive,
            clean_start: info.cleanStart,
            expiry_interval: info.sessionExpiryInterval ?? 0,
            connected_at: now(),
            ts: now(),
          }),
        ),
      );
    }
    if (ev.client_disconnected) {
      this.unhook.push(
        hooks.on('client.disconnected', (client, reason) =>
          this.event(client.clientId, 'disconnected', { clientid: client.clientId, username: client.username ?? null, reason, disconnected_at: now(), ts: now() }),
        ),
      );
    }
    if (ev.client_subscribed) {
      this.unhook.push(
        hooks.on('session.subscribed', (client, sub) =>
          this.event(client.clientId, 'subscribed', { clientid: client.clientId, username: client.username ?? null, topic: sub.filter, opts: { qos: sub.qos, nl: sub.noLocal ? 1 : 0, rap: sub.retainAsPublished ? 1 : 0, rh: sub.retainHandling ?? 0 }, ts: now() }),
        ),
      );
    }
    if (ev.client_unsubscribed) {
      this.unhook.push(
        hooks.on('session.unsubscribed', (client, filter) =>
          this.event(client.clientId, 'unsubscribed', { clientid: client.clientId, username: client.username ?? null, topic: filter, ts: now() }),
        ),
      );
    }
  }

  private event(clientId: string, what: string, body: Record<string, unknown>): void {
    // A client id may hold characters a topic level cannot; those events are not published.
    if (/[+#/\u0000]/.test(clientId)) return;
    this.put(`clients/${clientId}/${what}`, JSON.stringify(body));
  }

  private every(ms: number, fn: () => void): void {
    if (ms <= 0) return;
    fn();
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private put(suffix: string, value: string, retain = false): void {
    this.broker.publish({ topic: `${this.base}/${suffix}`, payload: Buffer.from(value), qos: 0, retain }, { clientId: '$sys', protocol: '$sys' });
  }
}

const SYS_METRICS = ['messages.received', 'messages.sent', 'messages.dropped', 'messages.retained', 'bytes.received', 'bytes.sent', 'packets.received', 'packets.sent'] as const;
