/**
 * A running gateway for the tests: a BrokerCore, the CoAP gateway on 127.0.0.1 port 0 and, for
 * the MQTT side, an MQTT/TCP listener (MQTT.js connects to it).
 */
import { BrokerCore, createAdapterContext, type BrokerOptions, type Clock } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { CoapGateway, defaultCoapConfig, defaultCoapUdpListener, type CoapConfig, type CoapUdpListenerConfig } from '../src/index.js';

export interface Running {
  readonly broker: BrokerCore;
  readonly gateway: CoapGateway;
  /** Port of the first CoAP listener. */
  readonly port: number;
  readonly ports: number[];
  readonly mqttUrl: string;
  /** An MQTT.js client (closed by `stop`). */
  mqtt(opts?: IClientOptions): Promise<MqttClient>;
  stop(): Promise<void>;
}

export interface StartOptions {
  coap?: Partial<Omit<CoapConfig, 'listeners' | 'blockwise'>> & { blockwise?: Partial<CoapConfig['blockwise']> };
  listeners?: Record<string, Partial<CoapUdpListenerConfig>>;
  broker?: BrokerOptions;
  clock?: Clock;
}

export async function startGateway(opts: StartOptions = {}): Promise<Running> {
  const broker = new BrokerCore(opts.broker);
  const ctx = createAdapterContext(broker);
  const listeners = Object.fromEntries(
    Object.entries(opts.listeners ?? { default: {} }).map(([name, l]) => [name, { ...defaultCoapUdpListener, bind: { host: '127.0.0.1', port: 0 }, ...l }]),
  );
  const config: CoapConfig = {
    ...defaultCoapConfig,
    ...opts.coap,
    blockwise: { ...defaultCoapConfig.blockwise, ...opts.coap?.blockwise },
    listeners: { udp: listeners },
  };
  const gateway = new CoapGateway(ctx, config, { clock: opts.clock });
  const tcp = tcpListenersFactory.create(ctx, { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 1000, mountpoint: '' } });
  const infos = await gateway.start();
  const [mqttInfo] = await tcp.start();
  const mqttUrl = `mqtt://127.0.0.1:${mqttInfo!.port}`;
  const clients: MqttClient[] = [];
  let stopped: Promise<void> | undefined;
  return {
    broker,
    gateway,
    port: infos[0]?.port ?? 0,
    ports: infos.map((i) => i.port),
    mqttUrl,
    async mqtt(o = {}) {
      const c = await mqtt.connectAsync(mqttUrl, { protocolVersion: 5, reconnectPeriod: 0, ...o });
      clients.push(c);
      return c;
    },
    stop: () =>
      (stopped ??= (async () => {
        await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
        await gateway.stop();
        await tcp.stop({ drainMs: 100 });
        await broker.close();
      })()),
  };
}

/** Collects MQTT messages and waits for them. */
export function collect(client: MqttClient): { messages: { topic: string; payload: Buffer; packet: mqtt.IPublishPacket }[]; next(what?: string, timeoutMs?: number): Promise<{ topic: string; payload: Buffer; packet: mqtt.IPublishPacket }> } {
  const messages: { topic: string; payload: Buffer; packet: mqtt.IPublishPacket }[] = [];
  let taken = 0;
  const waiters: (() => void)[] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, packet });
    for (const w of waiters.splice(0)) w();
  });
  return {
    messages,
    next(what = 'an MQTT message', timeoutMs = 3000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${messages.length - taken} more`)), timeoutMs);
        const check = () => {
          if (messages.length > taken) {
            clearTimeout(t);
            resolve(messages[taken++]!);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns something truthy. */
export async function eventually<T>(check: () => T | undefined | false | null, what: string, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = check();
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
