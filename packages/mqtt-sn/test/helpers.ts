/**
 * A running stack for behaviour tests: one broker core, the MQTT-SN gateway on a free UDP port,
 * and the MQTT TCP listener for MQTT.js clients on the other side.
 */
import { BrokerCore, createAdapterContext, type BrokerOptions } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { startMqttSnGateway, type MqttSnHarness, type MqttSnHarnessOptions, type MqttSnTestClient } from '../src/testing/index.js';

export interface Stack {
  readonly broker: BrokerCore;
  readonly sn: MqttSnHarness;
  /** A new MQTT-SN test client (closed by `stop`). */
  snClient(): Promise<MqttSnTestClient>;
  /** A connected MQTT.js client recording what it receives (closed by `stop`). */
  mqtt(opts?: IClientOptions): Promise<Recorder>;
  stop(): Promise<void>;
}

export interface ReceivedMessage {
  topic: string;
  text: string;
  qos: number;
  retain: boolean;
}

/** An MQTT.js client and the messages it got. */
export interface Recorder {
  readonly client: MqttClient;
  readonly messages: ReceivedMessage[];
  /** Resolves once `n` messages (matching `topic` if given) have arrived. */
  waitFor(n: number, topic?: string, timeoutMs?: number): Promise<ReceivedMessage[]>;
}

export async function startStack(opts: Omit<MqttSnHarnessOptions, 'core'> & { broker?: BrokerOptions } = {}): Promise<Stack> {
  const broker = new BrokerCore(opts.broker);
  const tcp = tcpListenersFactory.create(createAdapterContext(broker), { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 1000, mountpoint: '' } });
  const [info] = await tcp.start();
  const sn = await startMqttSnGateway({ ...opts, core: broker });
  const clients: MqttClient[] = [];
  return {
    broker,
    sn,
    snClient: () => sn.client(),
    async mqtt(o = {}) {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${info!.port}`, { reconnectPeriod: 0, protocolVersion: 5, ...o });
      clients.push(client);
      return record(client);
    },
    async stop() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await sn.stop();
      await tcp.stop({ drainMs: 100 });
      await broker.close();
    },
  };
}

function record(client: MqttClient): Recorder {
  const messages: ReceivedMessage[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, text: payload.toString(), qos: packet.qos, retain: packet.retain });
    for (const w of [...waiters]) w();
  });
  return {
    client,
    messages,
    waitFor(n, topic, timeoutMs = 3000) {
      const matching = () => messages.filter((m) => topic === undefined || m.topic === topic);
      return new Promise((resolve, reject) => {
        const check = () => {
          const got = matching();
          if (got.length < n) return;
          waiters.delete(check);
          clearTimeout(t);
          resolve(got);
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${n} message(s)${topic ? ` on ${topic}` : ''}, got ${JSON.stringify(matching())}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let n = 0;
/** A unique client id or topic segment. */
export function uid(prefix = 'c'): string {
  return `${prefix}${(++n).toString(36)}${process.pid.toString(36)}`;
}

/** Poll `check` until it holds (for state that has no event to wait on). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
