/** Runs the real gateway from source in a child process, for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { tmpFile } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JUNCTION__')));

export interface Running {
  child: ChildProcess;
  port: number;
  exit: Promise<number | null>;
  lines: Record<string, unknown>[];
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const c of running.splice(0)) c.kill('SIGKILL');
});

/** Start the real gateway from source with JSON logs; resolve once it reports its listeners. */
export function startGateway(config: string, env: Record<string, string> = {}, opts: { dataDir?: string } = {}): Promise<Running> {
  // Each gateway keeps its data in its own directory; the dashboard stays off unless a test asks.
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'junction-gw-'));
  const defaults = config.includes('dashboard:') ? '' : 'dashboard: { listeners: { http: { enable: false } } }\n';
  const file = tmpFile(`node: { data_dir: "${dataDir}" }\n${defaults}${config}`);
  const child = spawn(process.execPath, ['--conditions=@junction/source', '--import', 'tsx', 'apps/gateway/src/main.ts', 'start', '--config', file], {
    cwd: repoRoot,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.msg === 'gateway_started') {
        const listeners = entry.listeners as { port: number }[];
        resolve({ child, port: listeners[0]!.port, exit, lines });
      }
    });
    void exit.then((code) => reject(new Error(`gateway exited ${code}: ${stderr}`)));
  });
}

