/**
 * The broker's own cost of a connection, without sockets: MqttConnection and BrokerCore (from
 * dist: build first) over a minimal in-memory stream, with a synchronous `client.connect`
 * interceptor and two notification listeners as the gateway's plugins register them. Each cycle
 * is CONNECT (MQTT 3.1.1, clean session) → CONNACK → DISCONNECT, 100 connections at a time.
 *
 *   node --single-threaded packages/mqtt/bench/connect-path.mjs [cycles]
 *
 * Under callgrind (docs/performance.md, "Counting instructions instead of time"), CALLGRIND=1
 * switches instrumentation on after a warm-up round of the same size and dumps after the
 * measured one:
 *
 *   CALLGRIND=1 valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes \
 *     node --single-threaded packages/mqtt/bench/connect-path.mjs 3000
 */
import { exec } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { BrokerCore, createTopicMapper } from '@junction/broker-core';
import { defaultMqttOptions, MqttConnection } from '@junction/mqtt';
import mqtt from 'mqtt-packet';

const cycles = Number(process.argv[2] ?? 3000);
const run = (cmd) => new Promise((resolve, reject) => exec(cmd, (err, out) => (err ? reject(err) : resolve(out))));

/** The part of a socket MqttConnection uses; writes are counted, not sent. */
class MemoryStream extends EventEmitter {
  destroyed = false;
  paused = false;
  written = 0;
  write(b) {
    this.written += b.length;
    return true;
  }
  cork() {}
  uncork() {}
  end() {
    this.destroy();
  }
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    process.nextTick(() => this.emit('close'));
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  isPaused() {
    return this.paused;
  }
}

const broker = new BrokerCore({ config: { allow_anonymous: true } });
broker.hooks.intercept('client.connect', () => ({ result: 'ignore' }));
const connected = new Map();
broker.hooks.on('client.connected', (c) => connected.set(c.clientId, c));
broker.hooks.on('client.disconnected', (c) => connected.delete(c.clientId));
const log = { debug() {}, info() {}, warn() {}, error() {}, child: () => log };
const ctx = { broker, metrics: broker.metrics, log, options: defaultMqttOptions, topics: createTopicMapper(undefined), listener: 'tcp:default' };
const DISCONNECT = Buffer.from([0xe0, 0x00]);
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function round(tag) {
  let acked = 0;
  for (let i = 0; i < cycles; i += 100) {
    const streams = [];
    for (let j = 0; j < 100; j++) {
      const s = new MemoryStream();
      new MqttConnection(s, ctx, { peer: `127.0.0.1:${10_000 + j}` });
      s.emit('data', mqtt.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: `${tag}-${i + j}`, keepalive: 60 }));
      streams.push(s);
    }
    await turn();
    for (const s of streams) {
      if (s.written >= 4) acked++;
      s.emit('data', DISCONNECT);
    }
    await turn();
  }
  return acked;
}

await round('warm');
if (process.env.CALLGRIND) {
  await run(`callgrind_control -i on ${process.pid}`);
  await run(`callgrind_control -z ${process.pid}`);
}
const t0 = process.hrtime.bigint();
const acked = await round('measured');
const ns = Number(process.hrtime.bigint() - t0);
if (process.env.CALLGRIND) await run(`callgrind_control -d measured ${process.pid}`);
console.log(JSON.stringify({ cycles, acked, sessions_left: broker.stats().sessions, us_per_cycle: +(ns / cycles / 1000).toFixed(2) }));
await broker.close();
