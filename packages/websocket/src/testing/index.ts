/**
 * Transport fixtures for the MQTT behaviour suite over WebSocket: `mqttBehaviourSuite(wsFixture)`
 * runs the same tests as TCP and TLS, with MQTT.js connecting to `ws://…/mqtt` and raw clients
 * writing MQTT bytes into binary WebSocket messages.
 */
import type { Duplex } from 'node:stream';
import { BrokerCore, createAdapterContext, type Adapter } from '@junction/broker-core';
import { defaultMqttOptions } from '@junction/mqtt';
import { testPki, type BrokerHarness, type HarnessOptions, type TransportFixture } from '@junction/mqtt/testing';
import type { IClientOptions } from 'mqtt';
import WebSocket, { createWebSocketStream, type ClientOptions } from 'ws';
import { wsListenersFactory, wssListenersFactory } from '../adapter.js';
import { defaultWebsocketOptions, type WebsocketOptions } from '../config.js';

/** Harness options of the WebSocket fixtures: the common ones plus `websocket` settings. */
export interface WsHarnessOptions extends HarnessOptions {
  websocket?: Partial<WebsocketOptions>;
}

/**
 * Open a WebSocket client connection (subprotocol `mqtt` unless given) and resolve once it is
 * open; rejects with the HTTP status when the handshake is refused.
 */
export function openWebSocket(url: string, opts: ClientOptions & { protocols?: string[] } = {}): Promise<WebSocket> {
  const { protocols = ['mqtt'], ...rest } = opts;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, rest);
    ws.once('open', () => {
      ws.off('error', reject);
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      ws.off('error', reject);
      reject(Object.assign(new Error(`handshake refused: HTTP ${res.statusCode}`), { statusCode: res.statusCode }));
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** A byte stream over an open WebSocket: each write is one binary message. */
export function webSocketDuplex(ws: WebSocket): Duplex {
  const stream = createWebSocketStream(ws);
  // The stream ends with the socket, whoever closes it.
  ws.once('close', () => stream.destroy());
  return stream;
}

async function startWebSocketHarness(secure: boolean, opts: WsHarnessOptions): Promise<BrokerHarness> {
  const broker = new BrokerCore(opts.broker);
  const ctx = createAdapterContext(broker, { sections: { mqtt: { ...defaultMqttOptions, ...opts.mqtt } } });
  const base = {
    enable: true,
    bind: { host: '127.0.0.1', port: 0 },
    max_connections: 10_000,
    mountpoint: '',
    websocket: { ...defaultWebsocketOptions, ...opts.websocket },
  };
  let adapter: Adapter;
  let clientOptions: IClientOptions = {};
  let wsOptions: ClientOptions = {};
  if (secure) {
    const pki = testPki();
    adapter = wssListenersFactory.create(ctx, {
      default: {
        ...base,
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
    wsOptions = { ca: pki.ca, rejectUnauthorized: true, ...(opts.mutualTls ? { cert: pki.clientCert, key: pki.clientKey } : {}) };
    clientOptions = { ca: pki.ca, rejectUnauthorized: true, ...(opts.mutualTls ? { cert: pki.clientCert, key: pki.clientKey } : {}), wsOptions: { ...wsOptions } };
  } else {
    adapter = wsListenersFactory.create(ctx, { default: base });
  }
  const [info] = await adapter.start();
  const port = info!.port;
  const url = `${secure ? 'wss' : 'ws'}://127.0.0.1:${port}${base.websocket.mqtt_path}`;
  let stopped: Promise<void> | undefined;
  return {
    broker,
    url,
    port,
    clientOptions,
    openStream: async () => webSocketDuplex(await openWebSocket(url, wsOptions)),
    stop: () =>
      (stopped ??= (async () => {
        await adapter.stop({ drainMs: 500 });
        await broker.close();
      })()),
  };
}

/** A broker with one `listeners.ws` listener on 127.0.0.1, port 0, path `/mqtt`. */
export const wsFixture: TransportFixture & { start(opts?: WsHarnessOptions): Promise<BrokerHarness> } = {
  name: 'ws',
  start: (opts = {}) => startWebSocketHarness(false, opts),
};

/** A broker with one `listeners.wss` listener (test PKI; `mutualTls` requires client certificates). */
export const wssFixture: TransportFixture & { start(opts?: WsHarnessOptions): Promise<BrokerHarness> } = {
  name: 'wss',
  start: (opts = {}) => startWebSocketHarness(true, opts),
};
