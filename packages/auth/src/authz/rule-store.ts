/**
 * Built-in authorization rules (EMQX `built_in_database`): lists of JSON rules per client id,
 * per user name and for all clients, managed by API. Checked in that order: client id rules,
 * then user name rules, then the `all` list.
 */
import { AuthError } from '../errors.js';
import { parseRawRule, type Rule } from './rule.js';

/** A rule as the API takes and returns it (EMQX's format). */
export interface RawRule {
  permission: 'allow' | 'deny';
  action: 'publish' | 'subscribe' | 'all' | 'pub' | 'sub';
  topic: string;
  qos?: number | number[];
  retain?: boolean | 'all';
}

export type RuleOwner = { username: string } | { clientid: string } | 'all';

/** A change to the rules, for whoever persists them. */
export type AclChange = { op: 'set'; owner: RuleOwner; rules: RawRule[] } | { op: 'delete'; owner: RuleOwner } | { op: 'clear' };

interface Entry {
  raw: RawRule[];
  compiled: Rule[];
}

export class AclRuleStore {
  private readonly byUsername = new Map<string, Entry>();
  private readonly byClientId = new Map<string, Entry>();
  private allRules: Entry | undefined;
  private readonly watchers: ((change: AclChange) => void)[] = [];

  constructor(private readonly maxRules = 100) {}

  /** Called for every change (set, delete, clear), in order: the persistence hook. */
  watch(fn: (change: AclChange) => void): void {
    this.watchers.push(fn);
  }

  private changed(change: AclChange): void {
    for (const fn of this.watchers) fn(change);
  }

  /** Replace the rules of an owner; throws `AuthError('invalid_rule')` on a bad rule or too many. */
  set(owner: RuleOwner, rules: RawRule[]): void {
    if (!Array.isArray(rules)) throw new AuthError('invalid_rule', 'rules must be a list');
    if (rules.length > this.maxRules) throw new AuthError('invalid_rule', `at most ${this.maxRules} rules per entry`);
    const compiled = rules.map((r) => parseRawRule(r));
    const entry: Entry = { raw: rules.map((r) => ({ ...r })), compiled };
    if (owner === 'all') this.allRules = entry;
    else if ('username' in owner) this.byUsername.set(owner.username, entry);
    else this.byClientId.set(owner.clientid, entry);
    if (this.watchers.length > 0) this.changed({ op: 'set', owner, rules: entry.raw.map((r) => ({ ...r })) });
  }

  get(owner: RuleOwner): RawRule[] | undefined {
    const e = owner === 'all' ? this.allRules : 'username' in owner ? this.byUsername.get(owner.username) : this.byClientId.get(owner.clientid);
    return e?.raw.map((r) => ({ ...r }));
  }

  delete(owner: RuleOwner): boolean {
    let had: boolean;
    if (owner === 'all') {
      had = this.allRules !== undefined;
      this.allRules = undefined;
    } else had = 'username' in owner ? this.byUsername.delete(owner.username) : this.byClientId.delete(owner.clientid);
    if (had) this.changed({ op: 'delete', owner });
    return had;
  }

  list(kind: 'username'): { username: string; rules: RawRule[] }[];
  list(kind: 'clientid'): { clientid: string; rules: RawRule[] }[];
  list(kind: 'username' | 'clientid'): ({ username: string; rules: RawRule[] } | { clientid: string; rules: RawRule[] })[] {
    if (kind === 'username') return [...this.byUsername].map(([username, e]) => ({ username, rules: e.raw }));
    return [...this.byClientId].map(([clientid, e]) => ({ clientid, rules: e.raw }));
  }

  clear(): void {
    this.byUsername.clear();
    this.byClientId.clear();
    this.allRules = undefined;
    this.changed({ op: 'clear' });
  }

  /** The rules that apply to a client, in checking order. */
  rulesFor(clientId: string, username: string | undefined): Rule[] {
    const out: Rule[] = [];
    const c = this.byClientId.get(clientId);
    if (c) out.push(...c.compiled);
    const u = username === undefined ? undefined : this.byUsername.get(username);
    if (u) out.push(...u.compiled);
    if (this.allRules) out.push(...this.allRules.compiled);
    return out;
  }
}
