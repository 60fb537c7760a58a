import type { Adapter, AdapterContext, AdapterFactory, AdapterStats, ListenerInfo } from '@junction/broker-core';
import { webtransportListenersDescriptor, type WebTransportListenerConfig } from './config.js';
import { WebTransportListener } from './listener.js';

/**
 * The named WebTransport listeners of `listeners.webtransport`, as one adapter. Each listener
 * reports one or two ListenerInfos (`wt` on UDP, `wt-h2` on TCP), so the group is not a
 * ListenerGroup (one info per listener) but behaves like one.
 */
export class WebTransportListenerGroup implements Adapter {
  private started = false;

  constructor(readonly listeners: readonly WebTransportListener[]) {}

  async start(): Promise<ListenerInfo[]> {
    this.started = true;
    const infos: ListenerInfo[] = [];
    try {
      for (const l of this.listeners) infos.push(...(await l.start()));
    } catch (err) {
      await this.stop({ drainMs: 0 });
      throw err;
    }
    return infos;
  }

  async stop(opts?: { drainMs?: number }): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await Promise.all(this.listeners.map((l) => l.stop(opts?.drainMs)));
  }

  stats(): AdapterStats {
    let connections = 0;
    let sessions = 0;
    let refused = 0;
    let quic = 0;
    for (const l of this.listeners) {
      connections += l.endpoint.connections.size;
      sessions += l.endpoint.sessions;
      refused += l.endpoint.refused;
      quic += l.quicConnections;
    }
    return { connections, sessions, sessions_refused: refused, quic_connections: quic };
  }
}

/** `listeners.webtransport.{name}`: MQTT over WebTransport (default UDP 14568, path /mqtt). */
export const webtransportListenersFactory: AdapterFactory<typeof webtransportListenersDescriptor.configSchema> = {
  ...webtransportListenersDescriptor,
  create: (ctx: AdapterContext, config: Record<string, WebTransportListenerConfig>) =>
    new WebTransportListenerGroup(
      Object.entries(config)
        .filter(([, c]) => c.enable)
        .map(([name, c]) => new WebTransportListener(name, c, ctx)),
    ),
};
