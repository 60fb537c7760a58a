/**
 * One UDP listener of the gateway: its socket, node-coap's exchange layer on it, the notifier
 * for messages the gateway originates, Block1 reassembly, and the endpoint in front of them.
 */
import type { Clock, ListenerInfo, Logger, Metrics } from '@junction/broker-core';
import type { CoapBlockwiseConfig, CoapUdpListenerConfig } from '../config.js';
import type { ListenerRef } from '../session/link.js';
import { Notifier } from '../session/notifier.js';
import { UdpTransport } from '../transport/udp.js';
import { Block1Assembler } from './block1.js';
import { Endpoint } from './endpoint.js';
import { ExchangeLayer } from './exchange.js';
import type { CoapRequest, Reply } from './request.js';

/** How often unfinished Block1 transfers are swept. */
const SWEEP_MS = 10_000;

export interface ListenerDeps {
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly clock: Clock;
  readonly blockwise: CoapBlockwiseConfig;
  readonly ackTimeoutMs: number;
  readonly maxRetransmit: number;
  readonly handle: (req: CoapRequest) => Reply | Promise<Reply>;
}

export class CoapListener {
  readonly ref: ListenerRef;
  private readonly transport: UdpTransport;
  private readonly notifier: Notifier;
  private readonly block1: Block1Assembler | undefined;
  private exchange: ExchangeLayer | undefined;
  private endpoint: Endpoint | undefined;
  private sweep: unknown;
  private readonly log: Logger;

  constructor(
    readonly name: string,
    private readonly config: CoapUdpListenerConfig,
    private readonly deps: ListenerDeps,
  ) {
    this.log = deps.log.child({ listener: `udp:${name}` });
    this.transport = new UdpTransport(
      { bind: config.bind, reuseaddr: config.udp_options.reuseaddr, recbuf: config.udp_options.recbuf, sndbuf: config.udp_options.sndbuf },
      deps.metrics,
      (err) => this.log.warn({ err: err.message }, 'listener_error'),
    );
    this.notifier = new Notifier((bytes, to) => this.transport.send(bytes, to), { ackTimeoutMs: deps.ackTimeoutMs, maxRetransmit: deps.maxRetransmit, clock: deps.clock });
    const bw = deps.blockwise;
    this.block1 = bw.enable ? new Block1Assembler({ maxBodySize: bw.max_body_size, maxBlockSize: bw.max_block_size, lifetimeMs: bw.exchange_lifetime, clock: deps.clock }) : undefined;
    this.ref = { name: `udp:${name}`, notifier: this.notifier, maxConnections: config.max_connections, maxConnRate: config.max_conn_rate };
  }

  async start(): Promise<ListenerInfo> {
    const { host, port } = await this.transport.start((data, peer, rinfo) => this.endpoint?.datagram(data, peer, rinfo));
    this.exchange = new ExchangeLayer(this.transport.socket, this.log);
    this.endpoint = new Endpoint({
      send: (bytes, to) => this.transport.send(bytes, to),
      exchange: this.exchange,
      notifier: this.notifier,
      block1: this.block1,
      maxBodySize: this.deps.blockwise.max_body_size,
      maxBlockSize: this.deps.blockwise.max_block_size,
      listener: this.ref,
      log: this.log,
      handle: this.deps.handle,
    });
    if (this.block1) {
      const sweep = () => {
        this.block1?.expire();
        this.sweep = this.deps.clock.setTimeout(sweep, SWEEP_MS);
      };
      this.sweep = this.deps.clock.setTimeout(sweep, SWEEP_MS);
    }
    this.log.info({ host, port }, 'listener_started');
    return { type: 'udp', name: this.name, host, port };
  }

  stats(): Record<string, number> {
    const n = this.notifier.counts;
    return {
      malformed: this.endpoint?.counts.malformed ?? 0,
      rejected: this.endpoint?.counts.rejected ?? 0,
      'notifications.con': n.con,
      'notifications.non': n.non,
      'notifications.retransmitted': n.retransmissions,
      'notifications.acked': n.acked,
      'notifications.reset': n.reset,
      'notifications.timeout': n.timeout,
      'blockwise.transfers': this.block1?.size ?? 0,
    };
  }

  async stop(): Promise<void> {
    if (this.sweep !== undefined) this.deps.clock.clearTimeout(this.sweep);
    this.notifier.stop();
    this.block1?.clear();
    this.exchange?.close();
    this.endpoint = undefined;
    await this.transport.close();
    this.log.info({}, 'listener_stopped');
  }
}
