import { ListenerGroup, type Adapter, type AdapterContext, type AdapterFactory, type AdapterStats } from '@junction/broker-core';
import { mqttOptionsSchema } from '@junction/mqtt';
import { Type } from '@sinclair/typebox';
import { wsListenerSchema, wssListenerSchema, type WsListenerConfig, type WssListenerConfig } from './config.js';
import { WebSocketListener } from './transport/listener.js';

/** The named ws (or wss) listeners of one config section, as one adapter. */
export class WebSocketListenerGroup extends ListenerGroup<WebSocketListener> implements Adapter {
  stats(): AdapterStats {
    let connections = 0;
    let refused = 0;
    for (const l of this.listeners) {
      connections += l.handler.connections.size;
      refused += l.handler.stats().handshakes_refused;
    }
    return { connections, handshakes_refused: refused };
  }
}

const wsSection = Type.Record(Type.String(), wsListenerSchema, { default: {}, description: 'MQTT over WebSocket listeners, by name.' });
const wssSection = Type.Record(Type.String(), wssListenerSchema, { default: {}, description: 'MQTT over secure WebSocket (TLS) listeners, by name.' });

function group(type: 'ws' | 'wss', ctx: AdapterContext, config: Record<string, WsListenerConfig | WssListenerConfig>): WebSocketListenerGroup {
  return new WebSocketListenerGroup(
    Object.entries(config)
      .filter(([, c]) => c.enable)
      .map(([name, c]) => new WebSocketListener(type, name, c, ctx)),
  );
}

/** `listeners.ws.{name}`: MQTT over WebSocket (EMQX default 8083, path /mqtt). */
export const wsListenersFactory: AdapterFactory<typeof wsSection> = {
  type: 'listeners.ws',
  configSchema: wsSection,
  sections: { mqtt: mqttOptionsSchema },
  create: (ctx: AdapterContext, config: Record<string, WsListenerConfig>) => group('ws', ctx, config),
};

/** `listeners.wss.{name}`: MQTT over WebSocket over TLS (EMQX default 8084, path /mqtt). */
export const wssListenersFactory: AdapterFactory<typeof wssSection> = {
  type: 'listeners.wss',
  configSchema: wssSection,
  sections: { mqtt: mqttOptionsSchema },
  create: (ctx: AdapterContext, config: Record<string, WssListenerConfig>) => group('wss', ctx, config),
};
