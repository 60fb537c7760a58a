/**
 * `gateway.coap`: the CoAP gateway as an adapter. One registry of clients and observations for
 * the whole gateway; one `CoapListener` per enabled `listeners.udp.{name}`.
 */
import { systemClock, type Adapter, type AdapterContext, type AdapterFactory, type AdapterStats, type Clock, type ListenerInfo } from '@junction/broker-core';
import { coapConfigSchema, type CoapConfig } from './config.js';
import { handle, type Gateway } from './handlers/index.js';
import { CoapListener } from './server/listener.js';
import { ClientRegistry } from './session/registry.js';

export interface CoapGatewayOptions {
  /** Time for retransmissions, idle clients and block-wise transfers; the system clock by default. */
  readonly clock?: Clock;
}

export class CoapGateway implements Adapter {
  private readonly registry: ClientRegistry;
  private readonly gateway: Gateway;
  private listeners: CoapListener[] = [];
  private running: Promise<ListenerInfo[]> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly ctx: AdapterContext,
    private readonly config: CoapConfig,
    private readonly opts: CoapGatewayOptions = {},
  ) {
    const log = ctx.log.child({ gateway: 'coap' });
    const clock = opts.clock ?? systemClock;
    this.registry = new ClientRegistry({ broker: ctx.broker, config, clock, log, metrics: ctx.metrics });
    this.gateway = { config, registry: this.registry, topics: ctx.topicMapper(config.mountpoint || undefined), log };
  }

  /** Binds every enabled listener; resolves with the real ports. */
  start(): Promise<ListenerInfo[]> {
    return (this.running ??= this.bind());
  }

  private async bind(): Promise<ListenerInfo[]> {
    if (!this.config.enable) return [];
    const clock = this.opts.clock ?? systemClock;
    const log = this.ctx.log.child({ gateway: 'coap' });
    for (const [name, l] of Object.entries(this.config.listeners.udp)) {
      if (!l.enable) continue;
      this.listeners.push(
        new CoapListener(name, l, {
          metrics: this.ctx.metrics,
          log,
          clock,
          blockwise: this.config.blockwise,
          ackTimeoutMs: this.config.ack_timeout,
          maxRetransmit: this.config.max_retransmit,
          handle: (req) => handle(req, this.gateway),
        }),
      );
    }
    const infos: ListenerInfo[] = [];
    try {
      for (const l of this.listeners) infos.push(await l.start());
    } catch (err) {
      await this.stop();
      throw err;
    }
    return infos;
  }

  /** Closes every client's session (`server_shutdown`) and every socket. Idempotent. */
  stop(_opts?: { drainMs?: number }): Promise<void> {
    return (this.stopping ??= (async () => {
      this.registry.closeAll('server_shutdown');
      await Promise.all(this.listeners.map((l) => l.stop()));
    })());
  }

  stats(): AdapterStats {
    const stats: Record<string, number> = { connections: this.registry.size, observations: this.registry.observationCount };
    for (const l of this.listeners) for (const [k, v] of Object.entries(l.stats())) stats[k] = (stats[k] ?? 0) + v;
    return stats as AdapterStats;
  }
}

/** The `gateway.coap` adapter type. */
export const coapGatewayFactory: AdapterFactory<typeof coapConfigSchema> = {
  type: 'gateway.coap',
  configSchema: coapConfigSchema,
  create: (ctx: AdapterContext, config: CoapConfig) => new CoapGateway(ctx, config),
};
