import { ConfigError } from '@junction/broker-core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { at, testSchema, tmpFile } from './helpers.js';

/** Loads `yaml` with no environment overrides. */
function load(yaml: string): unknown {
  return loadConfig({ file: tmpFile(yaml), env: {}, schema: testSchema });
}

/** The ConfigError loading `yaml` throws. */
function failure(yaml: string): ConfigError {
  try {
    load(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig defaults', () => {
  it('fills every default of an empty file, in parsed form', () => {
    expect(load('')).toEqual({
      node: { name: 'junction@127.0.0.1', data_dir: './data', workers: 1 },
      log: { level: 'info', format: 'text' },
      sys_topics: { sys_msg_interval: 60_000, sys_heartbeat_interval: 30_000, sys_event_messages: { client_connected: true, client_disconnected: true, client_subscribed: false, client_unsubscribed: false } },
      mqtt: {
        max_packet_size: 1_048_576,
        session_expiry_interval: 7_200_000,
        await_rel_timeout: 300_000,
        max_inflight: 32,
        retain_available: true,
        client_id_prefixes: [],
      },
      listeners: {},
      gateway: {},
    });
  });

  it('works without a file', () => {
    const config = loadConfig({ env: {}, schema: testSchema });
    expect(at(config, 'node.name')).toBe('junction@127.0.0.1');
  });

  it('fills defaults inside named map entries', () => {
    const config = load('listeners:\n  tcp:\n    default: {}\n    other:\n      bind: "0.0.0.0:1884"\n');
    expect(at(config, 'listeners.tcp')).toEqual({
      default: { bind: { host: '127.0.0.1', port: 1883 }, enable: true, max_connections: 1024 },
      other: { bind: { host: '0.0.0.0', port: 1884 }, enable: true, max_connections: 1024 },
    });
  });

  it('leaves a section without a default absent until configured', () => {
    expect(at(load(''), 'gateway.coap')).toBeUndefined();
    expect(at(load('gateway:\n  coap: {}\n'), 'gateway.coap')).toEqual({ connection_required: false, heartbeat: 30_000 });
  });

  it('treats an empty value as absent, so the key takes its default', () => {
    const config = load('mqtt:\nnode:\n  data_dir:\n  name: edge@10.0.0.2\n');
    expect(at(config, 'mqtt.max_inflight')).toBe(32);
    expect(at(config, 'node')).toEqual({ name: 'edge@10.0.0.2', data_dir: './data', workers: 1 });
  });

  it('keeps values given in the file', () => {
    const config = load('log:\n  level: debug\n  format: json\nmqtt:\n  max_inflight: 100\n  retain_available: false\n');
    expect(at(config, 'log')).toEqual({ level: 'debug', format: 'json' });
    expect(at(config, 'mqtt.max_inflight')).toBe(100);
    expect(at(config, 'mqtt.retain_available')).toBe(false);
  });
});

describe('loadConfig human values', () => {
  it('parses durations, sizes and bind addresses wherever the schema marks them', () => {
    const config = load(
      [
        'sys_topics: { sys_msg_interval: 10s, sys_heartbeat_interval: 1500 }',
        'mqtt: { max_packet_size: 64KB, session_expiry_interval: 1d, await_rel_timeout: 1m30s }',
        'listeners:',
        '  tcp:',
        '    v6: { bind: "[::1]:1883" }',
        '    bare: { bind: 1884 }',
        '    quoted: { bind: "1885" }',
      ].join('\n'),
    );
    expect(at(config, 'sys_topics')).toMatchObject({ sys_msg_interval: 10_000, sys_heartbeat_interval: 1500 });
    expect(at(config, 'mqtt.max_packet_size')).toBe(65_536);
    expect(at(config, 'mqtt.session_expiry_interval')).toBe(86_400_000);
    expect(at(config, 'mqtt.await_rel_timeout')).toBe(90_000);
    expect(at(config, 'listeners.tcp.v6.bind')).toEqual({ host: '::1', port: 1883 });
    expect(at(config, 'listeners.tcp.bare.bind')).toEqual({ host: '127.0.0.1', port: 1884 });
    expect(at(config, 'listeners.tcp.quoted.bind')).toEqual({ host: '127.0.0.1', port: 1885 });
  });

  it('names the path and the expected form of a bad bind address', () => {
    const err = failure('listeners:\n  tcp:\n    default:\n      bind: "localhost"\n');
    expect(err.path).toBe('listeners.tcp.default.bind');
    expect(err.message).toContain('expected a bind address such as "127.0.0.1:1883"');
    expect(err.message).toContain('got "localhost"');
    expect(err.message).toMatch(/config-\d+\.yaml:4:13\)$/);
  });

  it('names the path of a port out of range', () => {
    const err = failure('listeners: { tcp: { default: { bind: "0.0.0.0:99999" } } }\n');
    expect(err.path).toBe('listeners.tcp.default.bind');
    expect(err.message).toContain('port 99999 is out of range 0..65535');
  });

  it('names the path of a bad duration, also in a schema built with the core helper', () => {
    expect(failure('sys_topics:\n  sys_msg_interval: soon\n').path).toBe('sys_topics.sys_msg_interval');
    const err = failure('mqtt:\n  await_rel_timeout: later\n');
    expect(err.path).toBe('mqtt.await_rel_timeout');
    expect(err.message).toContain('expected a duration such as "500ms"');
  });

  it('names the path of a bad size', () => {
    const err = failure('mqtt:\n  max_packet_size: huge\n');
    expect(err.path).toBe('mqtt.max_packet_size');
    expect(err.message).toContain('expected a size such as');
  });

  it('reports a value of the wrong type for a human value', () => {
    const err = failure('mqtt:\n  session_expiry_interval: true\n');
    expect(err.path).toBe('mqtt.session_expiry_interval');
    expect(err.message).toContain('expected a duration such as');
    expect(err.message).toContain('got true');
  });
});

