/**
 * A small pub -> sub benchmark of MQTT.js over QUIC against the same over TCP, in one process
 * (broker and both clients), for before/after comparisons of the QUIC transport. Not a test.
 *
 *   node --conditions=@junction/source --import tsx packages/quic/bench/quic-pubsub.ts quic single
 *   node --conditions=@junction/source --import tsx packages/quic/bench/quic-pubsub.ts quic multi
 *   node --conditions=@junction/source --import tsx packages/quic/bench/quic-pubsub.ts tcp
 *   (add --cpu-prof --cpu-prof-dir=/tmp/prof after `node` for a CPU profile)
 *
 * Prints one JSON line: the mean QoS 1 PUBLISH/PUBACK round trip (RTT, default 300 one at a
 * time), the time for N0 (3000) QoS 0 messages of 64 bytes from one publisher to one
 * subscriber, and for N1B (800) QoS 1 messages published at once.
 */
import { BrokerCore, createAdapterContext, type Adapter } from '@junction/broker-core';
import { defaultMqttOptions, tcpListenersFactory } from '@junction/mqtt';
import { testPki } from '@junction/mqtt/testing';
import mqtt, { MqttClient } from 'mqtt';
import { quicListenersFactory, quicStreamBuilder } from '../src/quic/index.js';

const kind = process.argv[2] === 'tcp' ? 'tcp' : 'quic';
const mode = process.argv[3] === 'multi' ? 'multi' : 'single';
const RTT = Number(process.env.RTT ?? 300);
const N0 = Number(process.env.N0 ?? 3000);
const N1B = Number(process.env.N1B ?? 800);

const broker = new BrokerCore();
const ctx = createAdapterContext(broker, { sections: { mqtt: defaultMqttOptions } });
const pki = testPki();
const adapter: Adapter =
  kind === 'quic'
    ? quicListenersFactory.create(ctx, {
        default: {
          enable: true,
          bind: { host: '127.0.0.1', port: 0 },
          max_connections: 100,
          mountpoint: '',
          idle_timeout: 30_000,
          handshake_idle_timeout: 5000,
          keep_alive_interval: 0,
          peer_bidi_stream_count: 10,
          ssl_options: { certfile: pki.certFile, keyfile: pki.keyFile, verify: 'verify_none', fail_if_no_peer_cert: false, versions: ['tlsv1.3'] },
        },
      })
    : tcpListenersFactory.create(ctx, { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 100, mountpoint: '' } });
const [info] = await adapter.start();
const port = info!.port;

function client(clientId: string): Promise<MqttClient> {
  const opts = { protocolVersion: 5 as const, reconnectPeriod: 0, clientId };
  const c =
    kind === 'quic'
      ? new MqttClient(quicStreamBuilder({ host: '127.0.0.1', port, serverName: 'localhost', ca: pki.ca, mode }), opts)
      : mqtt.connect(`mqtt://127.0.0.1:${port}`, opts);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

function receive(sub: MqttClient, topic: string, n: number): Promise<void> {
  let got = 0;
  return new Promise((resolve) => {
    const on = (t: string) => {
      if (t === topic && ++got === n) {
        sub.off('message', on);
        resolve();
      }
    };
    sub.on('message', on);
  });
}

const pub = await client('bench-pub');
const sub = await client('bench-sub');
await sub.subscribeAsync('bench/#', { qos: 1 });
for (let i = 0; i < 50; i++) await pub.publishAsync('warm/up', 'w', { qos: 1 });

let t = performance.now();
for (let i = 0; i < RTT; i++) await pub.publishAsync('rtt/x', 'hello', { qos: 1 });
const rtt = (performance.now() - t) / RTT;

const payload = Buffer.alloc(64, 1);
let all = receive(sub, 'bench/q0', N0);
t = performance.now();
for (let i = 0; i < N0; i++) pub.publish('bench/q0', payload, { qos: 0 });
await all;
const qos0 = performance.now() - t;

all = receive(sub, 'bench/q1', N1B);
t = performance.now();
await Promise.all(Array.from({ length: N1B }, () => pub.publishAsync('bench/q1', payload, { qos: 1 })));
await all;
const qos1 = performance.now() - t;

console.log(JSON.stringify({ transport: kind, mode: kind === 'quic' ? mode : undefined, rtt_ms: +rtt.toFixed(3), qos0_ms: Math.round(qos0), qos0_n: N0, qos1_ms: Math.round(qos1), qos1_n: N1B }));
pub.end(true);
sub.end(true);
await adapter.stop({ drainMs: 100 });
await broker.close();
process.exit(0);
