import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';

/** A Node service with its own MQTT broker: the core plus one adapter, no gateway. */
export async function startEmbeddedBroker(port = 1883) {
  const broker = new BrokerCore({ nodeName: 'my-service@127.0.0.1' });

  // Hooks see every client and message, whatever the protocol.
  broker.hooks.on('client.connected', (client) => console.log('connected:', client.clientId));

  const mqtt = tcpListenersFactory.create(createAdapterContext(broker), {
    default: { enable: true, bind: { host: '127.0.0.1', port }, max_connections: 10_000, mountpoint: '' },
  });
  const [listener] = await mqtt.start();

  // The service publishes onto the same bus its MQTT clients use.
  broker.publish({ topic: 'service/status', payload: Buffer.from('up'), qos: 1, retain: true });

  return {
    port: listener!.port,
    stop: async () => {
      await mqtt.stop();
      await broker.close();
    },
  };
}
