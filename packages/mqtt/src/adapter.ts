import { Type } from '@sinclair/typebox';
import type { Adapter, AdapterContext, AdapterFactory, AdapterStats, ListenerInfo } from '@junction/broker-core';
import { mqttOptionsSchema, sslListenerSchema, tcpListenerSchema, type SslListenerConfig, type TcpListenerConfig } from './config.js';
import type { StreamListener } from './transport/listener.js';
import { createTcpListener } from './transport/tcp.js';
import { createTlsListener } from './transport/tls.js';

/** A set of named listeners of one type, as one adapter. */
export class ListenerGroup implements Adapter {
  private started = false;
  constructor(private readonly listeners: StreamListener[]) {}

  async start(): Promise<ListenerInfo[]> {
    this.started = true;
    const infos: ListenerInfo[] = [];
    try {
      for (const l of this.listeners) infos.push(await l.start());
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
    new ListenerGroup(Object.entries(config).filter(([, c]) => c.enable).map(([name, c]) => createTcpListener(name, c, ctx))),
};

/** `listeners.ssl.{name}`: MQTT over TLS. */
export const sslListenersFactory: AdapterFactory<typeof sslSection> = {
  type: 'listeners.ssl',
  configSchema: sslSection,
  sections: { mqtt: mqttOptionsSchema },
  create: (ctx: AdapterContext, config: Record<string, SslListenerConfig>) =>
    new ListenerGroup(Object.entries(config).filter(([, c]) => c.enable).map(([name, c]) => createTlsListener(name, c, ctx))),
};
