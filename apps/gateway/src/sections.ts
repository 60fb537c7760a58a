/**
 * The adapters this gateway is built with. This is the one place that names them: each is one
 * `register` call with its factory, whose `type` is the config section it reads.
 */
import { adminSections } from '@junction/admin';
import { authSections } from '@junction/auth';
import { brokerConfigSchema } from '@junction/broker-core';
import { clusterConfigSchema } from '@junction/cluster';
import { coapGatewayFactory } from '@junction/coap';
import { connectorsSections, sourcesSection } from '@junction/connectors';
import { sslListenersFactory, tcpListenersFactory } from '@junction/mqtt';
import { mqttSnGatewayFactory } from '@junction/mqtt-sn';
import { ocppGatewayDescriptor } from '@junction/ocpp/schema';
import { quicListenersDescriptor, webtransportListenersDescriptor } from '@junction/quic/schema';
import { rulesConfigSchema } from '@junction/rules';
import { durableSessionsSchema } from '@junction/store-lmdb';
import { wsListenersFactory, wssListenersFactory } from '@junction/websocket';
import { AdapterRegistry } from './registry.js';

export function gatewaySections(): AdapterRegistry {
  const registry = new AdapterRegistry();
  // Authentication, authorization, bans and flapping: read by @junction/auth, for every adapter.
  for (const [path, schema] of Object.entries(authSections)) registry.addSection(path, schema);
  // The management plane: dashboard (REST API) listener, Prometheus, API keys.
  for (const [path, schema] of Object.entries(adminSections)) registry.addSection(path, schema);
  // Durable sessions and retained messages under node.data_dir.
  registry.addSection('durable_sessions', durableSessionsSchema);
  // Clustering over NATS (off unless `cluster.enable`).
  registry.addSection('cluster', clusterConfigSchema);
  // The rule engine: EMQX's rule_engine section, and the sinks its rules send to.
  registry.addSection('rule_engine', rulesConfigSchema);
  for (const [path, schema] of Object.entries(connectorsSections)) registry.addSection(path, schema);
  registry.addSection('sources', sourcesSection);
  return registry
    .addSection('mqtt', brokerConfigSchema)
    .register(tcpListenersFactory)
    .register(sslListenersFactory)
    .register(wsListenersFactory)
    .register(wssListenersFactory)
    // Loaded when configured: their QUIC, HTTP/3 and OCPP libraries are large.
    .registerLazy(quicListenersDescriptor, async () => (await import('@junction/quic')).quicListenersFactory)
    .registerLazy(webtransportListenersDescriptor, async () => (await import('@junction/quic')).webtransportListenersFactory)
    .register(mqttSnGatewayFactory)
    .register(coapGatewayFactory)
    .registerLazy(ocppGatewayDescriptor, async () => (await import('@junction/ocpp')).ocppGatewayFactory);
}
