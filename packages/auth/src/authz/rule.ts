/**
 * ACL rules as EMQX defines them (`emqx_authz_rule`): a permission, a client condition (who), an
 * action condition (publish / subscribe / all, optionally with QoS and retain) and a list of
 * topics (filters, `{eq, ...}` literals, or patterns with `${clientid}` / `${username}`).
 * Every source compiles to this one model: acl.conf, built-in rules, Redis, JWT and HTTP ACLs.
 */
import { cidrContains, parseCidr, type Cidr, type ParsedIp } from '../address.js';
import { InvalidRuleError } from '../errors.js';
import { Template } from '../template.js';
import { matchWords, words } from '../topic.js';

export type Permission = 'allow' | 'deny';
export type ActionType = 'publish' | 'subscribe' | 'all';

/** The client as rules see it. */
export interface RuleSubject {
  readonly clientId: string;
  /** The authenticated identity when an authenticator established one, else the CONNECT user name. */
  readonly username?: string;
  readonly peer?: ParsedIp;
  /** Placeholder values beyond clientid/username: `cert_common_name`, `client_attrs.NAME`. */
  readonly vars: (name: string) => string | undefined;
}

/** What the client wants to do. */
export interface RuleAction {
  readonly type: 'publish' | 'subscribe';
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
}

export type Who =
  | { readonly kind: 'all' }
  | { readonly kind: 'username' | 'clientid'; readonly eq?: string; readonly re?: RegExp }
  | { readonly kind: 'ipaddr'; readonly nets: readonly Cidr[] }
  | { readonly kind: 'and' | 'or'; readonly list: readonly Who[] };

export interface ActionCondition {
  readonly type: ActionType;
  /** QoS levels matched; undefined: any. */
  readonly qos?: readonly (0 | 1 | 2)[];
  /** Retain flag matched (publish only); undefined or 'all': any. */
  readonly retain?: boolean | 'all';
}

/** One level of a topic pattern: literal text (also `+` and `#`) or a template. */
type Level = string | Template;

export type TopicCondition =
  | { readonly kind: 'eq'; readonly words: readonly string[]; readonly text: string }
  | { readonly kind: 'filter'; readonly words: readonly string[]; readonly text: string }
  | { readonly kind: 'pattern'; readonly levels: readonly Level[]; readonly text: string };

export interface Rule {
  readonly permission: Permission;
  readonly who: Who;
  readonly action: ActionCondition;
  readonly topics: readonly TopicCondition[];
}

export type RuleResult = Permission | 'nomatch';

/** Placeholders an ACL topic may use. */
export const TOPIC_VARS = ['clientid', 'username', 'cn', 'cert_common_name', 'client_attrs'] as const;

// ------------------------------------------------------------------ compile

/** A topic condition from `"a/${clientid}/#"`, `"eq a/#"` or an `{eq, ...}` literal. */
export function compileTopic(text: string, eq = false): TopicCondition {
  if (typeof text !== 'string' || text === '') throw new InvalidRuleError(`invalid topic ${JSON.stringify(text)}`);
  if (!eq && text.startsWith('eq ')) return compileTopic(text.slice(3), true);
  if (eq) return { kind: 'eq', words: words(text), text };
  const levels: Level[] = [];
  let constant = true;
  for (const w of words(text)) {
    let t: Template;
    try {
      t = Template.parse(w, TOPIC_VARS);
    } catch (err) {
      throw new InvalidRuleError((err as Error).message);
    }
    if (t.isConstant) levels.push(w);
    else {
      constant = false;
      levels.push(t);
    }
  }
  return constant ? { kind: 'filter', words: words(text), text } : { kind: 'pattern', levels, text };
}

export function compileRegex(source: string): RegExp {
  try {
    return new RegExp(source, 'u');
  } catch {
    try {
      return new RegExp(source);
    } catch (err) {
      throw new InvalidRuleError(`invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`);
    }
  }
}

export function compileNets(list: readonly string[]): Cidr[] {
  return list.map((t) => {
    try {
      return parseCidr(t);
    } catch (err) {
      throw new InvalidRuleError((err as Error).message);
    }
  });
}

// ------------------------------------------------------------------ match

/** The first rule that matches decides; `nomatch` when none does. */
export function matchRules(rules: readonly Rule[], subject: RuleSubject, action: RuleAction, topic: readonly string[]): RuleResult {
  for (const rule of rules) {
    if (matchAction(action, rule.action) && matchWho(subject, rule.who) && matchTopics(subject, topic, rule.topics)) return rule.permission;
  }
  return 'nomatch';
}

function matchAction(a: RuleAction, c: ActionCondition): boolean {
  if (c.type !== 'all' && c.type !== a.type) return false;
  if (c.qos && !c.qos.includes(a.qos)) return false;
  if (a.type === 'publish' && c.retain !== undefined && c.retain !== 'all' && c.retain !== a.retain) return false;
  return true;
}

export function matchWho(s: RuleSubject, who: Who): boolean {
  switch (who.kind) {
    case 'all':
      return true;
    case 'username':
    case 'clientid': {
      const v = who.kind === 'username' ? s.username : s.clientId;
      if (v === undefined) return false;
      return who.re ? who.re.test(v) : v === who.eq;
    }
    case 'ipaddr':
      return who.nets.some((n) => cidrContains(n, s.peer));
    case 'and':
      return who.list.every((w) => matchWho(s, w));
    case 'or':
      return who.list.some((w) => matchWho(s, w));
  }
}

