/** Shared test fixtures: a stand-in gateway schema and temporary config files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { afterAll } from 'vitest';
import { getAtPath } from '../src/config/path.js';
import { buildGatewaySchema } from '../src/config/schema.js';
import { Bind, Bytes, Duration } from '@junction/broker-core';

const listener = Type.Object(
  {
    bind: Bind({ default: '127.0.0.1:1883', description: 'Address to listen on.' }),
    enable: Type.Boolean({ default: true, description: 'Whether the listener runs.' }),
    max_connections: Type.Integer({ default: 1024, minimum: 1, description: 'Connection limit.' }),
    mountpoint: Type.Optional(Type.String({ description: 'Topic prefix.' })),
  },
  { additionalProperties: false, description: 'One listener.' },
);

/** Sections shaped like the real ones the adapters will contribute. */
export const testSections = {
  mqtt: Type.Object(
    {
      max_packet_size: Bytes({ default: '1MB', description: 'Largest packet accepted.' }),
      session_expiry_interval: Duration({ default: '2h', description: 'Session expiry.' }),
      await_rel_timeout: Duration({ default: '300s', description: 'QoS 2 release timeout.' }),
      max_inflight: Type.Integer({ default: 32, minimum: 1, maximum: 65535, description: 'Inflight window.' }),
      retain_available: Type.Boolean({ default: true, description: 'Accept retained messages.' }),
      client_id_prefixes: Type.Array(Type.String(), { default: [], description: 'Allowed prefixes.' }),
    },
    { additionalProperties: false, default: {}, description: 'MQTT protocol settings.' },
  ),
  'listeners.tcp': Type.Record(Type.String(), listener, { description: 'TCP listeners by name.' }),
  'gateway.coap': Type.Object(
    {
      connection_required: Type.Boolean({ default: false, description: 'Require connection mode.' }),
      heartbeat: Duration({ default: '30s', description: 'Heartbeat interval.' }),
    },
    { additionalProperties: false, description: 'CoAP gateway.' },
  ),
};

export const testSchema = buildGatewaySchema(testSections);

const dir = mkdtempSync(join(tmpdir(), 'junction-gateway-test-'));
let counter = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `content` to a fresh temporary file and returns its path. */
export function tmpFile(content: string, name = `config-${++counter}.yaml`): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** The value at a dotted path of a loaded config. */
export const at: (config: unknown, path: string) => unknown = getAtPath;
