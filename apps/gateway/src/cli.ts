/**
 * The `junction` command: `start`, `check-config`, `config-docs`, `--help`, `--version`.
 * `runCli` returns the exit status instead of exiting, so it can run in tests; everything it
 * touches in the process (streams, environment, signals, exit) can be replaced.
 */
import { runCtl } from '@junction/admin';
import type { TSchema } from '@sinclair/typebox';
import { parseCliArgs, USAGE, UsageError, type CliArgs } from './cli-args.js';
import { configDocs } from './config/docs.js';
import { loadConfig } from './config/load.js';
import { buildGatewaySchema, type GatewayConfig } from './config/schema.js';
import { createLogger } from './logger.js';
import { defaultConfigPath, packageVersion } from './paths.js';
import { gatewaySections } from './sections.js';
import { startGateway } from './server.js';
import { watchShutdown, type SignalSource } from './shutdown.js';
import { checkWorkersConfig, runPrimary, runWorker, WORKER_INDEX_ENV, workerCount } from './workers.js';
import cluster from 'node:cluster';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 2;
export const EXIT_USAGE = 64;

export interface CliContext {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly signals: SignalSource;
  /** Exits the process at once (used by a second shutdown signal). */
  readonly exit: (code: number) => void;
  readonly startGateway: typeof startGateway;
  /** The config schema; by default the gateway's, with the registered adapters' sections. */
  readonly schema: TSchema;
}

/** The gateway's full config schema: base sections plus every registered adapter's section. */
export function gatewaySchema(): TSchema {
  return buildGatewaySchema(gatewaySections().schemaSections());
}

export async function runCli(argv: readonly string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const ctx: CliContext = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signals: process,
    exit: (code) => process.exit(code),
    startGateway,
    ...overrides,
    schema: overrides.schema ?? gatewaySchema(),
  };
  // `junction ctl ...` talks to a running gateway; its arguments are its own.
  if (argv[0] === 'ctl') return ctl(argv.slice(1), ctx);
  try {
    const args = parseCliArgs(argv);
    switch (args.command) {
      case 'help':
        ctx.stdout.write(USAGE);
        return EXIT_OK;
      case 'version':
        ctx.stdout.write(`${packageVersion()}\n`);
        return EXIT_OK;
      case 'config-docs':
        ctx.stdout.write(`${configDocs(ctx.schema)}\n`);
        return EXIT_OK;
      case 'check-config':
        load(args, ctx);
        ctx.stdout.write('OK\n');
        return EXIT_OK;
      case 'start':
        return await start(load(args, ctx), ctx);
    }
  } catch (err) {
    return report(err, ctx);
  }
}

function ctl(argv: readonly string[], ctx: CliContext): Promise<number> {
  const env = ctx.env;
  const login = env.JUNCTION_CTL_USERNAME && env.JUNCTION_CTL_PASSWORD ? { username: env.JUNCTION_CTL_USERNAME, password: env.JUNCTION_CTL_PASSWORD } : undefined;
  return runCtl(argv, {
    url: env.JUNCTION_CTL_URL ?? 'http://127.0.0.1:18083',
    apiKey: env.JUNCTION_CTL_API_KEY,
    login,
    out: (line) => ctx.stdout.write(`${line}\n`),
    err: (line) => ctx.stderr.write(`${line}\n`),
  });
}

function load(args: CliArgs, ctx: CliContext): GatewayConfig {
  const config = loadConfig({ file: args.config ?? defaultConfigPath(), env: ctx.env, schema: ctx.schema }) as GatewayConfig;
  checkWorkersConfig(config);
  return config;
}

async function start(config: GatewayConfig, ctx: CliContext): Promise<number> {
  const log = createLogger({ ...config.log, destination: ctx.stdout === process.stdout ? undefined : ctx.stdout });
  // `node.workers` > 1: this process is the primary, or one of the workers it forked.
  const workers = workerCount(config);
  if (workers > 1 && cluster.isWorker) return runWorker(config, log.child({ worker: Number(process.env[WORKER_INDEX_ENV]) }), ctx.startGateway);
  const shutdown = watchShutdown({ signals: ctx.signals, exit: ctx.exit, log });
  try {
    if (workers > 1) return await runPrimary(config, log, workers, shutdown.requested);
    let gateway;
    try {
      gateway = await ctx.startGateway(config, log);
    } catch (err) {
      if (isConfigError(err)) throw err;
      log.error({ err }, 'gateway_start_failed');
      return EXIT_FAILURE;
    }
    log.info({ node: config.node.name, listeners: gateway.listeners }, 'gateway_started');
    const signal = await shutdown.requested;
    log.info({ signal }, 'gateway_stopping');
    try {
      await gateway.stop();
    } catch (err) {
      log.error({ err }, 'gateway_stop_failed');
      return EXIT_FAILURE;
    }
    log.info({ signal }, 'gateway_stopped');
    return EXIT_OK;
  } finally {
    shutdown.dispose();
  }
}

interface ConfigErrorLike {
  readonly path: string;
  readonly message: string;
}

/** `ConfigError` from `@junction/broker-core`, also when another copy of the module threw it. */
function isConfigError(err: unknown): err is ConfigErrorLike {
  return err instanceof Error && err.name === 'ConfigError' && typeof (err as { path?: unknown }).path === 'string';
}

function report(err: unknown, ctx: CliContext): number {
  if (isConfigError(err)) {
    // ConfigError's message starts with its path; print the path once.
    const message = err.path && err.message.startsWith(`${err.path}: `) ? err.message.slice(err.path.length + 2) : err.message;
    ctx.stderr.write(err.path ? `junction: config error at ${err.path}: ${message}\n` : `junction: config error: ${message}\n`);
    return EXIT_CONFIG;
  }
  if (err instanceof UsageError) {
    ctx.stderr.write(`junction: ${err.message}\nRun "junction --help" for usage.\n`);
    return EXIT_USAGE;
  }
  ctx.stderr.write(`junction: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT_FAILURE;
}
