import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { ConfigError, type ListenerInfo } from '@junction/broker-core';
import { describe, expect, it, vi } from 'vitest';
import { USAGE } from '../src/cli-args.js';
import { runCli, type CliContext } from '../src/cli.js';
import type { RunningGateway } from '../src/server.js';
import { at, testSchema, tmpFile } from './helpers.js';
import { sink } from './sink.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Runs the CLI in-process with captured output and the test schema. */
async function run(argv: string[], overrides: Partial<CliContext> = {}) {
  const stdout = sink();
  const stderr = sink();
  const code = await runCli(argv, { stdout: stdout.stream, stderr: stderr.stream, env: {}, schema: testSchema, ...overrides });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('junction CLI: commands', () => {
  it('--help prints usage', async () => {
    const r = await run(['--help']);
    expect(r).toEqual({ code: 0, stdout: USAGE, stderr: '' });
    expect(USAGE).toContain('check-config');
  });

  it('--version prints the package version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('refuses a missing or unknown command or option with status 64', async () => {
    expect(await run([])).toEqual({ code: 64, stdout: '', stderr: 'junction: missing command\nRun "junction --help" for usage.\n' });
    expect((await run(['serve'])).stderr).toContain('junction: unknown command "serve"');
    expect((await run(['start', '--port', '1'])).code).toBe(64);
    expect((await run(['check-config', 'extra'])).stderr).toContain('unexpected argument "extra"');
  });

  it('check-config prints OK for a valid file', async () => {
    const file = tmpFile('listeners:\n  tcp:\n    default:\n      bind: "127.0.0.1:1883"\n');
    expect(await run(['check-config', '--config', file])).toEqual({ code: 0, stdout: 'OK\n', stderr: '' });
    expect((await run(['check-config', '-c', file])).code).toBe(0);
  });

  it('check-config names the bad key and exits 2', async () => {
    const file = tmpFile('listeners:\n  tcp:\n    default:\n      bind: "127.0.0.1:1883"\n      bnd: x\n');
    const r = await run(['check-config', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `junction: config error at listeners.tcp.default.bnd: unknown key; expected one of: bind, enable, max_connections, mountpoint (${file}:5:12)\n`,
    );
  });

  it('check-config applies environment overrides', async () => {
    const r = await run(['check-config', '--config', tmpFile('')], { env: { JUNCTION__MQTT__MAX_INFLIGHT: 'none' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('junction: config error at mqtt.max_inflight: expected integer (1..65535), got "none" (from environment variable JUNCTION__MQTT__MAX_INFLIGHT)\n');
  });

  it('reports a problem without a key path', async () => {
    const r = await run(['check-config', '--config', 'missing.yaml']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'junction: config error: cannot read config file missing.yaml: no such file\n' });
  });

  it('config-docs prints the Markdown reference of the schema', async () => {
    const r = await run(['config-docs']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# Junction configuration reference\n/);
    expect(r.stdout).toContain('| `listeners.tcp.<name>.bind` | bind address | `127.0.0.1:1883` | Address to listen on. |');
  });
});

/** A fake gateway whose `stop` can be held open, and a fake signal source. */
function fixture(stop: () => Promise<void> = async () => {}) {
  const signals = new EventEmitter();
  const exit = vi.fn<(code: number) => void>();
  const listeners: ListenerInfo[] = [{ type: 'tcp', name: 'default', host: '127.0.0.1', port: 1883 }];
  const gateway: RunningGateway = { stop: vi.fn(stop), listeners };
  const startGateway = vi.fn(async () => gateway);
  const stdout = sink();
  const stderr = sink();
  const config = tmpFile('log:\n  format: json\n  level: info\n');
  const result = runCli(['start', '--config', config], { stdout: stdout.stream, stderr: stderr.stream, env: {}, schema: testSchema, signals, exit, startGateway });
  return { signals, exit, gateway, startGateway, stdout, stderr, result };
}

describe('junction start', () => {
  it('starts with the loaded config, stops once on SIGTERM and exits 0', async () => {
    const f = fixture();
    await vi.waitFor(() => expect(f.stdout.text()).toContain('gateway_started'));
    expect(f.startGateway).toHaveBeenCalledTimes(1);
    const [config] = f.startGateway.mock.calls[0] as unknown as [unknown];
    expect(at(config, 'log')).toEqual({ format: 'json', level: 'info' });
    f.signals.emit('SIGTERM');
    expect(await f.result).toBe(0);
    expect(f.gateway.stop).toHaveBeenCalledTimes(1);
    expect(f.exit).not.toHaveBeenCalled();
    const events = f.stdout.json();
    expect(events.map((e) => e['msg'])).toEqual(['gateway_started', 'gateway_stopping', 'gateway_stopped']);
    expect(events[0]).toMatchObject({ node: 'junction@127.0.0.1', listeners: [{ type: 'tcp', name: 'default', host: '127.0.0.1', port: 1883 }] });
    expect(events[1]).toMatchObject({ signal: 'SIGTERM' });
    expect(f.signals.listenerCount('SIGTERM')).toBe(0);
    expect(f.signals.listenerCount('SIGINT')).toBe(0);
  });

  it('exits 1 at once on a second signal while stopping, and stops only once', async () => {
    let release = () => {};
    const f = fixture(() => new Promise<void>((r) => (release = r)));
    await vi.waitFor(() => expect(f.stdout.text()).toContain('gateway_started'));
    f.signals.emit('SIGINT');
    await vi.waitFor(() => expect(f.gateway.stop).toHaveBeenCalledTimes(1));
    f.signals.emit('SIGINT');
    expect(f.exit).toHaveBeenCalledWith(1);
    expect(f.stdout.json().at(-1)).toMatchObject({ msg: 'gateway_forced_exit', signal: 'SIGINT', first: 'SIGINT' });
    release();
    expect(await f.result).toBe(0);
    expect(f.gateway.stop).toHaveBeenCalledTimes(1);
  });

  it('exits 1 and logs when the gateway fails to start', async () => {
    const stdout = sink();
    const startGateway = vi.fn(async (): Promise<RunningGateway> => {
      throw new Error('listen EADDRINUSE: address already in use 127.0.0.1:1883');
    });
    const code = await runCli(['start', '--config', tmpFile('log: { format: json }\n')], { stdout: stdout.stream, stderr: sink().stream, env: {}, schema: testSchema, signals: new EventEmitter(), startGateway });
    expect(code).toBe(1);
    expect(stdout.json()).toMatchObject([{ msg: 'gateway_start_failed', err: { message: 'listen EADDRINUSE: address already in use 127.0.0.1:1883' } }]);
  });

  it('exits 2 when an adapter refuses its config', async () => {
    const stderr = sink();
    const startGateway = vi.fn(async (): Promise<RunningGateway> => {
      throw new ConfigError('listeners.ssl.default.ssl_options.certfile', 'cannot read ./missing.pem');
    });
    const code = await runCli(['start', '--config', tmpFile('')], { stdout: sink().stream, stderr: stderr.stream, env: {}, schema: testSchema, signals: new EventEmitter(), startGateway });
    expect(code).toBe(2);
    expect(stderr.text()).toBe('junction: config error at listeners.ssl.default.ssl_options.certfile: cannot read ./missing.pem\n');
  });
});
