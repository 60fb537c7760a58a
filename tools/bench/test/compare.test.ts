/**
 * Compare mode end to end, small: two broker processes (Junction from the sources), one round,
 * alternating, started, measured and stopped by the tool; the table and the raw JSON lines.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compare, startBroker } from '../src/compare.js';
import { isListening } from '../src/procfs.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cmd = (port: number) => `node --conditions=@junction/source --import tsx tools/bench/test/fixtures/broker.ts ${port}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('compare mode', () => {
  it('refuses a port some other process already listens on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jbench-'));
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const { port } = squatter.address() as { port: number };
    try {
      await expect(startBroker({ name: 'x', port, cmd: 'sleep 5' }, { log: join(dir, 'x.log'), timeoutS: 5 })).rejects.toThrow(/already in use/);
    } finally {
      squatter.close();
    }
  });

  it('runs the brokers alternately and prints medians with ratios', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jbench-'));
    const [pa, pb] = [await freePort(), await freePort()];
    const out = join(dir, 'r.jsonl');
    const res = await compare({
      brokers: [
        { name: 'first', port: pa, cmd: cmd(pa), cwd: root },
        { name: 'second', port: pb, cmd: cmd(pb), cwd: root },
      ],
      labels: ['fanin_q0_16B'],
      rounds: 1,
      overrides: { warmup: 0.1, duration: 0.4, drainIdle: 1, workers: 1, meta: { test: true } },
      out,
      logsDir: join(dir, 'logs'),
      pin: false,
      startupTimeout: 15,
    });
    expect(res.rows.map((r) => [r.broker, r.ok, r.lost, r.duplicates, r.out_of_order])).toEqual([
      ['first', true, 0, 0, 0],
      ['second', true, 0, 0, 0],
    ]);
    expect(res.rows[0]).toMatchObject({ round: 1, test: true, label: 'fanin_q0_16B' });
    expect(res.rows[0]!.broker_pid).toBeGreaterThan(0);
    expect(res.rows[0]!.broker_rss_start_kb).toBeGreaterThan(0);
    expect(res.table).toContain('| scenario | metric | first | second | second/first |');
    expect(res.table).toMatch(/\| fanin_q0_16B \| delivered msg\/s \| [\d,.]+ \| [\d,.]+ \| \d+\.\d\d \|/);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(existsSync(join(dir, 'logs', 'broker-first-fanin_q0_16B-r1.log'))).toBe(true);
    // both stopped: ports free, process groups gone
    expect(isListening(pa) || isListening(pb)).toBe(false);
    for (const r of res.rows) expect(() => process.kill(-(r.broker_pid as number), 0)).toThrow();
  });
});
