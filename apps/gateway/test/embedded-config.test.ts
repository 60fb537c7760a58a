import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { defaultConfigPath } from '../src/paths.js';
import { at, testSchema } from './helpers.js';

describe('the embedded config/junction.yaml', () => {
  it('is found relative to the app', () => {
    expect(defaultConfigPath().replaceAll('\\', '/')).toMatch(/apps\/gateway\/config\/junction\.yaml$/);
  });

  it('loads, and binds loopback only', () => {
    const config = loadConfig({ file: defaultConfigPath(), env: {}, schema: testSchema });
    expect(at(config, 'node')).toEqual({ name: 'junction@127.0.0.1', data_dir: './data' });
    expect(at(config, 'log')).toEqual({ level: 'info', format: 'text' });
    expect(at(config, 'listeners.tcp')).toEqual({ default: { bind: { host: '127.0.0.1', port: 1883 }, enable: true, max_connections: 1024 } });
    expect(at(config, 'mqtt.max_inflight')).toBe(32);
  });

  it('has no bind address outside loopback, commented or not, except in the advice on opening up', () => {
    const binds = readFileSync(defaultConfigPath(), 'utf8').match(/bind: "[^"]*"/g) ?? [];
    expect(binds.length).toBeGreaterThan(1);
    for (const bind of binds) expect(bind).toMatch(/^bind: "127\.0\.0\.1:\d+"$/);
  });
});
