/**
 * Redis for authentication and authorization (ioredis): a client from EMQX's connection keys,
 * and command templates (`HMGET mqtt_user:${username} password_hash salt is_superuser`) sent as
 * argument arrays, so a user name can never inject another command or argument.
 */
import { ConfigError, type Logger } from '@junction/broker-core';
import { Cluster, Redis } from 'ioredis';
import type { RedisConnectionConfig } from './config.js';
import { LOG } from './log-events.js';
import { Template } from './template.js';

export type RedisClient = Redis | Cluster;

function hostPort(text: string, path: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new ConfigError(path, `invalid server ${JSON.stringify(text)}`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 6379 };
}

function serverList(cfg: RedisConnectionConfig, path: string): { host: string; port: number }[] {
  const raw = cfg.servers ?? cfg.server;
  const list = Array.isArray(raw) ? raw : raw.split(',');
  return list.filter((s) => s.trim() !== '').map((s) => hostPort(s, `${path}.servers`));
}

/** Connect (in the background) as the config says; errors are logged, not thrown. */
export function createRedis(cfg: RedisConnectionConfig, path: string, log: Logger): RedisClient {
  const common = {
    username: cfg.username,
    password: cfg.password,
    connectTimeout: Math.max(cfg.request_timeout, 1000),
    commandTimeout: cfg.request_timeout,
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
  let client: RedisClient;
  if (cfg.redis_type === 'cluster') {
    client = new Cluster(serverList(cfg, path), { redisOptions: common });
  } else if (cfg.redis_type === 'sentinel') {
    if (!cfg.sentinel) throw new ConfigError(`${path}.sentinel`, 'is required for redis_type sentinel');
    client = new Redis({ ...common, sentinels: serverList(cfg, path), name: cfg.sentinel, db: cfg.database });
  } else {
    client = new Redis({ ...common, ...hostPort(cfg.server, `${path}.server`), db: cfg.database });
  }
  let lastLogged = 0;
  client.on('error', (err: Error) => {
    // One line per ten seconds at most while the server is away; never the password.
    const now = Date.now();
    if (now - lastLogged < 10_000) return;
    lastLogged = now;
    log.warn({ source: path, err: err.message }, LOG.redisError);
  });
  return client;
}

/** A parsed Redis command template: the command, a key template and fixed arguments. */
export interface RedisCommand {
  readonly name: string;
  readonly key: Template;
  readonly args: readonly string[];
}

/** Split a command line on spaces, honouring "double" and 'single' quotes. */
export function splitCommand(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of text.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return out;
}

/**
 * Parse and check a command template. `commands` are the allowed names (lower case); with
 * `fields`, every argument after the key must be one of them.
 */
export function parseRedisCommand(text: string, path: string, commands: readonly string[], allowedVars: readonly string[], fields?: readonly string[]): RedisCommand {
  const parts = splitCommand(text);
  const [name, key, ...args] = parts;
  if (!name || !key) throw new ConfigError(path, `expected a command and a key, got ${JSON.stringify(text)}`);
  if (!commands.includes(name.toLowerCase())) throw new ConfigError(path, `command must be one of ${commands.map((c) => c.toUpperCase()).join(', ')}, got ${name}`);
  let keyT: Template;
  try {
    keyT = Template.parse(key, allowedVars);
  } catch (err) {
    throw new ConfigError(path, (err as Error).message);
  }
  if (fields) {
    const bad = args.find((a) => !fields.includes(a));
    if (bad !== undefined) throw new ConfigError(path, `field ${JSON.stringify(bad)} is not one of ${fields.join(', ')}`);
  }
  for (const a of args) if (a.includes('${')) throw new ConfigError(path, 'placeholders are only allowed in the key');
  return { name: name.toLowerCase(), key: keyT, args };
}
