/**
 * The authorization chain as one `client.authorize` interceptor: the client's own ACL (JWT/HTTP)
 * first, then the configured sources in order; the first allow or deny wins, else `no_match`.
 * Verdicts are cached per connection; a deny may disconnect the client (`deny_action`).
 */
import type { AuthzRequest, AuthzResult, ClientInfo, Logger } from '@junction/broker-core';
import { parseIp, peerHost, peerPort, type ParsedIp } from '../address.js';
import { ATTR, attr, effectiveUsername } from '../attrs.js';
import type { AuthorizationConfig } from '../config.js';
import { LOG } from '../log-events.js';
import type { VarLookup } from '../template.js';
import { matchWords, realTopic, words } from '../topic.js';
import type { RuleAction, RuleResult, RuleSubject } from './rule.js';
import type { AuthzContext, AuthzSource } from './sources.js';

interface CacheEntry {
  verdict: 'allow' | 'deny';
  expiresAt: number;
}

/** One connection's cached verdicts: per topic, one slot per action, QoS and retain flag. */
class VerdictCache {
  readonly byTopic = new Map<string, (CacheEntry | undefined)[]>();
  /** Entries in all slots. */
  size = 0;
}

/** The slot of a request's verdict in its topic's array (see `VerdictCache`). */
function slotOf(req: AuthzRequest): number {
  return req.action === 'publish' ? req.qos * 2 + (req.retain ? 1 : 0) : 6 + req.qos;
}

export interface AuthorizerOptions {
  config: AuthorizationConfig;
  /** The client ACL source first, then the configured ones. */
  sources: readonly AuthzSource[];
  now: () => number;
  log: Logger;
  /** Called after a deny when deny_action is disconnect. */
  disconnect(client: ClientInfo): void;
  /** Only verdicts of live connections are cached (a will may be authorized after the end). */
  isConnected(client: ClientInfo): boolean;
}

export class Authorizer {
  private readonly cache = new Map<ClientInfo, VerdictCache>();
  private readonly subjects = new WeakMap<ClientInfo, RuleSubject>();
  private readonly excludes: string[][];

  constructor(private readonly opts: AuthorizerOptions) {
    this.excludes = opts.config.cache.excludes.map(words);
  }

  /** The interceptor. Synchronous unless a source is. */
  readonly intercept = (req: AuthzRequest): AuthzResult | Promise<AuthzResult> => {
    let cache = this.opts.config.cache.enable;
    if (cache) {
      const hit = this.cache.get(req.client)?.byTopic.get(req.topic)?.[slotOf(req)];
      if (hit !== undefined && hit.expiresAt > this.opts.now()) {
        req.source = 'cache';
        return this.finish(req, hit.verdict, true);
      }
    }
    const topic = req.action === 'subscribe' ? realTopic(req.topic) : req.topic;
    const w = words(topic);
    if (cache && this.excludes.length > 0 && this.excludes.some((f) => matchWords(w, f))) cache = false;
    const ctx: AuthzContext = {
      client: req.client,
      subject: this.subject(req.client),
      action: { type: req.action, qos: req.qos, retain: req.retain === true } satisfies RuleAction,
      topic,
      words: w,
      vars: requestVars(req, topic),
    };
    const sources = this.opts.sources;
    for (let i = 0; i < sources.length; i++) {
      const r = this.ask(sources[i]!, ctx);
      if (r instanceof Promise) return this.continueAsync(r, i, ctx, req, cache);
      if (r !== 'nomatch') {
        req.source = sources[i]!.type;
        return this.settle(req, r, cache);
      }
    }
    req.source = 'default';
    return this.settle(req, this.opts.config.no_match, cache);
  };

  /** Forget cached verdicts: all, or those of one client id. */
  clearCache(clientId?: string): void {
    if (clientId === undefined) this.cache.clear();
    else for (const c of this.cache.keys()) if (c.clientId === clientId) this.cache.delete(c);
  }

  /** The connection ended: drop its cache. */
  forget(client: ClientInfo): void {
    this.cache.delete(client);
  }

