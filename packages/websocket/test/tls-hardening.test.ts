/**
 * The wss listener through @junction/tls: a client certificate revoked in the CRL its
 * distribution point serves is refused before any WebSocket; the good one gets in, its SAN as user
 * name (`peer_cert_as_username: san`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BrokerCore, createAdapterContext, type Adapter, type ConnectInfo } from '@junction/broker-core';
import { defaultMqttOptions } from '@junction/mqtt';
import { makePki, type Pki } from '@junction/tls/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultWebsocketOptions, wssListenersFactory } from '../src/index.js';

let pki: Pki;
let crlServer: Server;
let broker: BrokerCore | undefined;
let adapter: Adapter | undefined;
const clients: MqttClient[] = [];

beforeAll(async () => {
  crlServer = createServer((_req, res) => res.end(pki.read('ca.crl.der')));
  await new Promise<void>((resolve) => crlServer.listen(0, '127.0.0.1', resolve));
  const crlUrl = `http://127.0.0.1:${(crlServer.address() as AddressInfo).port}/ca.crl`;
  pki = makePki({ crlUrl, clientSan: 'DNS:meter-9.devices.example' });
  pki.issue('server', 'localhost', 'server_ext');
  pki.issue('good', 'meter-9', 'client_ext');
  pki.issue('bad', 'meter-x', 'client_ext');
  pki.revoke('bad');
  pki.gencrl();
});

afterAll(async () => {
  await new Promise<void>((resolve) => crlServer?.close(() => resolve()));
  pki?.cleanup();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await adapter?.stop({ drainMs: 500 });
  await broker?.close();
});

async function start(): Promise<string> {
  broker = new BrokerCore();
  const ctx = createAdapterContext(broker, { sections: { mqtt: { ...defaultMqttOptions, peer_cert_as_username: 'san' } } });
  adapter = wssListenersFactory.create(ctx, {
    default: {
      enable: true,
      bind: { host: '127.0.0.1', port: 0 },
      max_connections: 100,
      mountpoint: '',
      websocket: { ...defaultWebsocketOptions },
      ssl_options: {
        certfile: pki.file('server.crt'),
        keyfile: pki.file('server.key'),
        cacertfile: pki.file('ca.crt'),
        verify: 'verify_peer',
        fail_if_no_peer_cert: true,
        versions: ['tlsv1.3', 'tlsv1.2'],
        enable_crl_check: true,
      },
    },
  });
  const [info] = await adapter.start();
  return `wss://127.0.0.1:${info!.port}/mqtt`;
}

function connect(url: string, name: string): Promise<boolean> {
  const tls = { ca: pki.read('ca.crt'), cert: pki.read(`${name}.crt`), key: pki.read(`${name}.key`), servername: 'localhost' };
  const client = mqtt.connect(url, { ...tls, wsOptions: tls, reconnectPeriod: 0, connectTimeout: 5000 });
  clients.push(client);
  return new Promise((resolve) => {
    client.once('connect', () => resolve(true));
    client.once('error', () => resolve(false));
    client.once('close', () => resolve(false));
  });
}

describe('wss with CRL checking and certificate identity', () => {
  it('refuses the revoked certificate, accepts the good one with its SAN as user name', async () => {
    const url = await start();
    const connected: ConnectInfo[] = [];
    broker!.hooks.on('client.connected', (_c: unknown, info: ConnectInfo) => connected.push(info));
    expect(await connect(url, 'bad')).toBe(false);
    expect(connected).toEqual([]);
    expect(await connect(url, 'good')).toBe(true);
    expect(connected.map((i) => i.username)).toEqual(['meter-9.devices.example']);
    expect(connected[0]!.peerCert).toMatchObject({ commonName: 'meter-9', subjectAltName: 'DNS:meter-9.devices.example' });
  });
});
