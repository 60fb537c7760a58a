import type { Adapter, AdapterFactory } from '@junction/broker-core';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { Bytes } from '@junction/broker-core';
import { buildGatewaySchema } from '../src/config/schema.js';
import { AdapterRegistry } from '../src/registry.js';
import { gatewaySections } from '../src/sections.js';
import { at, tmpFile } from './helpers.js';

const idle: Adapter = { start: async () => [], stop: async () => {}, stats: () => ({ connections: 0 }) };

function factory(type: string, port = 1883): AdapterFactory {
  return {
    type,
    configSchema: Type.Object({ port: Type.Integer({ default: port, description: 'Port.' }) }, { additionalProperties: false, default: {}, description: `${type} settings.` }),
    create: () => idle,
  };
}

describe('AdapterRegistry', () => {
  it('registers, finds and lists factories by section path, in registration order', async () => {
    const tcp = factory('listeners.tcp');
    const coap = factory('gateway.coap', 5683);
    const registry = new AdapterRegistry().register(tcp).register(coap);
    expect(await registry.get('listeners.tcp')!.load()).toBe(tcp);
    expect(await registry.get('gateway.coap')!.load()).toBe(coap);
    expect(registry.get('gateway.ocpp')).toBeUndefined();
    expect(registry.list().map((e) => [e.type, e.lazy])).toEqual([
      ['listeners.tcp', false],
      ['gateway.coap', false],
    ]);
  });

  it('loads a lazily registered factory once, on demand, and checks it matches its descriptor', async () => {
    const ocpp = factory('gateway.ocpp', 33033);
    let loads = 0;
    const { create: _create, ...descriptor } = ocpp;
    const registry = new AdapterRegistry().registerLazy(descriptor, async () => {
      loads++;
      return ocpp;
    });
    expect(loads).toBe(0);
    expect(buildGatewaySchema(registry.schemaSections())).toBeDefined();
    const entry = registry.get('gateway.ocpp')!;
    expect(entry.lazy).toBe(true);
    expect(await entry.load()).toBe(ocpp);
    expect(await entry.load()).toBe(ocpp);
    expect(loads).toBe(1);
    const other = factory('gateway.ocpp');
    const wrong = new AdapterRegistry().registerLazy(descriptor, async () => other);
    await expect(wrong.get('gateway.ocpp')!.load()).rejects.toThrow('does not match its descriptor');
  });

  it('registers the QUIC, WebTransport and OCPP adapters to load on demand, their sections in the schema', () => {
    const sections = gatewaySections();
    expect(sections.get('listeners.quic')?.lazy).toBe(true);
    expect(sections.get('gateway.ocpp')?.lazy).toBe(true);
    expect(sections.get('listeners.tcp')?.lazy).toBe(false);
    expect(Object.keys(sections.schemaSections())).toEqual(expect.arrayContaining(['listeners.quic', 'listeners.webtransport', 'gateway.ocpp']));
  });

  it('refuses a second factory for the same section', () => {
    const registry = new AdapterRegistry().register(factory('mqtt'));
    expect(() => registry.register(factory('mqtt'))).toThrow('adapter type "mqtt" is already registered');
  });

  it('refuses a type that is not a section path', () => {
    expect(() => new AdapterRegistry().register(factory('Gateway/CoAP'))).toThrow('is not a config section path');
    expect(() => new AdapterRegistry().register(factory('gateway..coap'))).toThrow('is not a config section path');
  });

  it('gives the schema sections by path', () => {
    const tcp = factory('listeners.tcp');
    const registry = new AdapterRegistry().register(tcp);
    expect(registry.schemaSections()).toEqual({ 'listeners.tcp': tcp.configSchema });
  });

  it('adds an adapter to the config with one entry and nothing else', () => {
    const registry = new AdapterRegistry().register(factory('gateway.coap', 5683));
    const schema = buildGatewaySchema(registry.schemaSections());
    const config = loadConfig({ file: tmpFile('gateway:\n  coap:\n    port: 5684\n'), env: {}, schema });
    expect(at(config, 'gateway.coap')).toEqual({ port: 5684 });
    const defaults = loadConfig({ env: {}, schema });
    expect(at(defaults, 'gateway.coap')).toEqual({ port: 5683 });
  });

  it('merges the shared sections factories declare, and the core adds, into one always-present section', () => {
    const wire = Type.Object({ max_packet_size: Bytes({ default: '1MB', description: 'Largest packet.' }) }, { additionalProperties: false, description: 'MQTT settings.' });
    const session = Type.Object({ max_inflight: Type.Integer({ default: 32, description: 'Inflight window.' }) }, { additionalProperties: false });
    const registry = new AdapterRegistry()
      .register({ ...factory('listeners.tcp'), sections: { mqtt: wire } })
      .register({ ...factory('listeners.ssl'), sections: { mqtt: wire } })
      .addSection('mqtt', session);
    const sections = registry.schemaSections();
    expect(Object.keys(sections)).toEqual(['listeners.tcp', 'listeners.ssl', 'mqtt']);
    const schema = buildGatewaySchema(sections);
    expect(at(loadConfig({ env: {}, schema }), 'mqtt')).toEqual({ max_packet_size: 1_048_576, max_inflight: 32 });
    const err = (() => {
      try {
        loadConfig({ file: tmpFile('mqtt:\n  max_inflight: 10\n  max_inflght: 10\n'), env: {}, schema });
      } catch (e) {
        return e as Error & { path: string };
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.path).toBe('mqtt.max_inflght');
    expect(err.message).toContain('expected one of: max_packet_size, max_inflight');
  });

  it('gives a shared section declared once a default, so it is always present', () => {
    const wire = Type.Object({ max_packet_size: Bytes({ default: '1MB', description: 'Largest packet.' }) }, { additionalProperties: false });
    const schema = buildGatewaySchema(new AdapterRegistry().register({ ...factory('listeners.tcp'), sections: { mqtt: wire } }).schemaSections());
    expect(at(loadConfig({ env: {}, schema }), 'mqtt.max_packet_size')).toBe(1_048_576);
  });

  it('refuses shared sections that disagree or collide with an adapter section', () => {
    const a = Type.Object({ x: Type.Integer({ default: 1 }) });
    const b = Type.Object({ x: Type.String({ default: 'one' }) });
    const registry = new AdapterRegistry().addSection('mqtt', a).addSection('mqtt', b);
    expect(() => registry.schemaSections()).toThrow('config key "mqtt.x" is declared twice, with different schemas');
    const maps = new AdapterRegistry().addSection('limits', Type.Record(Type.String(), Type.Integer())).addSection('limits', a);
    expect(() => maps.schemaSections()).toThrow('config section "limits" is declared more than once, and only objects with fixed keys can be merged');
    expect(() => new AdapterRegistry().register(factory('mqtt')).addSection('mqtt', a)).toThrow(`config section "mqtt" is an adapter's own section`);
    expect(() => new AdapterRegistry().addSection('mqtt', a).register(factory('mqtt'))).toThrow('adapter type "mqtt" is already a shared config section');
    expect(() => new AdapterRegistry().register(factory('gateway.coap')).register({ ...factory('gateway.lwm2m'), sections: { 'gateway.coap': a } })).toThrow(
      `shared section "gateway.coap" of gateway.lwm2m is an adapter's own section`,
    );
  });

  it('is empty in the gateway until adapters are wired', () => {
    expect(gatewaySections()).toBeInstanceOf(AdapterRegistry);
  });
});
