/**
 * The tool against a real Junction broker in this process, with tiny durations: every message is
 * received, once, in order. Correctness only: no timed performance assertion here.
 */
import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, type BenchResult } from '../src/runner.js';
import { resolveConfig, type RunConfig } from '../src/scenarios.js';

let broker: BrokerCore;
let adapter: ReturnType<typeof tcpListenersFactory.create>;
let port = 0;

beforeAll(async () => {
  broker = new BrokerCore();
  adapter = tcpListenersFactory.create(createAdapterContext(broker), { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 10_000, mountpoint: '' } });
  const [info] = await adapter.start();
  port = info!.port;
});

afterAll(async () => {
  await adapter.stop();
  await broker.close();
});

const quick: Partial<RunConfig> = { warmup: 0.1, duration: 0.5, drainMax: 5, drainIdle: 2, setupTimeout: 10, workers: 2, broker: 'junction' };
const run = (label: string, o: Partial<RunConfig> = {}) => runScenario(resolveConfig(label, { ...quick, port, prefix: `bench/${label}`, ...o }));

function expectComplete(r: BenchResult): void {
  expect(r.error).toBe('');
  expect(r.ok).toBe(true);
  expect(r.expected as number).toBeGreaterThan(0);
  expect(r.received).toBe(r.expected);
  expect(r.unique).toBe(r.expected);
  expect(r.lost).toBe(0);
  expect(r.duplicates).toBe(0);
  expect(r.out_of_order).toBe(0);
  expect(r.gaps).toBe(0);
  expect(r.bad_payload).toBe(0);
  expect(r.misrouted).toBe(0);
  expect(r.unacked_at_end).toBe(0);
  expect(r.proto_err).toBe(0);
  expect(r.open_at_end).toBe((r.pubs as number) + (r.subs as number));
  expect(r.tool_cpu_pct as number).toBeGreaterThanOrEqual(0);
}

describe('against an in-process Junction broker', () => {
  it('fan-in, QoS 1, MQTT 3.1.1: 8 publishers to one wildcard subscriber, bounded window', async () => {
    const r = await run('fanin_q1_16B');
    expect(r).toMatchObject({ scenario: 'fanin', label: 'fanin_q1_16B', broker: 'junction', pubs: 8, subs: 1, sub_mode: 'wild', qos: 1, mqtt: 3 });
    expectComplete(r);
    expect(r.puback).toBe(r.sent);
    expect((r.lat_us as { n: number }).n).toBeGreaterThan(0);
  });

  it('fan-in, QoS 2, MQTT 5, 1 KiB: the full QoS 2 handshake both ways', async () => {
    const r = await run('fanin_q2_1KiB_v5', { pubs: 4 });
    expect(r).toMatchObject({ qos: 2, size: 1024, mqtt: 5 });
    expectComplete(r);
    expect(r.pubrec).toBe(r.sent);
    expect(r.pubcomp).toBe(r.sent);
  });

  it('latency at a fixed rate, QoS 0: percentiles in order, the rate kept', async () => {
    const r = await run('latency_q0', { rate: 2000, pubs: 4, subs: 4 });
    expectComplete(r);
    const lat = r.lat_us as { n: number; p50: number; p90: number; p99: number; p999: number; max: number };
    expect(lat.n).toBeGreaterThan(0);
    expect(lat.p50).toBeGreaterThan(0);
    expect(lat.p50).toBeLessThanOrEqual(lat.p90);
    expect(lat.p90).toBeLessThanOrEqual(lat.p99);
    expect(lat.p99).toBeLessThanOrEqual(lat.p999);
    expect(lat.p999).toBeLessThanOrEqual(lat.max);
    // paced, not saturated: about rate × (warm-up + measure), never far above
    expect(r.sent as number).toBeLessThanOrEqual(2000 * 0.8 * 1.5 + 50);
    expect((r.send_lag_us as { n: number }).n).toBeGreaterThan(0);
  });

  it('conn from another source address, held longer than the setup timeout: every connection counted, no timeout error', async () => {
    const peers = new Set<string>();
    const off = broker.hooks.on('client.connected', (c) => peers.add(c.peer.replace(/:\d+$/, '')));
    try {
      // The setup stage ends once connected; its timeout must not fire during the hold.
      const r = await run('conn', { conns: 50, conc: 10, hold: 1.5, settle: 0, setupTimeout: 1, localAddress: '127.0.0.2' });
      expect(r.error).toBe('');
      expect(r.ok).toBe(true);
      expect(r.connected).toBe(50);
    } finally {
      off();
    }
    expect([...peers]).toEqual(['127.0.0.2']);
  });
});