describe('loadConfig errors', () => {
  it('names an unknown top-level key and the keys allowed there', () => {
    const err = failure('node:\n  name: a@b\nbogus: 1\n');
    expect(err.path).toBe('bogus');
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain('unknown key; expected one of: node, log, sys_topics, mqtt, listeners, gateway');
    expect(err.message).toMatch(/config-\d+\.yaml:3:8\)$/);
  });

  it('names the full path of a nested unknown key', () => {
    const err = failure('listeners:\n  tcp:\n    default:\n      bnd: "127.0.0.1:1883"\n');
    expect(err.path).toBe('listeners.tcp.default.bnd');
    expect(err.message).toContain('unknown key; expected one of: bind, enable, max_connections, mountpoint');
  });

  it('names an unknown section under a group', () => {
    const err = failure('gateway:\n  ocpp: {}\n');
    expect(err.path).toBe('gateway.ocpp');
    expect(err.message).toContain('expected one of: coap');
  });

  it('names the path and expected type of a wrong value', () => {
    const err = failure('mqtt:\n  max_inflight: many\n');
    expect(err.path).toBe('mqtt.max_inflight');
    expect(err.message).toContain('expected integer (1..65535), got "many"');
  });

  it('names a violated constraint', () => {
    const err = failure('mqtt:\n  max_inflight: 0\n');
    expect(err.path).toBe('mqtt.max_inflight');
    expect(err.message).toContain('greater or equal to 1, got 0');
  });

  it('lists the allowed values of an enumeration', () => {
    const err = failure('log:\n  format: xml\n');
    expect(err.path).toBe('log.format');
    expect(err.message).toContain('expected one of "text", "json", got "xml"');
  });

  it('names the index of a bad array item', () => {
    const err = failure('mqtt:\n  client_id_prefixes: [a, 7]\n');
    expect(err.path).toBe('mqtt.client_id_prefixes.1');
    expect(err.message).toContain('expected string, got 7');
  });

  it('says when a section is not a mapping', () => {
    const err = failure('node: junction\n');
    expect(err.path).toBe('node');
    expect(err.message).toContain('expected object, got "junction"');
  });

  it('refuses a file whose top level is not a mapping', () => {
    const err = failure('- a\n- b\n');
    expect(err.path).toBe('');
    expect(err.message).toContain('expected a mapping of sections at the top');
  });

  it('reports YAML syntax errors with line and column', () => {
    const err = failure('node:\n  name: a@b\n  data_dir: [unclosed\nlog: {}\n');
    expect(err.path).toBe('');
    expect(err.message).toMatch(/^YAML syntax error in .*config-\d+\.yaml at line \d+, column \d+: /);
  });

  it('points at the exact line and column of a YAML error', () => {
    expect(failure('node:\n\tname: x\n').message).toMatch(/at line 2, column 1: Tabs are not allowed as indentation$/);
    expect(failure('node:\n  name: a: b\n').message).toMatch(/at line 2, column 9: Nested mappings are not allowed in compact mappings$/);
  });

  it('refuses duplicate keys', () => {
    const err = failure('log:\n  level: info\n  level: debug\n');
    expect(err.message).toMatch(/YAML syntax error .* at line 3, column 3: Map keys must be unique/);
  });

  it('reports a missing file', () => {
    expect(() => loadConfig({ file: 'no/such/junction.yaml', env: {}, schema: testSchema })).toThrow(
      new ConfigError('', 'cannot read config file no/such/junction.yaml: no such file'),
    );
  });
});
