/**
 * Transport fixtures for the MQTT behaviour suite over QUIC, in single- and multi-stream mode.
 * The suite's MQTT.js clients run over QUIC directly: the harness's `connectClient` gives each
 * one `quicStreamBuilder` (our Node client on @matrixai/quic); raw clients (`openStream`) get
 * the QUIC connection's MQTT stream.
 */
import type { Duplex } from 'node:stream';
import { BrokerCore, createAdapterContext, type Adapter } from '@junction/broker-core';
import { defaultMqttOptions } from '@junction/mqtt';
import { testPki, type BrokerHarness, type HarnessOptions, type TransportFixture } from '@junction/mqtt/testing';
import { MqttClient } from 'mqtt';
import { quicListenersFactory, quicStreamBuilder, MqttQuicClient, type MqttQuicClientOptions, type QuicListenerConfig } from '../src/quic/index.js';

export type QuicMode = 'single' | 'multi';

/** Listener config for tests: 127.0.0.1, port 0, the test PKI. */
export function quicListenerConfig(over: Partial<QuicListenerConfig> = {}): QuicListenerConfig {
  const pki = testPki();
  return {
    enable: true,
    bind: { host: '127.0.0.1', port: 0 },
    max_connections: 10_000,
    mountpoint: '',
    idle_timeout: 15_000,
    handshake_idle_timeout: 5_000,
    keep_alive_interval: 0,
    peer_bidi_stream_count: 10,
    ssl_options: { certfile: pki.certFile, keyfile: pki.keyFile, cacertfile: pki.caFile, verify: 'verify_none', fail_if_no_peer_cert: false, versions: ['tlsv1.3'] },
    ...over,
  };
}

/** Client options that trust the test PKI's server certificate. */
export function quicClientOptions(port: number, over: Partial<MqttQuicClientOptions> = {}): MqttQuicClientOptions {
  return { host: '127.0.0.1', port, serverName: 'localhost', ca: testPki().ca, ...over };
}

async function startQuicHarness(mode: QuicMode, opts: HarnessOptions): Promise<BrokerHarness> {
  const broker = new BrokerCore(opts.broker);
  const ctx = createAdapterContext(broker, { sections: { mqtt: { ...defaultMqttOptions, ...opts.mqtt } } });
  const adapter: Adapter = quicListenersFactory.create(ctx, { default: quicListenerConfig() });
  const [info] = await adapter.start();
  const port = info!.port;
  const clientOptions = quicClientOptions(port, { mode });
  let stopped: Promise<void> | undefined;
  return {
    broker,
    url: `mqtt+quic://127.0.0.1:${port}`,
    port,
    clientOptions: {},
    connectClient: (opts) => new MqttClient(quicStreamBuilder(clientOptions), opts),
    openStream: async (): Promise<Duplex> => (await MqttQuicClient.connect(clientOptions)).stream,
    stop: () =>
      (stopped ??= (async () => {
        await adapter.stop({ drainMs: 500 });
        await broker.close();
      })()),
  };
}

/** A broker with one `listeners.quic` listener; clients in single-stream mode. */
export const quicFixture: TransportFixture = { name: 'quic (single-stream)', start: (opts = {}) => startQuicHarness('single', opts) };

/** The same, clients in EMQX's multi-stream mode. */
export const quicMultiFixture: TransportFixture = { name: 'quic (multi-stream)', start: (opts = {}) => startQuicHarness('multi', opts) };