  private async continueAsync(first: Promise<RuleResult>, i: number, ctx: AuthzContext, req: AuthzRequest, cache: boolean): Promise<AuthzResult> {
    let r = await first;
    const sources = this.opts.sources;
    while (r === 'nomatch' && ++i < sources.length) r = await this.ask(sources[i]!, ctx);
    req.source = r === 'nomatch' ? 'default' : sources[i]!.type;
    return this.settle(req, r === 'nomatch' ? this.opts.config.no_match : r, cache);
  }

  private ask(source: AuthzSource, ctx: AuthzContext): RuleResult | Promise<RuleResult> {
    const fail = (err: unknown): RuleResult => {
      this.opts.log.error({ clientId: ctx.client.clientId, source: source.type, err: (err as Error)?.message ?? String(err) }, LOG.authzBackendFailed);
      return 'nomatch';
    };
    try {
      const r = source.authorize(ctx);
      return r instanceof Promise ? r.catch(fail) : r;
    } catch (err) {
      return fail(err);
    }
  }

  private settle(req: AuthzRequest, verdict: 'allow' | 'deny', cache: boolean): AuthzResult {
    if (cache && this.opts.isConnected(req.client)) {
      let c = this.cache.get(req.client);
      if (!c) this.cache.set(req.client, (c = new VerdictCache()));
      // The topic becomes the newest; the oldest topics go first when the cache is full.
      let slots = c.byTopic.get(req.topic);
      if (slots === undefined) slots = [];
      else c.byTopic.delete(req.topic);
      c.byTopic.set(req.topic, slots);
      const i = slotOf(req);
      if (slots[i] === undefined) c.size++;
      slots[i] = { verdict, expiresAt: this.cacheExpiry(req.client) };
      const max = this.opts.config.cache.max_size;
      for (const [topic, old] of c.byTopic) {
        if (c.size <= max) break;
        c.byTopic.delete(topic);
        for (const e of old) if (e !== undefined) c.size--;
      }
    }
    return this.finish(req, verdict, false);
  }

  /** A verdict never outlives the client's ACL (its token's exp). */
  private cacheExpiry(client: ClientInfo): number {
    const until = this.opts.now() + this.opts.config.cache.ttl;
    const exp = attr<{ expire?: number }>(client, ATTR.acl)?.expire;
    return exp !== undefined ? Math.min(until, exp * 1000) : until;
  }

  private finish(req: AuthzRequest, verdict: 'allow' | 'deny', cached: boolean): AuthzResult {
    if (verdict === 'deny') {
      this.opts.log.info({ clientId: req.client.clientId, username: req.client.username, action: req.action, topic: req.topic, qos: req.qos, cached }, LOG.authzDenied);
      if (this.opts.config.deny_action === 'disconnect') this.opts.disconnect(req.client);
    }
    return verdict;
  }

  private subject(client: ClientInfo): RuleSubject {
    let s = this.subjects.get(client);
    if (!s) {
      const peer: ParsedIp | undefined = parseIp(peerHost(client.peer));
      s = { clientId: client.clientId, username: effectiveUsername(client), peer, vars: (name) => clientVar(client, name) };
      this.subjects.set(client, s);
    }
    return s;
  }
}

function clientVar(client: ClientInfo, name: string): string | undefined {
  if (name.startsWith('client_attrs.')) {
    const v = attr<Record<string, unknown>>(client, ATTR.clientAttrs)?.[name.slice(13)];
    return typeof v === 'string' ? v : undefined;
  }
  if (name === 'cert_common_name' || name === 'cert_subject') {
    const v = client.attrs?.[name];
    return typeof v === 'string' ? v : undefined;
  }
  return undefined;
}

/** Placeholder values of an authorization request (Redis keys, HTTP requests). */
function requestVars(req: AuthzRequest, topic: string): VarLookup {
  const c = req.client;
  return (name) => {
    switch (name) {
      case 'clientid':
        return c.clientId;
      case 'username':
        return effectiveUsername(c);
      case 'peerhost':
        return peerHost(c.peer);
      case 'peerport':
        return peerPort(c.peer);
      case 'proto_name':
      case 'protocol':
        return c.protocol;
      case 'mountpoint':
        return '';
      case 'topic':
        return topic;
      case 'action':
        return req.action;
      case 'qos':
        return String(req.qos);
      case 'retain':
        return String(req.retain === true);
      default:
        return clientVar(c, name);
    }
  };
}
