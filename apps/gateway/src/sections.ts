/**
 * The adapters this gateway is built with. This is the one place that names them: each is one
 * `register` call with its factory, whose `type` is the config section it reads.
 */
import { brokerConfigSchema } from '@junction/broker-core';
import { sslListenersFactory, tcpListenersFactory } from '@junction/mqtt';
import { AdapterRegistry } from './registry.js';

export function gatewaySections(): AdapterRegistry {
  return new AdapterRegistry()
    .addSection('mqtt', brokerConfigSchema)
    .register(tcpListenersFactory)
    .register(sslListenersFactory);
}
