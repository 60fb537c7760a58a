import { ConfigError, systemClock, type Adapter, type AdapterContext, type AdapterFactory, type AdapterStats, type BindAddress, type Clock, type ListenerInfo } from '@junction/broker-core';
import { mqttSnConfigSchema, type MqttSnConfig } from './config.js';
import type { ClientMemory, GatewayOptions } from './gateway/context.js';
import { MqttSnGateway } from './gateway/gateway.js';
import { PredefinedTopics } from './gateway/topic-registry.js';
import { compileAccessRules } from './transport/access-rules.js';
import { interfaceBroadcastAddresses, UdpListener } from './transport/udp.js';

interface Bound {
  readonly name: string;
  readonly listener: UdpListener;
  readonly gateway: MqttSnGateway;
}

export interface MqttSnAdapterOptions {
  /** Time for the gateway's timers (retransmission, idle clients); the system clock by default. */
  clock?: Clock;
}

/**
 * The MQTT-SN gateway (`gateway.mqttsn`): one UDP listener and one gateway per configured
 * listener, the topic ids and sessions of CleanSession 0 clients shared between them, and the
 * optional periodic ADVERTISE.
 */
export class MqttSnAdapter implements Adapter {
  private readonly bound: Bound[] = [];
  private readonly predefined: PredefinedTopics;
  private readonly memory = new Map<string, ClientMemory>();
  private readonly clock: Clock;
  private advertiseTimer: NodeJS.Timeout | undefined;
  private unhook: (() => void) | undefined;
  private started = false;

  constructor(
    private readonly ctx: AdapterContext,
    private readonly config: MqttSnConfig,
    opts: MqttSnAdapterOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    try {
      this.predefined = new PredefinedTopics(config.predefined);
    } catch (err) {
      throw new ConfigError('gateway.mqttsn.predefined', (err as Error).message, { cause: err });
    }
    if (!config.enable) return;
    for (const [name, l] of Object.entries(config.listeners.udp)) {
      if (!l.enable) continue;
      let allowPeer: ((host: string) => boolean) | undefined;
      try {
        allowPeer = compileAccessRules(l.access_rules);
      } catch (err) {
        throw new ConfigError(`gateway.mqttsn.listeners.udp.${name}.access_rules`, (err as Error).message, { cause: err });
      }
      const log = ctx.log.child({ listener: `udp:${name}` });
      const listener = new UdpListener(name, l.bind, l.udp_options, log);
      const gateway = new MqttSnGateway(
        {
          broker: ctx.broker,
          hooks: ctx.hooks,
          metrics: ctx.metrics,
          log,
          clock: this.clock,
          topics: ctx.topicMapper(l.mountpoint || config.mountpoint || undefined),
          predefined: this.predefined,
          memory: this.memory,
          transmit: (host, port, data) => listener.send(host, port, data),
          allowPeer,
        },
        this.options(name, l),
      );
      this.bound.push({ name, listener, gateway });
    }
    ctx.signal.addEventListener('abort', () => void this.stop({ drainMs: 0 }), { once: true });
  }

  private options(name: string, l: MqttSnConfig['listeners']['udp'][string]): GatewayOptions {
    const c = this.config;
    return {
      gatewayId: c.gateway_id,
      enableQos3: c.enable_qos3,
      subsResume: c.subs_resume,
      idleTimeoutMs: c.idle_timeout,
      retryIntervalMs: c.retry_interval,
      maxRetries: c.max_retries,
      maxConnections: l.max_connections,
      maxConnRate: l.max_conn_rate,
      enableAuthn: l.enable_authn,
      enableStats: c.enable_stats,
      clientinfoOverride: c.clientinfo_override,
      listener: `udp:${name}`,
      advertiseDuration: Math.min(0xffff, Math.ceil(c.advertise_interval / 1000)),
    };
  }

  async start(): Promise<ListenerInfo[]> {
    if (this.started) throw new Error('the MQTT-SN gateway is already started');
    this.started = true;
    // Topic ids and wills of a CleanSession 0 client live as long as its session in the core.
    this.unhook = this.ctx.hooks.on('session.terminated', (clientId) => this.memory.delete(clientId));
    const infos: ListenerInfo[] = [];
    try {
      for (const b of this.bound) infos.push(await b.listener.start(b.gateway));
    } catch (err) {
      await this.stop({ drainMs: 0 });
      throw err;
    }
    if (this.config.broadcast && this.bound.length > 0) {
      this.advertise();
      this.advertiseTimer = setInterval(() => this.advertise(), this.config.advertise_interval);
      this.advertiseTimer.unref();
    }
    return infos;
  }

  /** ADVERTISE on every listener (§6.1). */
  private advertise(): void {
    const configured = this.config.broadcast_addresses;
    for (const b of this.bound) {
      const targets: BindAddress[] = configured.length > 0 ? configured : interfaceBroadcastAddresses().map((host) => ({ host, port: b.listener.port }));
      b.listener.broadcast(b.gateway.advertisement(), targets);
    }
  }

  async stop(_opts?: { drainMs?: number }): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.advertiseTimer) clearInterval(this.advertiseTimer);
    this.advertiseTimer = undefined;
    this.unhook?.();
    this.unhook = undefined;
    for (const b of this.bound) b.gateway.stop();
    // Let the DISCONNECTs leave before the sockets close.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await Promise.all(this.bound.map((b) => b.listener.stop()));
  }

  stats(): AdapterStats {
    const out: Record<string, number> = { connections: 0 };
    for (const b of this.bound) {
      for (const [k, v] of Object.entries(b.gateway.stats())) out[k] = (out[k] ?? 0) + v;
    }
    return out as AdapterStats;
  }

  /** A client's state by client id (`active`, `asleep`, `awake`, ...), for tests and administration. */
  client(clientId: string): { state: string; peer: string; listener: string } | undefined {
    for (const b of this.bound) {
      const c = b.gateway.client(clientId);
      if (c) return { ...c, listener: `udp:${b.name}` };
    }
    return undefined;
  }
}

/** `gateway.mqttsn`: the MQTT-SN 1.2 gateway over UDP. */
export const mqttSnGatewayFactory: AdapterFactory<typeof mqttSnConfigSchema> = {
  type: 'gateway.mqttsn',
  configSchema: mqttSnConfigSchema,
  create: (ctx: AdapterContext, config: MqttSnConfig) => new MqttSnAdapter(ctx, config),
};
