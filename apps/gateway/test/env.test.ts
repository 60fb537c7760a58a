import { ConfigError } from '@junction/broker-core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { at, testSchema, tmpFile } from './helpers.js';

function load(env: NodeJS.ProcessEnv, yaml = ''): unknown {
  return loadConfig({ file: tmpFile(yaml), env, schema: testSchema });
}

function failure(env: NodeJS.ProcessEnv, yaml = ''): ConfigError {
  try {
    load(env, yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('environment overrides', () => {
  it('sets a nested key, creating the map entry it lives in', () => {
    const config = load({ JUNCTION__LISTENERS__TCP__DEFAULT__BIND: '127.0.0.1:1884' });
    expect(at(config, 'listeners.tcp.default')).toEqual({ bind: { host: '127.0.0.1', port: 1884 }, enable: true, max_connections: 1024 });
  });

  it('wins over the file', () => {
    const config = load({ JUNCTION__LISTENERS__TCP__DEFAULT__BIND: '0.0.0.0:1883' }, 'listeners:\n  tcp:\n    default:\n      bind: "127.0.0.1:1883"\n      max_connections: 10\n');
    expect(at(config, 'listeners.tcp.default')).toEqual({ bind: { host: '0.0.0.0', port: 1883 }, enable: true, max_connections: 10 });
  });

  it('lower-cases segments, so keys with underscores work', () => {
    expect(at(load({ JUNCTION__NODE__DATA_DIR: '/var/lib/junction' }), 'node.data_dir')).toBe('/var/lib/junction');
    expect(at(load({ JUNCTION__SYS_TOPICS__SYS_MSG_INTERVAL: '5s' }), 'sys_topics.sys_msg_interval')).toBe(5000);
  });

  it('coerces to numbers and booleans where the schema says so', () => {
    const config = load({ JUNCTION__MQTT__MAX_INFLIGHT: '64', JUNCTION__MQTT__RETAIN_AVAILABLE: 'false', JUNCTION__GATEWAY__COAP__CONNECTION_REQUIRED: 'TRUE' });
    expect(at(config, 'mqtt.max_inflight')).toBe(64);
    expect(at(config, 'mqtt.retain_available')).toBe(false);
    expect(at(config, 'gateway.coap.connection_required')).toBe(true);
  });

  it('keeps strings as strings where the schema wants a string', () => {
    expect(at(load({ JUNCTION__NODE__NAME: '123' }), 'node.name')).toBe('123');
    expect(at(load({ JUNCTION__NODE__COOKIE: 'true' }), 'node.cookie')).toBe('true');
    expect(at(load({ JUNCTION__LOG__LEVEL: 'debug' }), 'log.level')).toBe('debug');
  });

  it('takes human values as written, including bracketed IPv6', () => {
    const config = load({ JUNCTION__LISTENERS__TCP__V6__BIND: '[::1]:1883', JUNCTION__MQTT__MAX_PACKET_SIZE: '256KB' });
    expect(at(config, 'listeners.tcp.v6.bind')).toEqual({ host: '::1', port: 1883 });
    expect(at(config, 'mqtt.max_packet_size')).toBe(262_144);
  });

  it('parses YAML flow values for lists and mappings', () => {
    const config = load({ JUNCTION__MQTT__CLIENT_ID_PREFIXES: '[sensor-, cp-]', JUNCTION__GATEWAY__COAP: '{connection_required: true, heartbeat: 1m}' });
    expect(at(config, 'mqtt.client_id_prefixes')).toEqual(['sensor-', 'cp-']);
    expect(at(config, 'gateway.coap')).toEqual({ connection_required: true, heartbeat: 60_000 });
  });

  it('applies a parent before its children', () => {
    const config = load({ JUNCTION__GATEWAY__COAP__HEARTBEAT: '5s', JUNCTION__GATEWAY__COAP: '{connection_required: true}' });
    expect(at(config, 'gateway.coap')).toEqual({ connection_required: true, heartbeat: 5000 });
  });

  it('ignores variables without the JUNCTION__ prefix', () => {
    const config = load({ PATH: '/usr/bin', JUNCTION_NODE__NAME: 'x', junction__node__name: 'y' });
    expect(at(config, 'node.name')).toBe('junction@127.0.0.1');
  });

  it('names the path and the variable of an unknown key', () => {
    const err = failure({ JUNCTION__NODE__NAMEE: 'x' });
    expect(err.path).toBe('node.namee');
    expect(err.message).toContain('unknown key; expected one of: name, data_dir, cookie');
    expect(err.message).toContain('(from environment variable JUNCTION__NODE__NAMEE)');
  });

  it('names an unknown section set from the environment', () => {
    const err = failure({ JUNCTION__NODEE__NAME: 'x' });
    expect(err.path).toBe('nodee');
    expect(err.message).toContain('(from environment variable JUNCTION__NODEE__NAME)');
  });

  it('names the path and the variable of a value of the wrong type', () => {
    const err = failure({ JUNCTION__MQTT__MAX_INFLIGHT: 'lots' });
    expect(err.path).toBe('mqtt.max_inflight');
    expect(err.message).toBe('mqtt.max_inflight: expected integer (1..65535), got "lots" (from environment variable JUNCTION__MQTT__MAX_INFLIGHT)');
  });

  it('names the path of a bad human value', () => {
    const err = failure({ JUNCTION__LISTENERS__TCP__DEFAULT__BIND: 'everywhere' });
    expect(err.path).toBe('listeners.tcp.default.bind');
    expect(err.message).toContain('got "everywhere" (from environment variable JUNCTION__LISTENERS__TCP__DEFAULT__BIND)');
  });

  it('refuses a value that is not YAML where YAML is parsed', () => {
    const err = failure({ JUNCTION__GATEWAY__COAP: '{connection_required: true' });
    expect(err.path).toBe('gateway.coap');
    expect(err.message).toContain('cannot parse the value of JUNCTION__GATEWAY__COAP as YAML');
  });

  it('refuses a key below a value that is not a mapping', () => {
    const err = failure({ JUNCTION__LOG__LEVEL__X: 'y' }, 'log:\n  level: info\n');
    expect(err.path).toBe('log.level');
    expect(err.message).toContain('cannot apply JUNCTION__LOG__LEVEL__X: log.level is not a mapping');
  });

  it('refuses empty segments', () => {
    expect(failure({ JUNCTION__NODE____NAME: 'x' }).message).toContain('JUNCTION__NODE____NAME has an empty key segment');
  });
});
