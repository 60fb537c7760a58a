/**
 * A real PostgreSQL server for tests: `initdb` into a temporary directory, then `postgres` on a
 * free 127.0.0.1 port with its unix socket in that directory, trust authentication, no fsync.
 *
 * The binaries are found on PATH (`initdb`), else in Debian's `/usr/lib/postgresql/<version>/bin`
 * (the `postgresql` package does not put them on PATH). PostgreSQL refuses to run as root: when
 * the tests run as root, the server runs as `nobody` (through `runuser`, else `su`) and the temp
 * dir is handed to that user.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './index.js';

export interface PostgresServer {
  readonly port: number;
  /** `postgresql://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** Stop the server (fast shutdown) but keep its data: `resume()` starts it again on the same port. */
  halt(): Promise<void>;
  /** Start a halted server again, same port and data. */
  resume(): Promise<void>;
  /** Stop the server and remove its data directory. Idempotent. */
  stop(): Promise<void>;
}

/** Why PostgreSQL cannot run here (no binaries, no unprivileged user). */
export class PostgresUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PostgresUnavailableError';
  }
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory holding `initdb` and `postgres`. */
export function findPostgresBin(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'initdb')) && executable(join(dir, 'postgres'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const dir = join(root, v, 'bin');
    if (executable(join(dir, 'initdb'))) return dir;
  }
  throw new PostgresUnavailableError('initdb not found on PATH nor in /usr/lib/postgresql/*/bin: install the Debian package postgresql');
}

interface RunAs {
  /** Command and leading arguments that run the rest as the server's user. */
  prefix: string[];
  uid?: number;
  gid?: number;
}

function runAs(): RunAs {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (executable(join(dir, 'runuser'))) return { prefix: [join(dir, 'runuser'), '-u', 'nobody', '--'], uid, gid };
  }
  // su needs one command line; the arguments built here are paths and numbers, no shell quoting issue.
  return { prefix: ['su', '-s', '/bin/sh', 'nobody', '-c'], uid, gid };
}

function command(as: RunAs, argv: string[]): [string, string[]] {
  if (as.prefix[0] === 'su') return ['su', [...as.prefix.slice(1), argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ')]];
  const all = [...as.prefix, ...argv];
  return [all[0]!, all.slice(1)];
}

function runSync(as: RunAs, argv: string[], cwd: string): void {
  const [cmd, args] = command(as, argv);
  try {
    execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new PostgresUnavailableError(`${argv[0]} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** initdb, then start `postgres`; resolves once it accepts connections. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'junction-pg-'));
  const data = join(dir, 'data');
  if (as.uid !== undefined) chownSync(dir, as.uid, as.gid!);
  try {
    runSync(as, [join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let port = 0;

  const launch = async (): Promise<void> => {
    const argv = [
      join(bin, 'postgres'), '-D', data, '-p', String(port), '-k', dir,
      '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'max_connections=50', '-c', 'shared_buffers=16MB',
    ];
    const [cmd, args] = command(as, argv);
    const p = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    proc = p;
    exited = new Promise((resolve) => p.once('exit', () => resolve()));
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail('no "ready to accept connections" within 15 s'), 15_000);
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new PostgresUnavailableError(`postgres did not start: ${why}\n${log.slice(-2000)}`));
      };
      p.stderr!.on('data', (c: Buffer) => {
        if (log.length < 65536) log += c.toString('utf8');
        if (/ready to accept connections/.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      });
      p.once('exit', (code) => fail(`exited with ${code}`));
    });
    p.stderr!.resume();
  };

  const halt = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    // pg_ctl as the server's user: a signal from root to `runuser` may not reach postgres.
    try {
      const [cmd, args] = command(as, [join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', '-t', '20', 'stop']);
      execFileSync(cmd, args, { cwd: dir, stdio: 'ignore' });
    } catch {
      p.kill('SIGINT');
    }
    await exited;
  };

  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      await halt().catch(() => undefined);
      if (attempt >= 2) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  let stopped: Promise<void> | undefined;
  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    halt,
    resume: launch,
    stop: () =>
      (stopped ??= (async () => {
        await halt();
        rmSync(dir, { recursive: true, force: true });
      })()),
  };
}
