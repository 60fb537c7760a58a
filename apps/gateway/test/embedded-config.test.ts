import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { defaultConfigPath } from '../src/paths.js';
import { gatewaySchema } from '../src/cli.js';
import { at } from './helpers.js';

describe('the embedded config/junction.yaml', () => {
  it('is found relative to the app', () => {
    expect(defaultConfigPath().replaceAll('\\', '/')).toMatch(/apps\/gateway\/config\/junction\.yaml$/);
  });

  it('loads, and binds loopback only', () => {
    // The real schema: every registered adapter and plugin section.
    const config = loadConfig({ file: defaultConfigPath(), env: {}, schema: gatewaySchema() });
    expect(at(config, 'node')).toEqual({ name: 'junction@127.0.0.1', data_dir: './data', workers: 1 });
    expect(at(config, 'log')).toEqual({ level: 'info', format: 'text' });
    expect(at(config, 'listeners.tcp')).toEqual({ default: { bind: { host: '127.0.0.1', port: 1883 }, enable: true, max_connections: 1_000_000, mountpoint: '' } });
    expect(at(config, 'dashboard.listeners.http.bind')).toEqual({ host: '127.0.0.1', port: 18083 });
    expect(at(config, 'mqtt.max_inflight')).toBe(32);
    expect(at(config, 'mqtt.allow_anonymous')).toBe('loopback');
    expect(at(config, 'durable_sessions.enable')).toBe(true);
  });

  it('has no bind address outside loopback, commented or not, except in the advice on opening up', () => {
    const binds = readFileSync(defaultConfigPath(), 'utf8').match(/bind: "[^"]*"/g) ?? [];
    expect(binds.length).toBeGreaterThan(1);
    for (const bind of binds) expect(bind).toMatch(/^bind: "127\.0\.0\.1:\d+"$/);
  });
});
