/**
 * Authorization sources. Each answers allow, deny or nomatch for one request; the chain
 * (chain.ts) asks them in order. Sources that only read memory answer synchronously, so QoS 0
 * publishing stays free of promises unless Redis or HTTP is configured.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, type ClientInfo, type Logger } from '@junction/broker-core';
import { ATTR, attr, type AclAttr } from '../attrs.js';
import type { FileSourceConfig, HttpSourceConfig, RedisSourceConfig } from '../config.js';
import { AclSyntaxError } from '../errors.js';
import { TemplatedRequest } from '../http-request.js';
import { LOG } from '../log-events.js';
import { createRedis, parseRedisCommand, type RedisClient } from '../redis.js';
import { AUTHZ_VARS, type VarLookup } from '../template.js';
import { DEFAULT_ACL, parseAclFile } from './acl-file.js';
import type { AclRuleStore } from './rule-store.js';
import { matchRules, parseClientAcl, parseRawRule, type ClientAcl, type RuleAction, type RuleResult, type RuleSubject } from './rule.js';

export interface AuthzContext {
  readonly client: ClientInfo;
  readonly subject: RuleSubject;
  readonly action: RuleAction;
  /** The topic checked: for subscriptions, without `$share/{group}/` or `$queue/`. */
  readonly topic: string;
  readonly words: readonly string[];
  /** Placeholder values for Redis and HTTP requests. */
  readonly vars: VarLookup;
}

export interface AuthzSource {
  readonly type: string;
  authorize(ctx: AuthzContext): RuleResult | Promise<RuleResult>;
  close?(): void | Promise<void>;
}

// ------------------------------------------------------------------ ACL from authentication

const compiledAcls = new WeakMap<object, ClientAcl | null>();

/**
 * The ACL a JWT claim or an HTTP answer gave the client (EMQX's hidden `client_info` source,
 * checked first). A list of rules passes on when none matches; the legacy {pub, sub, all} form
 * denies what it does not list. After the token's exp everything is denied.
 */
export function clientAclSource(now: () => number, log: Logger): AuthzSource {
  return {
    type: 'client_info',
    authorize(ctx) {
      const acl = attr<AclAttr>(ctx.client, ATTR.acl);
      if (!acl || typeof acl !== 'object') return 'nomatch';
      if (acl.expire !== undefined && acl.expire * 1000 <= now()) return 'deny';
      let compiled = compiledAcls.get(acl);
      if (compiled === undefined) {
        try {
          compiled = parseClientAcl(acl.rules);
        } catch (err) {
          log.warn({ clientId: ctx.client.clientId, source: acl.source, err: (err as Error).message }, LOG.authzBackendFailed);
          compiled = null;
        }
        compiledAcls.set(acl, compiled);
      }
      if (!compiled) return 'deny';
      const r = matchRules(compiled.rules, ctx.subject, ctx.action, ctx.words);
      return r === 'nomatch' && compiled.kind === 'legacy' ? 'deny' : r;
    },
  };
}

// ------------------------------------------------------------------ file

/** acl.conf from `path`, inline `rules`, or EMQX's default rules. Parse errors are config errors. */
export async function fileSource(cfg: FileSourceConfig, path: string): Promise<AuthzSource> {
  let text: string;
  let name: string;
  if (cfg.rules !== undefined) {
    text = cfg.rules;
    name = `${path}.rules`;
  } else if (cfg.path !== undefined) {
    try {
      text = await readFile(cfg.path, 'utf8');
    } catch (err) {
      throw new ConfigError(`${path}.path`, `cannot read ${cfg.path}: ${(err as Error).message}`, { cause: err });
    }
    name = cfg.path;
  } else {
    text = DEFAULT_ACL;
    name = 'default acl.conf';
  }
  let rules;
  try {
    rules = parseAclFile(text, name);
  } catch (err) {
    if (err instanceof AclSyntaxError) throw new ConfigError(cfg.path !== undefined ? `${path}.path` : `${path}.rules`, err.message, { cause: err });
    throw err;
  }
  return {
    type: 'file',
    authorize: (ctx) => matchRules(rules, ctx.subject, ctx.action, ctx.words),
  };
}

