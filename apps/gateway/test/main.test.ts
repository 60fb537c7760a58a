import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tmpFile } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** The test's environment without config overrides, which would change the outcome. */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JUNCTION__')));

/** Runs the real executable from source, as `npm run dev` does. */
function junction(...args: string[]) {
  const r = spawnSync(process.execPath, ['--conditions=@junction/source', '--import', 'tsx', 'apps/gateway/src/main.ts', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env,
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('junction executable', () => {
  it('check-config exits 2 and names the unknown key', () => {
    const file = tmpFile('node:\n  name: junction@127.0.0.1\n  nmae: typo\n');
    const r = junction('check-config', '--config', file);
    expect(r.stderr).toBe(`junction: config error at node.nmae: unknown key; expected one of: name, data_dir, cookie, workers (${file}:3:9)\n`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('prints its version', () => {
    const r = junction('--version');
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});
