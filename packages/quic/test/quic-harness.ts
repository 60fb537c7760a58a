/** One broker with a `listeners.quic` listener (and optionally a TCP one) for the QUIC tests. */
import { BrokerCore, createAdapterContext, type Adapter, type BrokerOptions } from '@junction/broker-core';
import { defaultMqttOptions, tcpListenersFactory } from '@junction/mqtt';
import { MqttClient, type IClientOptions } from 'mqtt';
import { MqttQuicClient, quicListenersFactory, type MqttQuicClientOptions, type QuicListener, type QuicListenerConfig, type QuicListenerGroup } from '../src/quic/index.js';
import { quicClientOptions, quicListenerConfig } from './quic-fixture.js';

export interface QuicBroker {
  readonly broker: BrokerCore;
  readonly quicPort: number;
  readonly tcpPort: number | undefined;
  /** The QUIC listener (connections, rate gate). */
  readonly listener: QuicListener;
  /** A QUIC client connection to the listener. */
  quic(over?: Partial<MqttQuicClientOptions>): Promise<MqttQuicClient>;
  /** MQTT.js over a QUIC connection; waits for CONNACK. */
  mqttOverQuic(opts?: IClientOptions, over?: Partial<MqttQuicClientOptions>): Promise<{ client: MqttClient; quic: MqttQuicClient }>;
  stop(): Promise<void>;
}

export async function startQuicBroker(opts: { listener?: Partial<QuicListenerConfig>; tcp?: boolean; broker?: BrokerOptions } = {}): Promise<QuicBroker> {
  const broker = new BrokerCore(opts.broker);
  const ctx = createAdapterContext(broker, { sections: { mqtt: defaultMqttOptions } });
  const adapters: Adapter[] = [quicListenersFactory.create(ctx, { default: quicListenerConfig(opts.listener) })];
  if (opts.tcp) adapters.push(tcpListenersFactory.create(ctx, { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 1000, mountpoint: '' } }));
  const ports: number[] = [];
  for (const a of adapters) ports.push((await a.start())[0]!.port);
  const quicPort = ports[0]!;
  const clients = new Set<MqttQuicClient>();
  const mqttClients = new Set<MqttClient>();
  const quic = async (over: Partial<MqttQuicClientOptions> = {}) => {
    const c = await MqttQuicClient.connect(quicClientOptions(quicPort, over));
    clients.add(c);
    return c;
  };
  return {
    broker,
    quicPort,
    tcpPort: ports[1],
    listener: (adapters[0] as QuicListenerGroup).listeners[0]!,
    quic,
    async mqttOverQuic(mqttOpts = {}, over = {}) {
      const q = await quic(over);
      const client = new MqttClient(() => q.stream, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 4000, ...mqttOpts });
      mqttClients.add(client);
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        client.once('close', () => reject(new Error('closed before CONNACK')));
      });
      return { client, quic: q };
    },
    async stop() {
      await Promise.all([...mqttClients].map((c) => c.endAsync(true).catch(() => {})));
      await Promise.all([...clients].map((c) => c.close()));
      for (const a of adapters) await a.stop({ drainMs: 200 });
      await broker.close();
    },
  };
}
