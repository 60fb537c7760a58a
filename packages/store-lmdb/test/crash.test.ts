import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openLmdbStores } from '../src/index.js';
import { removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const root = fileURLToPath(new URL('../../../', import.meta.url));
const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

interface Run {
  /** Complete lines the child printed before it died. */
  lines: string[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts the writer, lets it write for `ms` after it is ready, then kills it with SIGKILL. */
function runAndKill(dir: string, firstId: number, durability: 'flush' | 'commit', ms: number): Promise<Run> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--conditions=@junction/source', '--import', 'tsx', writer, dir, String(firstId), durability], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (stdout === '' && chunk.startsWith('ready')) setTimeout(() => child.kill('SIGKILL'), ms);
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close': the process has exited and its output has been read to the end.
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (!stdout.startsWith('ready')) reject(new Error(`writer did not start: ${stderr}`));
      // A line cut by the kill is not counted.
      const lines = stdout.split('\n');
      lines.pop();
      resolve({ lines, signal, stderr });
    });
  });
}

describe('crash safety', () => {
  it('every write acknowledged before SIGKILL is there after reopening, over several kills', async () => {
    const dir = tempDir();
    /** Per client, delivery ids acknowledged and not completed. */
    const expected = new Map<string, Set<number>>();
    const completed = new Set<number>();
    let lastRetained = -1;
    let nextId = 0;
    let totalAcks = 0;

    for (let round = 0; round < 5; round++) {
      const durability = round % 2 === 0 ? 'flush' : 'commit';
      const run = await runAndKill(dir, nextId, durability, 150 + Math.floor(Math.random() * 350));
      expect(run.signal, run.stderr).toBe('SIGKILL');
      let maxId = nextId;
      for (const line of run.lines) {
        const [kind, a, b] = line.split(' ');
        if (kind === 'ack') {
          const set = expected.get(a!) ?? new Set<number>();
          expected.set(a!, set);
          set.add(Number(b));
          maxId = Math.max(maxId, Number(b) + 1);
          totalAcks++;
        } else if (kind === 'send') {
          // Being completed: from here on it may be gone, whether or not 'done' was printed.
          expected.get(a!)?.delete(Number(b));
        } else if (kind === 'done') {
          completed.add(Number(b));
        } else if (kind === 'ret') {
          lastRetained = Math.max(lastRetained, Number(a));
        }
      }
      // Ids the child used but did not report may be stored or not: never reuse them.
      nextId = maxId + 1000;

      // Reopen (with the integrity check) and compare.
      const stores = await openLmdbStores({ path: dir });
      for (const [client, ids] of expected) {
        const ds = await stores.sessions.deliveries(client);
        const present = ds.map((d) => Number(d.message.payload.toString()));
        // In enqueue order, no duplicates.
        expect([...present].sort((x, y) => x - y)).toEqual(present);
        expect(new Set(present).size).toBe(present.length);
        const have = new Set(present);
        const missing = [...ids].filter((id) => !have.has(id));
        expect(missing, `round ${round} (${durability}): acknowledged deliveries of ${client} lost`).toEqual([]);
        for (const id of present) expect(completed.has(id), `completed delivery ${id} came back`).toBe(false);
      }
      const retained = await stores.retained.get('state/last');
      if (lastRetained >= 0) expect(Number(retained?.payload.toString())).toBeGreaterThanOrEqual(lastRetained);
      expect(stores.stats().sessions).toBe(8);
      await stores.close();
    }
    // The kills happened while writing, not before.
    expect(totalAcks).toBeGreaterThan(100);
  }, 120_000);
});
