import { Type } from '@sinclair/typebox';
import { ListenerGroup, type Adapter, type AdapterContext, type AdapterFactory, type AdapterStats } from '@junction/broker-core';
import { mqttOptionsSchema, sslListenerSchema, tcpListenerSchema, type SslListenerConfig, type TcpListenerConfig } from './config.js';
import type { StreamListener } from './transport/listener.js';
import { createTcpListener } from './transport/tcp.js';
import { createTlsListener } from './transport/tls.js';

/** The named TCP or TLS listeners of one config section, as one adapter. */
export class StreamListenerGroup extends ListenerGroup<StreamListener> implements Adapter {
  stats(): AdapterStats {
    return { connections: this.listeners.reduce((n, l) => n + l.connections.size, 0) };
  }
}

const tcpSection = Type.Record(Type.String(), tcpListenerSchema, { default: {}, description: 'MQTT over TCP listeners, by name.' });
const sslSection = Type.Record(Type.String(), sslListenerSchema, { default: {}, description: 'MQTT over TLS listeners, by name.' });

/** `listeners.tcp.{name}`: MQTT over TCP. */
export const tcpListenersFactory: AdapterFactory<typeof tcpSection> = {
  type: 'listeners.tcp',
  configSchema: tcpSection,
  sections: { mqtt: mqttOptionsSchema },
  create: (ctx: AdapterContext, config: Record<string, TcpListenerConfig>) =>
    new StreamListenerGroup(Object.entries(config).filter(([, c]) => c.enable).map(([name, c]) => createTcpListener(name, c, ctx))),
};

/** `listeners.ssl.{name}`: MQTT over TLS. */
export const sslListenersFactory: AdapterFactory<typeof sslSection> = {
  type: 'listeners.ssl',
  configSchema: sslSection,
  sections: { mqtt: mqttOptionsSchema },
  create: (ctx: AdapterContext, config: Record<string, SslListenerConfig>) =>
    new StreamListenerGroup(Object.entries(config).filter(([, c]) => c.enable).map(([name, c]) => createTlsListener(name, c, ctx))),
};
