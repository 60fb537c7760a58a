import { BrokerCore, createAdapterContext, type Adapter, type BrokerOptions } from '@junction/broker-core';
import type { IClientOptions } from 'mqtt';
import { sslListenersFactory, tcpListenersFactory } from '../adapter.js';
import { defaultMqttOptions, type MqttOptions } from '../config.js';
import { testPki } from './certs.js';

/** A running broker with one listener, as the behaviour suite sees it. */
export interface BrokerHarness {
  readonly broker: BrokerCore;
  /** e.g. `mqtt://127.0.0.1:40123`, `mqtts://…`, `ws://…/mqtt`. */
  readonly url: string;
  /** Options every client of this transport needs (CA, certificates, ...). */
  readonly clientOptions: IClientOptions;
  readonly port: number;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  broker?: BrokerOptions;
  mqtt?: Partial<MqttOptions>;
  /** TLS only: require client certificates. */
  mutualTls?: boolean;
}

/** How to start a broker reachable over one transport. WebSocket and QUIC add their own. */
export interface TransportFixture {
  readonly name: string;
  start(opts?: HarnessOptions): Promise<BrokerHarness>;
}

async function startWith(broker: BrokerCore, adapter: Adapter, scheme: string, clientOptions: IClientOptions): Promise<BrokerHarness> {
  const [info] = await adapter.start();
  return {
    broker,
    url: `${scheme}://127.0.0.1:${info!.port}`,
    port: info!.port,
    clientOptions,
    stop: async () => {
      await adapter.stop({ drainMs: 500 });
      await broker.close();
    },
  };
}

export const tcpFixture: TransportFixture = {
  name: 'tcp',
  async start(opts = {}) {
    const broker = new BrokerCore(opts.broker);
    const ctx = createAdapterContext(broker, { sections: { mqtt: { ...defaultMqttOptions, ...opts.mqtt } } });
    const adapter = tcpListenersFactory.create(ctx, { default: { enable: true, bind: '127.0.0.1:0', max_connections: 10_000, mountpoint: '' } });
    return startWith(broker, adapter, 'mqtt', {});
  },
};

export const tlsFixture: TransportFixture = {
  name: 'tls',
  async start(opts = {}) {
    const pki = testPki();
    const broker = new BrokerCore(opts.broker);
    const ctx = createAdapterContext(broker, { sections: { mqtt: { ...defaultMqttOptions, ...opts.mqtt } } });
    const adapter = sslListenersFactory.create(ctx, {
      default: {
        enable: true,
        bind: '127.0.0.1:0',
        max_connections: 10_000,
        mountpoint: '',
        ssl_options: {
          certfile: pki.certFile,
          keyfile: pki.keyFile,
          cacertfile: pki.caFile,
          verify: opts.mutualTls ? 'verify_peer' : 'verify_none',
          fail_if_no_peer_cert: opts.mutualTls ?? false,
          versions: ['tlsv1.3', 'tlsv1.2'],
        },
      },
    });
    const clientOptions: IClientOptions = { ca: pki.ca, rejectUnauthorized: true, servername: 'localhost' };
    if (opts.mutualTls) Object.assign(clientOptions, { cert: pki.clientCert, key: pki.clientKey });
    return startWith(broker, adapter, 'mqtts', clientOptions);
  },
};
