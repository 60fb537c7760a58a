/**
 * What the HTTP/3 and HTTP/2 sides of one WebTransport listener share: the MQTT engine context
 * (listener name `wt:<name>`, mountpoint, the `mqtt` section), the session limit, and the open
 * MQTT connections, one per WebTransport bidirectional stream.
 */
import type { Duplex } from 'node:stream';
import { ConnectionRateGate, type AdapterContext, type Logger, type Rate } from '@junction/broker-core';
import { listenerEngine, MqttConnection, type EngineContext } from '@junction/mqtt';
import type { WebTransportListenerConfig } from './config.js';

export class WebTransportEndpoint {
  /** Open MQTT connections, over either transport. */
  readonly connections = new Set<MqttConnection>();
  readonly log: Logger;
  readonly listener: string;
  /** WebTransport sessions open now. */
  sessions = 0;
  /** Sessions refused (path, limit, shutting down) and streams refused. */
  refused = 0;
  closing = false;
  private readonly engine: EngineContext;
  /** `max_conn_rate`: MQTT streams over it wait here, unread. */
  private gate: ConnectionRateGate;
  private readonly connRate: Rate | undefined;

  constructor(
    readonly name: string,
    readonly config: WebTransportListenerConfig,
    ctx: AdapterContext,
  ) {
    this.listener = `wt:${name}`;
    ({ engine: this.engine, log: this.log, connRate: this.connRate, gate: this.gate } = listenerEngine(ctx, this.listener, config, `listeners.webtransport.${name}`));
  }

  /** MQTT streams waiting at `max_conn_rate`. */
  get waiting(): number {
    return this.gate.waiting;
  }

  /** True when a new session may open now; counts it when so. */
  admitSession(): boolean {
    if (this.closing || this.sessions >= this.config.max_sessions) {
      this.refused++;
      return false;
    }
    this.sessions++;
    return true;
  }

  sessionEnded(): void {
    this.sessions--;
  }

  /**
   * Start an MQTT connection over one WebTransport stream, at once or, over `max_conn_rate`,
   * once the rate allows (the stream stays unread meanwhile).
   */
  attach(stream: Duplex, peer: string): void {
    let gone = false;
    const onGone = () => (gone = true);
    stream.once('close', onGone);
    const outcome = this.gate.offer({
      get gone() {
        return gone;
      },
      admit: () => {
        stream.off('close', onGone);
        this.open(stream, peer);
      },
      drop: () => {
        this.refused++;
        stream.destroy();
      },
    });
    if (outcome === 'held') this.log.debug({ peer, waiting: this.gate.waiting }, 'max_conn_rate_exceeded');
    else if (outcome === 'dropped') this.log.warn({ peer }, 'max_conn_rate_backlog_full');
  }

  private open(stream: Duplex, peer: string): void {
    const conn = new MqttConnection(stream, this.engine, { peer });
    this.connections.add(conn);
    stream.once('close', () => this.connections.delete(conn));
  }

  /** Tell every MQTT client the server is going away (MQTT 5: DISCONNECT 0x8B) and wait up to `drainMs` for them to end. */
  async drain(drainMs: number): Promise<void> {
    this.closing = true;
    this.gate.close();
    // A fresh gate for a later start (a closed one drops everything).
    this.gate = new ConnectionRateGate(this.connRate);
    for (const c of this.connections) c.closeBy('server_shutdown');
    if (this.connections.size === 0) return;
    const gone = new Promise<void>((resolve) => {
      const check = () => {
        if (this.connections.size === 0) resolve();
      };
      for (const c of this.connections) c.stream.once('close', check);
    });
    await Promise.race([gone, new Promise<void>((resolve) => setTimeout(resolve, drainMs).unref())]);
    for (const c of this.connections) c.stream.destroy();
  }
}
