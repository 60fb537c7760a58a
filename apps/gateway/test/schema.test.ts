import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { buildGatewaySchema } from '../src/config/schema.js';
import { asRecord, schemaAt } from '../src/config/walk.js';
import { testSchema } from './helpers.js';

/** Every property path in a schema whose schema has no description. */
function undescribed(schema: ReturnType<typeof buildGatewaySchema>): string[] {
  const missing: string[] = [];
  const visit = (s: ReturnType<typeof asRecord>, path: string) => {
    for (const [key, inner] of Object.entries(s.properties ?? {})) {
      const p = path ? `${path}.${key}` : key;
      if (!asRecord(inner).description) missing.push(p);
      visit(asRecord(inner), p);
    }
  };
  visit(asRecord(schema), '');
  return missing;
}

describe('buildGatewaySchema', () => {
  it('has the base sections, with descriptions everywhere', () => {
    const schema = buildGatewaySchema({});
    expect(Object.keys(asRecord(schema).properties ?? {})).toEqual(['node', 'log', 'sys_topics']);
    expect(undescribed(schema)).toEqual([]);
  });

  it('nests dotted section paths into objects', () => {
    expect(Object.keys(asRecord(testSchema).properties ?? {})).toEqual(['node', 'log', 'sys_topics', 'mqtt', 'listeners', 'gateway']);
    expect(schemaAt(testSchema, ['listeners', 'tcp', 'default', 'bind'])).toBeDefined();
    expect(schemaAt(testSchema, ['gateway', 'coap', 'heartbeat'])).toBeDefined();
    const listeners = asRecord(asRecord(testSchema).properties?.['listeners'] ?? Type.Never());
    expect(listeners.additionalProperties).toBe(false);
    expect(listeners.default).toEqual({});
    expect(listeners.description).toContain('Listeners of the MQTT broker');
    expect(undescribed(testSchema)).toEqual([]);
  });

  it('makes a section without a default optional and one with a default required', () => {
    const root = asRecord(testSchema);
    expect(root.required).toContain('mqtt');
    expect(asRecord(root.properties?.['gateway'] ?? Type.Never()).required ?? []).not.toContain('coap');
  });

  it('describes an unknown group generically', () => {
    const schema = buildGatewaySchema({ 'bridges.mqtt': Type.Object({}, { description: 'MQTT bridges.' }) });
    expect(asRecord(schemaAt(schema, ['bridges']) ?? Type.Never()).description).toBe('Settings under `bridges`.');
  });

  it('refuses overlapping or invalid section paths', () => {
    const s = Type.Object({});
    expect(() => buildGatewaySchema({ node: s })).toThrow('config section "node" overlaps "node"');
    expect(() => buildGatewaySchema({ 'node.extra': s })).toThrow('is inside section "node"');
    expect(() => buildGatewaySchema({ listeners: s, 'listeners.tcp': s })).toThrow('is inside section "listeners"');
    expect(() => buildGatewaySchema({ 'listeners.tcp': s, listeners: s })).toThrow('config section "listeners" overlaps');
    expect(() => buildGatewaySchema({ 'Gateway.CoAP': s })).toThrow('invalid config section path');
    expect(() => buildGatewaySchema({ '': s })).toThrow('invalid config section path');
  });
});
