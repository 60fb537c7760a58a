import { BrokerCore, createAdapterContext, type BrokerOptions, type Clock } from '@junction/broker-core';
import { MqttSnAdapter } from '../adapter.js';
import { mqttSnConfig, type MqttSnConfigInput, type UdpListenerInput } from '../config.js';
import { MqttSnTestClient } from './client.js';

export interface MqttSnHarnessOptions {
  /** An existing broker (say with an MQTT listener too); else a new one from `broker`. */
  core?: BrokerCore;
  broker?: BrokerOptions;
  /** Gateway settings; the `default` listener binds 127.0.0.1:0 unless `listener` says else. */
  config?: Omit<MqttSnConfigInput, 'listeners'>;
  listener?: UdpListenerInput;
  clock?: Clock;
}

/** A running MQTT-SN gateway on a free UDP port, for tests. */
export interface MqttSnHarness {
  readonly broker: BrokerCore;
  readonly adapter: MqttSnAdapter;
  readonly host: string;
  readonly port: number;
  /** A new test client talking to the gateway. Closed by `stop()`. */
  client(): Promise<MqttSnTestClient>;
  /** Stop the gateway, close the clients, and close the broker if the harness made it. */
  stop(): Promise<void>;
}

export async function startMqttSnGateway(opts: MqttSnHarnessOptions = {}): Promise<MqttSnHarness> {
  const broker = opts.core ?? new BrokerCore(opts.broker);
  const config = mqttSnConfig({ ...opts.config, listeners: { udp: { default: { bind: { host: '127.0.0.1', port: 0 }, ...opts.listener } } } });
  const adapter = new MqttSnAdapter(createAdapterContext(broker), config, { clock: opts.clock });
  const [info] = await adapter.start();
  const host = info!.host;
  const clients: MqttSnTestClient[] = [];
  let stopped: Promise<void> | undefined;
  return {
    broker,
    adapter,
    host,
    port: info!.port,
    async client() {
      const c = await MqttSnTestClient.open(info!.port, host);
      clients.push(c);
      return c;
    },
    stop: () =>
      (stopped ??= (async () => {
        await adapter.stop();
        await Promise.all(clients.map((c) => c.close()));
        if (!opts.core) await broker.close();
      })()),
  };
}
