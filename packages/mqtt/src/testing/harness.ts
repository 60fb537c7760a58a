import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { BrokerCore, createAdapterContext, type Adapter, type BrokerOptions } from '@junction/broker-core';
import type { IClientOptions, MqttClient } from 'mqtt';
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
  /**
   * Optional: makes the behaviour suite's MQTT.js clients, for transports MQTT.js has no URL
   * scheme for (QUIC, WebTransport), e.g. `(opts) => new MqttClient(streamBuilder, opts)`. It gets
   * the full client options (`clientOptions` merged in) and must start connecting at once. When
   * absent, clients are made with `mqtt.connect(url, opts)`.
   */
  connectClient?(opts: IClientOptions): MqttClient;
  /**
   * A raw byte stream to the listener, connected (TLS: handshake done), for tests that must
   * write packets MQTT.js would refuse to send or must stay silent (keepalive).
   */
  openStream(): Promise<Duplex>;
  /** Stop the listener (clients get DISCONNECT 0x8B in MQTT 5) and close the broker. Idempotent. */
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

async function startWith(
  broker: BrokerCore,
  adapter: Adapter,
  scheme: string,
  clientOptions: IClientOptions,
  openStream: (port: number) => Promise<Duplex>,
): Promise<BrokerHarness> {
  const [info] = await adapter.start();
  const port = info!.port;
  let stopped: Promise<void> | undefined;
  return {
    broker,
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    clientOptions,
    openStream: () => openStream(port),
    stop: () =>
      (stopped ??= (async () => {
        await adapter.stop({ drainMs: 500 });
        await broker.close();
      })()),
  };
}

/** Resolves with the socket once `event` fires, rejects on an earlier error. */
function whenConnected<S extends Duplex>(socket: S, event: string): Promise<S> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once(event, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export const tcpFixture: TransportFixture = {
  name: 'tcp',
  async start(opts = {}) {
    const broker = new BrokerCore(opts.broker);
    const ctx = createAdapterContext(broker, { sections: { mqtt: { ...defaultMqttOptions, ...opts.mqtt } } });
    const adapter = tcpListenersFactory.create(ctx, { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 10_000, mountpoint: '' } });
    return startWith(broker, adapter, 'mqtt', {}, (port) => whenConnected(netConnect({ host: '127.0.0.1', port, noDelay: true }), 'connect'));
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
        bind: { host: '127.0.0.1', port: 0 },
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
    const openStream = (port: number) =>
      whenConnected(
        tlsConnect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost', ...(opts.mutualTls ? { cert: pki.clientCert, key: pki.clientKey } : {}) }),
        'secureConnect',
      );
    return startWith(broker, adapter, 'mqtts', clientOptions, openStream);
  },
};
