import { ListenerGroup, type Adapter, type AdapterContext, type AdapterFactory, type AdapterStats } from '@junction/broker-core';
import { quicListenersDescriptor, type QuicListenerConfig } from './config.js';
import { QuicListener } from './listener.js';

/** The named `listeners.quic` listeners, as one adapter. */
export class QuicListenerGroup extends ListenerGroup<QuicListener> implements Adapter {
  stats(): AdapterStats {
    let connections = 0;
    let refused = 0;
    for (const l of this.listeners) {
      connections += l.connections.size;
      refused += l.refusedCount;
    }
    return { connections, connections_refused: refused };
  }
}

/** `listeners.quic.{name}`: MQTT over QUIC (EMQX default 14567/udp). */
export const quicListenersFactory: AdapterFactory<typeof quicListenersDescriptor.configSchema> = {
  ...quicListenersDescriptor,
  create: (ctx: AdapterContext, config: Record<string, QuicListenerConfig>) =>
    new QuicListenerGroup(
      Object.entries(config)
        .filter(([, c]) => c.enable)
        .map(([name, c]) => new QuicListener(name, c, ctx)),
    ),
};