// ------------------------------------------------------------------ built-in rules

export function builtInSource(store: AclRuleStore): AuthzSource {
  return {
    type: 'built_in_database',
    authorize: (ctx) => matchRules(store.rulesFor(ctx.client.clientId, ctx.subject.username), ctx.subject, ctx.action, ctx.words),
  };
}

// ------------------------------------------------------------------ Redis

/**
 * EMQX's Redis ACL: `HGETALL mqtt_acl:${username}` returns `topic => action` pairs, the action
 * being `publish`, `subscribe`, `all` or JSON `{"action", "qos", "retain"}`; every pair allows.
 * A pair that does not parse is logged and skipped.
 */
export function redisSource(cfg: RedisSourceConfig, path: string, log: Logger, client?: RedisClient): AuthzSource {
  const cmd = parseRedisCommand(cfg.cmd, `${path}.cmd`, ['hgetall', 'hmget'], AUTHZ_VARS);
  const redis = client ?? createRedis(cfg, path, log);
  const failure = (): RuleResult => (cfg.on_failure === 'deny' ? 'deny' : 'nomatch');
  return {
    type: 'redis',
    async authorize(ctx) {
      const key = cmd.key.renderStrict(ctx.vars);
      if (key === undefined) return 'nomatch';
      let reply: unknown;
      try {
        reply = await redis.call(cmd.name, key, ...cmd.args);
      } catch (err) {
        log.warn({ clientId: ctx.client.clientId, source: 'redis', err: (err as Error).message }, LOG.authzBackendFailed);
        return failure();
      }
      // HGETALL: [topic, value, ...]; HMGET key topic...: the values of the listed topics.
      // (ioredis may already have turned an HGETALL reply into an object.)
      const list = Array.isArray(reply) ? (reply as unknown[]) : reply !== null && typeof reply === 'object' ? Object.entries(reply).flat() : [];
      const flat = cmd.name === 'hmget' ? cmd.args.flatMap((t, i) => (list[i] === null || list[i] === undefined ? [] : [t, list[i]])) : list;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const topic = String(flat[i]);
        const value = String(flat[i + 1]);
        let rule;
        try {
          const extra = value === 'publish' || value === 'subscribe' || value === 'all' ? { action: value } : pickRuleFields(JSON.parse(value));
          rule = parseRawRule({ permission: 'allow', topic, ...extra });
        } catch (err) {
          log.warn({ clientId: ctx.client.clientId, source: 'redis', topic, err: (err as Error).message }, LOG.authzBackendFailed);
          continue;
        }
        const r = matchRules([rule], ctx.subject, ctx.action, ctx.words);
        if (r !== 'nomatch') return r;
      }
      return 'nomatch';
    },
    async close() {
      if (!client) redis.disconnect();
    },
  };
}

function pickRuleFields(v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('rule is not a JSON object');
  const o = v as Record<string, unknown>;
  return { action: o.action, qos: o.qos, retain: o.retain };
}

// ------------------------------------------------------------------ HTTP

/**
 * EMQX's HTTP authorizer: 204 allows; 200 with `{"result": "allow"|"deny"|"ignore"}` decides;
 * other statuses are no match; failures follow on_failure.
 */
export function httpSource(cfg: HttpSourceConfig, path: string, log: Logger): AuthzSource {
  const request = new TemplatedRequest(cfg, AUTHZ_VARS, path);
  const failure = (): RuleResult => (cfg.on_failure === 'deny' ? 'deny' : 'nomatch');
  return {
    type: 'http',
    async authorize(ctx) {
      let answer;
      try {
        answer = await request.send(ctx.vars);
      } catch (err) {
        log.warn({ clientId: ctx.client.clientId, source: 'http', err: (err as Error).message }, LOG.authzBackendFailed);
        return failure();
      }
      if (answer.status === 204) return 'allow';
      if (answer.status !== 200) return 'nomatch';
      const result = answer.body?.result;
      if (result === 'allow' || result === 'deny') return result;
      if (answer.body === undefined) return failure();
      return 'nomatch';
    },
  };
}
