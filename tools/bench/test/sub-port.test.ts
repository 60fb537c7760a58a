/**
 * --sub-port / --sub-host / --start-delay: subscribers connect somewhere else than publishers (other
 * nodes of a cluster). Here two counting TCP relays in front of one in-process broker stand for
 * the other nodes: every subscriber, and only subscribers, arrive through them, spread over both.
 */
import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import { spawnSync } from 'node:child_process';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../src/args.js';
import { runScenario } from '../src/runner.js';
import { resolveConfig, ScenarioError, type RunConfig } from '../src/scenarios.js';

describe('--sub-port, --sub-host, --start-delay parsing', () => {
  it('reads one port or a list, a host and a delay', () => {
    expect(parseArgs(['fanin', '--sub-port', '1884']).overrides.subPorts).toEqual([1884]);
    const p = parseArgs(['fanin', '--sub-port=1884,1885', '--sub-host', '10.0.0.2', '--start-delay', '0.5']);
    expect(p.overrides).toMatchObject({ subPorts: [1884, 1885], subHost: '10.0.0.2', startDelay: 0.5 });
  });

  it('refuses bad values', () => {
    expect(() => parseArgs(['--sub-port', '1884,x'])).toThrow(UsageError);
    expect(() => parseArgs(['--sub-port', ''])).toThrow(UsageError);
    expect(() => resolveConfig('fanin', { subPorts: [70000] })).toThrow(ScenarioError);
    expect(() => resolveConfig('fanin', { startDelay: -1 })).toThrow(ScenarioError);
  });

  it('leaves the configuration as before when not given', () => {
    const cfg = resolveConfig('fanin_q1_16B', parseArgs(['fanin_q1_16B', '--port', '18834']).overrides);
    expect(cfg.subPorts).toBeUndefined();
    expect(cfg.subHost).toBeUndefined();
    expect(cfg.startDelay).toBeUndefined();
  });

  it('is refused by compare, which starts the brokers itself', () => {
    const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', cli, 'compare', '--broker', 'name=a', 'port=1', 'cmd=true', '--scenarios', 'fanin', '--sub-port', '2'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--sub-port/);
  });
});

/** A TCP relay to `port` that counts the connections it accepted. */
async function relay(port: number): Promise<{ port: number; accepted: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { port: 0, accepted: 0, close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))) };
  const server: Server = createServer((inbound) => {
    state.accepted++;
    const outbound = connect(port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => (inbound.destroy(), outbound.destroy()));
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

describe('subscribers on other ports than publishers', () => {
  let broker: BrokerCore;
  let adapter: ReturnType<typeof tcpListenersFactory.create>;
  let port = 0;
  beforeAll(async () => {
    broker = new BrokerCore();
    adapter = tcpListenersFactory.create(createAdapterContext(broker), { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 1000, mountpoint: '' } });
    port = (await adapter.start())[0]!.port;
  });
  afterAll(async () => {
    await adapter.stop();
    await broker.close();
  });

  it('spreads the subscribers over the --sub-port list and keeps the publishers on --port', async () => {
    const [r1, r2] = [await relay(port), await relay(port)];
    try {
      const quick: Partial<RunConfig> = { warmup: 0.1, duration: 0.5, drainMax: 5, drainIdle: 2, setupTimeout: 10, workers: 2 };
      const r = await runScenario(resolveConfig('fanin_q1_16B', { ...quick, port, pubs: 4, subs: 3, prefix: 'bench/subport', subHost: '127.0.0.1', subPorts: [r1.port, r2.port], startDelay: 0.1 }));
      expect(r.error).toBe('');
      expect(r.ok).toBe(true);
      expect(r.expected as number).toBeGreaterThan(0);
      expect(r.received).toBe(r.expected);
      expect(r.lost).toBe(0);
      expect(r).toMatchObject({ port, sub_host: '127.0.0.1', sub_ports: [r1.port, r2.port], subs: 3, pubs: 4 });
      // Subscribers 0 and 2 through the first relay, 1 through the second; no publisher.
      expect([r1.accepted, r2.accepted]).toEqual([2, 1]);
    } finally {
      await Promise.all([r1.close(), r2.close()]);
    }
  });
});
