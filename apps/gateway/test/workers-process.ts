/**
 * The real gateway from source in a child process that lives for a whole suite (run-gateway.ts
 * ends its children after each test): for the `node.workers` tests, whose primary forks workers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tmpFile } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JUNCTION__')));

export interface Running {
  child: ChildProcess;
  port: number;
  exit: Promise<number | null>;
  /** Every JSON log line so far, the workers' included (they share the primary's stdout). */
  lines: Record<string, unknown>[];
}

/** Start with JSON logs and the dashboard off; resolve once the primary reports its listeners.
 * The caller kills `child` (SIGKILL of the primary ends its workers too). */
export function startGatewayProcess(config: string, env: Record<string, string>, dataDir: string): Promise<Running> {
  const file = tmpFile(`node: { data_dir: "${dataDir}" }\ndashboard: { listeners: { http: { enable: false } } }\n${config}`);
  const child = spawn(process.execPath, ['--conditions=@junction/source', '--import', 'tsx', 'apps/gateway/src/main.ts', 'start', '--config', file], {
    cwd: repoRoot,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push(entry);
      if (entry.msg === 'gateway_started') resolve({ child, port: (entry.listeners as { port: number }[])[0]!.port, exit, lines });
    });
    void exit.then((code) => reject(new Error(`gateway exited ${code}: ${stderr}`)));
  });
}