function matchTopics(s: RuleSubject, topic: readonly string[], conds: readonly TopicCondition[]): boolean {
  for (const c of conds) {
    switch (c.kind) {
      case 'eq':
        if (topic.length === c.words.length && topic.every((w, i) => w === c.words[i])) return true;
        break;
      case 'filter':
        if (matchWords(topic, c.words)) return true;
        break;
      case 'pattern': {
        const rendered = renderPattern(c.levels, s);
        if (rendered && matchWords(topic, rendered)) return true;
        break;
      }
    }
  }
  return false;
}

/**
 * Fill a pattern's placeholders, one topic level each. A value that is missing or empty, or that
 * holds `/`, `+`, `#` or NUL, makes the pattern match nothing: a client named `#` or `a/b` must
 * not turn `t/${username}` into a wider filter or reach into another client's levels.
 */
function renderPattern(levels: readonly Level[], s: RuleSubject): string[] | undefined {
  const out: string[] = [];
  for (const level of levels) {
    if (typeof level === 'string') {
      out.push(level);
      continue;
    }
    const v = level.renderStrict((name) => safeValue(lookup(s, name)));
    if (v === undefined) return undefined;
    out.push(v);
  }
  return out;
}

function lookup(s: RuleSubject, name: string): string | undefined {
  if (name === 'clientid') return s.clientId;
  if (name === 'username') return s.username;
  if (name === 'cn') return s.vars('cert_common_name');
  return s.vars(name);
}

function safeValue(v: string | undefined): string | undefined {
  if (v === undefined || v === '' || /[/+#\u0000]/.test(v)) return undefined;
  return v;
}

// ------------------------------------------------------------------ raw (JSON) rules

/**
 * One rule in EMQX's JSON form (built-in database, Redis values, JWT and HTTP `acl`):
 * `{permission, action: pub|publish|sub|subscribe|all, topic | topics, qos?, retain?}`.
 */
export function parseRawRule(raw: unknown, who: Who = { kind: 'all' }): Rule {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidRuleError(`rule must be an object, got ${JSON.stringify(raw)}`);
  const r = raw as Record<string, unknown>;
  const permission = r.permission;
  if (permission !== 'allow' && permission !== 'deny') throw new InvalidRuleError(`invalid permission ${JSON.stringify(permission)}`);
  const type = parseActionType(r.action);
  let topics: unknown[];
  if (typeof r.topic === 'string') topics = [r.topic];
  else if (Array.isArray(r.topics)) topics = r.topics;
  else throw new InvalidRuleError('rule needs "topic" or "topics"');
  const compiled = topics.map((t) => {
    if (typeof t !== 'string') throw new InvalidRuleError(`invalid topic ${JSON.stringify(t)}`);
    return compileTopic(t);
  });
  const qos = parseQos(r.qos);
  const retain = type === 'subscribe' ? undefined : parseRetain(r.retain);
  return { permission, who, action: { type, qos, retain }, topics: compiled };
}

export function parseActionType(v: unknown): ActionType {
  if (v === 'pub' || v === 'publish') return 'publish';
  if (v === 'sub' || v === 'subscribe') return 'subscribe';
  if (v === 'all') return 'all';
  throw new InvalidRuleError(`invalid action ${JSON.stringify(v)}`);
}

function qosLevel(v: unknown): 0 | 1 | 2 {
  const n = typeof v === 'string' && /^\s*[0-2]\s*$/.test(v) ? Number(v) : v;
  if (n === 0 || n === 1 || n === 2) return n;
  throw new InvalidRuleError(`invalid qos ${JSON.stringify(v)}`);
}

export function parseQos(v: unknown): (0 | 1 | 2)[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(qosLevel);
  if (typeof v === 'string') return v.split(',').map(qosLevel);
  return [qosLevel(v)];
}

export function parseRetain(v: unknown): boolean | 'all' | undefined {
  if (v === undefined || v === null || v === 'all') return undefined;
  if (v === true || v === 1 || v === 'true' || v === '1') return true;
  if (v === false || v === 0 || v === 'false' || v === '0') return false;
  throw new InvalidRuleError(`invalid retain ${JSON.stringify(v)}`);
}

/**
 * The `acl` an authenticator returns (JWT claim, HTTP answer), in either EMQX format:
 * a list of raw rules (checked in order; no match passes on), or the legacy
 * `{pub: [...], sub: [...], all: [...]}` object (allow those; anything else is denied).
 */
export type ClientAcl = { readonly kind: 'rules'; readonly rules: readonly Rule[] } | { readonly kind: 'legacy'; readonly rules: readonly Rule[] };

export function parseClientAcl(raw: unknown): ClientAcl {
  if (Array.isArray(raw)) return { kind: 'rules', rules: raw.map((r) => parseRawRule(r)) };
  if (raw !== null && typeof raw === 'object') {
    const o = raw as Record<string, unknown>;
    const rules: Rule[] = [];
    for (const [key, type] of [['pub', 'publish'], ['sub', 'subscribe'], ['all', 'all']] as const) {
      const list = o[key] ?? (key === 'pub' ? o.publish : key === 'sub' ? o.subscribe : undefined);
      if (list === undefined) continue;
      if (!Array.isArray(list)) throw new InvalidRuleError(`acl.${key} must be a list of topics`);
      rules.push({ permission: 'allow', who: { kind: 'all' }, action: { type }, topics: list.map((t) => compileTopic(String(t))) });
    }
    return { kind: 'legacy', rules };
  }
  throw new InvalidRuleError('acl must be a list of rules or an object with pub/sub/all');
}
