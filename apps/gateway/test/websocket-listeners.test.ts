/**
 * The ws and wss listeners as the gateway sees them: registered under `listeners.ws` and
 * `listeners.wss`, configured in EMQX's shape with every default filled, overridable from the
 * environment, and served by the composed gateway.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@junction/broker-core';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { gatewaySchema } from '../src/cli.js';
import { loadConfig } from '../src/config/load.js';
import type { GatewayConfig } from '../src/config/schema.js';
import { createLogger } from '../src/logger.js';
import { startGateway } from '../src/server.js';
import { at, tmpFile } from './helpers.js';
import { sink } from './sink.js';

const load = (yaml: string, env: NodeJS.ProcessEnv = {}) => loadConfig({ file: tmpFile(yaml), env, schema: gatewaySchema() }) as GatewayConfig;

describe('listeners.ws and listeners.wss in the gateway config', () => {
  it('fills every websocket default of an EMQX-style ws listener', () => {
    const config = load('listeners:\n  ws:\n    default: {}\n');
    expect(at(config, 'listeners.ws.default')).toEqual({
      enable: true,
      bind: { host: '127.0.0.1', port: 8083 },
      max_connections: 1_000_000,
      mountpoint: '',
      websocket: {
        mqtt_path: '/mqtt',
        mqtt_piggyback: 'multiple',
        compress: false,
        max_frame_size: 0,
        fail_if_no_subprotocol: true,
        supported_subprotocols: 'mqtt, mqtt-v3, mqtt-v3.1.1, mqtt-v5, mqttv3.1, mqttv5',
        check_origin_enable: false,
        allow_origin_absence: true,
        check_origins: [],
        proxy_address_header: 'x-forwarded-for',
        proxy_port_header: 'x-forwarded-port',
        trusted_proxies: [],
      },
    });
  });

  it('defaults wss to 8084 and requires ssl_options', () => {
    expect(() => load('listeners:\n  wss:\n    default: {}\n')).toThrow(/listeners\.wss\.default\.ssl_options/);
    const config = load('listeners:\n  wss:\n    default:\n      ssl_options: { certfile: a.pem, keyfile: a.key }\n');
    expect(at(config, 'listeners.wss.default.bind')).toEqual({ host: '127.0.0.1', port: 8084 });
    expect(at(config, 'listeners.wss.default.ssl_options.verify')).toBe('verify_none');
  });

  it('parses human sizes and takes overrides from the environment', () => {
    const config = load('listeners:\n  ws:\n    default:\n      websocket:\n        max_frame_size: 64KB\n        mqtt_path: /ws\n', {
      JUNCTION__LISTENERS__WS__DEFAULT__WEBSOCKET__TRUSTED_PROXIES: '[10.0.0.0/8, "::1"]',
      JUNCTION__LISTENERS__WS__DEFAULT__WEBSOCKET__COMPRESS: 'true',
    });
    expect(at(config, 'listeners.ws.default.websocket.max_frame_size')).toBe(65_536);
    expect(at(config, 'listeners.ws.default.websocket.mqtt_path')).toBe('/ws');
    expect(at(config, 'listeners.ws.default.websocket.trusted_proxies')).toEqual(['10.0.0.0/8', '::1']);
    expect(at(config, 'listeners.ws.default.websocket.compress')).toBe(true);
  });

  it('names a bad key under websocket', () => {
    expect(() => load('listeners:\n  ws:\n    default:\n      websocket: { mqtt_pth: /x }\n')).toThrow(/listeners\.ws\.default\.websocket\.mqtt_pth/);
    expect(() => load('listeners:\n  ws:\n    default:\n      websocket: { mqtt_piggyback: several }\n')).toThrow(/listeners\.ws\.default\.websocket\.mqtt_piggyback/);
  });
});

describe('the gateway with a ws listener', () => {
  const silent = () => createLogger({ level: 'silent', format: 'json', destination: sink().stream });
  // Keep data out of the repository and the dashboard port free.
  const isolated = () => `node: { data_dir: "${mkdtempSync(join(tmpdir(), 'junction-ws-gw-'))}" }\ndashboard: { listeners: { http: { enable: false } } }\n`;

  it('serves MQTT over WebSocket next to TCP', async () => {
    const config = load(`${isolated()}listeners:\n  tcp: { default: { bind: "127.0.0.1:0" } }\n  ws: { default: { bind: "127.0.0.1:0" } }\nsys_topics: { sys_msg_interval: 0 }\n`);
    const gw = await startGateway(config, silent());
    try {
      const ws = gw.listeners.find((l) => l.type === 'ws')!;
      const tcp = gw.listeners.find((l) => l.type === 'tcp')!;
      expect(ws).toMatchObject({ name: 'default', host: '127.0.0.1' });
      const sub = await mqtt.connectAsync(`ws://127.0.0.1:${ws.port}/mqtt`, { clientId: 'gw-ws-sub', reconnectPeriod: 0 });
      await sub.subscribeAsync('gw/ws', { qos: 1 });
      const got = new Promise<string>((r) => sub.once('message', (_t, p) => r(p.toString())));
      const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${tcp.port}`, { clientId: 'gw-tcp-pub', reconnectPeriod: 0 });
      await pub.publishAsync('gw/ws', 'tcp to ws', { qos: 1 });
      expect(await got).toBe('tcp to ws');
      await pub.endAsync();
      await sub.endAsync();
    } finally {
      await gw.stop({ drainMs: 200 });
    }
  });

  it('refuses to start with a trusted_proxies entry that is not an address, naming the key', async () => {
    const config = load(`${isolated()}listeners:\n  ws: { default: { bind: "127.0.0.1:0", websocket: { trusted_proxies: ["10.0.0.0/33"] } } }\n`);
    const err = await startGateway(config, silent()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe('listeners.ws.default.websocket.trusted_proxies[0]');
  });
});
