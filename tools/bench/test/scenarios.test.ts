import { describe, expect, it } from 'vitest';
import { parseArgs, parseBrokerSpec, UsageError } from '../src/args.js';
import { table } from '../src/report.js';
import { planWorkers } from '../src/runner.js';
import { kindOf, parseLabel, resolveConfig, SHARED_BENCH_LABELS } from '../src/scenarios.js';

describe('scenario labels', () => {
  it('reads the shared benchmark labels as run-bench.sh sets them', () => {
    expect(resolveConfig('fanin_q0_16B')).toMatchObject({ scenario: 'fanin', pubs: 8, subs: 1, subMode: 'wild', qos: 0, size: 16, window: 64 });
    expect(resolveConfig('fanin_q1_1KiB')).toMatchObject({ qos: 1, size: 1024 });
    expect(resolveConfig('pairs_q0_16B')).toMatchObject({ pubs: 8, subs: 8, subMode: 'pertopic' });
    expect(resolveConfig('fanout_q0_16B')).toMatchObject({ pubs: 1, subs: 1000, subMode: 'pertopic', window: 4 });
    expect(resolveConfig('latency_q1')).toMatchObject({ pubs: 10, subs: 10, rate: 5000, qos: 1, duration: 10 });
    expect(resolveConfig('conn_10k')).toMatchObject({ scenario: 'conn', conns: 10_000, conc: 100 });
    for (const l of SHARED_BENCH_LABELS) expect(() => resolveConfig(l)).not.toThrow();
  });

  it('takes scale, version and size modifiers, and flags override the label', () => {
    expect(parseLabel('conn_19k').conns).toBe(19_000);
    expect(parseLabel('fanout_q0_16B_2k').subs).toBe(2000);
    expect(parseLabel('latency_q0_20k').rate).toBe(20_000);
    expect(parseLabel('pairs_4')).toMatchObject({ pubs: 4, subs: 4 });
    expect(parseLabel('subscribe_500_v5')).toMatchObject({ topics: 500, mqtt: 5 });
    expect(parseLabel('publish_q2_4KiB')).toMatchObject({ qos: 2, size: 4096 });
    expect(resolveConfig('fanin_q1_16B', { qos: 2, duration: 1 })).toMatchObject({ qos: 2, duration: 1, label: 'fanin_q1_16B' });
    expect(() => parseLabel('fanin_q3')).toThrow(/modifier/);
    expect(() => parseLabel('nosuch_q0')).toThrow(/unknown scenario/);
    expect(() => resolveConfig('fanin_8B')).toThrow(/size/);
    expect(() => resolveConfig('pairs_q0', { subs: 2 })).toThrow(/subs >= pubs/);
    expect(kindOf('latency_q0')).toBe('latency');
    expect(kindOf('fanout_q0_16B')).toBe('throughput');
  });
});

describe('worker plan', () => {
  const owners = (plan: ReturnType<typeof planWorkers>, key: 'subs' | 'pubs' | 'conns') => plan.workers.flatMap((w) => w[key]).sort((a, b) => a - b);

  it('gives every connection to exactly one worker, and counts subscribers per publisher', () => {
    for (const label of ['fanin_q0_16B', 'fanout_q0_16B', 'pairs_q0_16B', 'latency_q0', 'publish_q0'])
      for (const cores of [1, 2, 4, 16]) {
        const cfg = resolveConfig(label);
        const plan = planWorkers(cfg, cores);
        expect(owners(plan, 'subs')).toEqual([...Array(cfg.subs).keys()]);
        expect(owners(plan, 'pubs')).toEqual([...Array(cfg.pubs).keys()]);
        expect(plan.workers.every((w) => w.subs.length + w.pubs.length > 0)).toBe(true);
      }
    expect(planWorkers(resolveConfig('fanin_q0_16B'), 4).nsubsOf).toEqual(Array(8).fill(1));
    expect(planWorkers(resolveConfig('pairs_q0_16B'), 4).nsubsOf).toEqual(Array(8).fill(1));
    expect(planWorkers(resolveConfig('fanout_q0_16B'), 4).nsubsOf).toEqual([1000]);
    const conn = planWorkers(resolveConfig('conn_1k'), 3);
    expect(conn.workers).toHaveLength(3);
    expect(owners(conn, 'conns')).toEqual([...Array(1000).keys()]);
  });

  it('keeps paced publishers and subscribers apart, even on one core', () => {
    const plan = planWorkers(resolveConfig('latency_q0'), 1);
    expect(plan.workers.length).toBeGreaterThanOrEqual(2);
    for (const w of plan.workers) expect(w.subs.length === 0 || w.pubs.length === 0).toBe(true);
    // saturation on one core: one worker does both
    expect(planWorkers(resolveConfig('fanin_q0_16B'), 1).workers).toHaveLength(1);
  });
});

describe('command line', () => {
  it('maps flags onto the run configuration', () => {
    const p = parseArgs(['fanin_q1_16B', '--port', '18834', '--size=1KiB', '--mqtt', '5', '--conns', '10k', '--spin', '--out', 'x.jsonl', '-v']);
    expect(p.positional).toEqual(['fanin_q1_16B']);
    expect(p.overrides).toEqual({ port: 18834, size: 1024, mqtt: 5, conns: 10_000, spin: true });
    expect(p.flags.get('out')).toEqual(['x.jsonl']);
    expect(p.flags.has('v')).toBe(true);
    expect(() => parseArgs(['--qos', '3'])).toThrow(UsageError);
    expect(() => parseArgs(['--nosuch', '1'])).toThrow(/unknown option/);
  });

  it('reads compare broker specs', () => {
    const p = parseArgs(['--broker', 'name=mosquitto', 'port=18831', 'cmd=mosquitto -c m.conf', '--broker', 'name=junction', 'port=18834', 'cmd=node x.js --config b.yaml', 'cwd=/tmp', '--rounds', '3'], { brokerSpecs: true });
    expect(p.brokerSpecs.map(parseBrokerSpec)).toEqual([
      { name: 'mosquitto', port: 18831, cmd: 'mosquitto -c m.conf' },
      { name: 'junction', port: 18834, cmd: 'node x.js --config b.yaml', cwd: '/tmp' },
    ]);
    expect(() => parseBrokerSpec(['name=x', 'port=1'])).toThrow(/cmd/);
    expect(() => parseBrokerSpec(['name=x', 'port=99999', 'cmd=y'])).toThrow(/port/);
  });
});

describe('report', () => {
  it('prints medians per broker and ratios against the first', () => {
    const rows = [
      ...[100, 300, 200].map((v, i) => ({ label: 'fanin_q0_16B', broker: 'a', ok: true, round: i + 1, recv_rate: v, lost: 0, duplicates: 0, out_of_order: 0 })),
      ...[50, 150, 100].map((v, i) => ({ label: 'fanin_q0_16B', broker: 'b', ok: true, round: i + 1, recv_rate: v, lost: 0, duplicates: 0, out_of_order: 0 })),
      { label: 'fanin_q0_16B', broker: 'b', ok: false, round: 4, error: 'broker start failed' },
    ];
    const t = table(rows, ['a', 'b']);
    expect(t).toContain('| scenario | metric | a | b | b/a |');
    expect(t).toContain('| fanin_q0_16B | delivered msg/s | 200 | 100 | 0.50 |');
    expect(t).toContain('| fanin_q0_16B | runs ok / lost / dup / out of order | 3/3 / 0 / 0 / 0 | 3/4 / 0 / 0 / 0 |  |');
    expect(t).toContain('- fanin_q0_16B b round 4: broker start failed');
  });
});
