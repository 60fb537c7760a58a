/**
 * The rule engine: rules by id (compiled SQL, actions, enable, description), which rules an
 * event or message selects, running them, and EMQX's per-rule metrics:
 *
 * - `matched`: the rule ran (its FROM selected the event);
 * - `passed`: it produced output; `failed.no_result`: WHERE (or INCASE) left nothing;
 * - `failed` and `failed.exception`: evaluating it raised (a payload that is not JSON, a bad
 *   argument, division by zero, ...);
 * - `actions.total`, `actions.success`, `actions.failed` (`.out_of_service`: the sink is not
 *   registered; `.unknown`: anything else), `actions.discarded` (a republish the loop guard refused).
 *
 * Nothing a rule does can throw into the broker: failures are counted and logged at a bounded rate.
 */
import { topicMatches, type Logger, type PublishRequest, type Publisher } from '@junction/broker-core';
import { consoleAction } from './actions/console.js';
import { republishAction } from './actions/republish.js';
import { sinkAction, type SinkRegistry } from './actions/sink.js';
import { NO_ORIGIN, SinkUnavailableError, type Action, type Origin, type RuleOutput } from './actions/types.js';
import type { ActionConfig, RuleConfig } from './config.js';
import type { EventName } from './events/catalog.js';
import type { FunctionRegistry } from './functions/registry.js';
import { LOG } from './log-events.js';
import { LogLimiter } from './log-limit.js';
import { compileSql, type CompiledSql } from './runtime/compile.js';
import { Evaluation, type EvalServices } from './runtime/eval.js';
import { runStatement } from './runtime/execute.js';
import type { Value, ValueMap } from './runtime/values.js';

export const RULE_METRICS = [
  'matched',
  'passed',
  'failed',
  'failed.exception',
  'failed.no_result',
  'actions.total',
  'actions.success',
  'actions.failed',
  'actions.failed.out_of_service',
  'actions.failed.unknown',
  'actions.discarded',
] as const;
export type RuleMetricName = (typeof RULE_METRICS)[number];
export type RuleMetrics = Record<RuleMetricName, number>;

const zeroMetrics = (): RuleMetrics => Object.fromEntries(RULE_METRICS.map((k) => [k, 0])) as RuleMetrics;

/** A rule as the API shows it. */
export interface RuleInfo {
  readonly id: string;
  readonly sql: string;
  readonly actions: readonly ActionConfig[];
  readonly enable: boolean;
  readonly description: string;
  readonly metadata?: Record<string, unknown>;
  /** The FROM sources, as written. */
  readonly from: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Rule {
  readonly id: string;
  readonly config: RuleConfig;
  readonly compiled: CompiledSql;
  readonly actions: readonly Action[];
  readonly metrics: RuleMetrics;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface EngineDeps {
  readonly functions: FunctionRegistry;
  readonly sinks: SinkRegistry;
  readonly log: Logger;
  now(): number;
  publish(req: PublishRequest, from: Partial<Publisher>): void;
  readonly maxRepublishDepth: number;
  /** How often one rule may log the same kind of failure (ms). Default 10 s. */
  readonly logIntervalMs?: number;
}

/** The result of running SQL on sample columns (the API's "try it"). */
export type TestResult = { passed: true; outputs: Value[] } | { passed: false };

export class RuleEngine {
  private readonly rules = new Map<string, Rule>();
  private readonly changeListeners: (() => void)[] = [];
  private readonly services: EvalServices;
  private readonly limiter: LogLimiter;
  private origin: Origin = NO_ORIGIN;
  /** The store of kv_store_get/put/del, shared by every rule. */
  readonly kv = new Map<string, Value>();

  constructor(private readonly deps: EngineDeps) {
    this.services = { functions: deps.functions, now: () => deps.now(), kv: this.kv };
    this.limiter = new LogLimiter(deps.logIntervalMs ?? 10_000, () => deps.now());
  }

  // ---------------------------------------------------------------- definitions

  /** Add or replace a rule. The SQL and actions are checked first; a replaced rule keeps its metrics. */
  put(id: string, config: RuleConfig): RuleInfo {
    const compiled = compileSql(config.sql, this.deps.functions);
    const actions = config.actions.map((a) => this.buildAction(id, a));
    const old = this.rules.get(id);
    const now = this.deps.now();
    const rule: Rule = { id, config, compiled, actions, metrics: old?.metrics ?? zeroMetrics(), createdAt: old?.createdAt ?? now, updatedAt: now };
    this.rules.set(id, rule);
    this.deps.log.info({ rule_id: id, enable: config.enable, from: compiled.statement.from.map((f) => f.source) }, old ? LOG.ruleUpdated : LOG.ruleCreated);
    this.changed();
    return info(rule);
  }

  has(id: string): boolean {
    return this.rules.has(id);
  }

  config(id: string): RuleConfig | undefined {
    return this.rules.get(id)?.config;
  }

  remove(id: string): boolean {
    if (!this.rules.delete(id)) return false;
    this.limiter.forget(`${id}:`);
    this.deps.log.info({ rule_id: id }, LOG.ruleDeleted);
    this.changed();
    return true;
  }

  get(id: string): RuleInfo | undefined {
    const r = this.rules.get(id);
    return r && info(r);
  }

  list(): RuleInfo[] {
    return [...this.rules.values()].map(info);
  }

  metrics(id: string): RuleMetrics | undefined {
    const m = this.rules.get(id)?.metrics;
    return m && { ...m };
  }

  resetMetrics(id: string): boolean {
    const m = this.rules.get(id)?.metrics;
    if (!m) return false;
    for (const k of RULE_METRICS) m[k] = 0;
    return true;
  }

  /** Called after every change of the rule set (to attach or detach hooks). */
  onChange(fn: () => void): void {
    this.changeListeners.push(fn);
  }

  private changed(): void {
    this.enabledCache = undefined;
    for (const fn of this.changeListeners) fn();
  }

  private buildAction(ruleId: string, a: ActionConfig): Action {
    if (typeof a === 'string') return sinkAction(a, this.deps.sinks);
    switch (a.function) {
      case 'republish':
        return republishAction(ruleId, a.args, {
          publish: (req, from) => this.deps.publish(req, from),
          withOrigin: (o, fn) => this.withOrigin(o, fn),
          maxDepth: this.deps.maxRepublishDepth,
          log: this.deps.log,
          limiter: this.limiter,
        });
      case 'console':
        return consoleAction(this.deps.log);
      case 'sink':
        return sinkAction(a.name, this.deps.sinks);
    }
  }

  // ---------------------------------------------------------------- selection

  private enabledCache: Rule[] | undefined;

  /** Enabled rules, in creation order (cached until the rule set changes). */
  private enabled(): Rule[] {
    return (this.enabledCache ??= [...this.rules.values()].filter((r) => r.config.enable));
  }

  /** Enabled rules whose FROM has a topic filter matching `topic`. */
  forTopic(topic: string): Rule[] {
    const out: Rule[] = [];
    for (const r of this.enabled()) if (r.compiled.topics.some((f) => topicMatches(f, topic))) out.push(r);
    return out;
  }

  forEvent(name: EventName): Rule[] {
    return this.enabled().filter((r) => r.compiled.events.includes(name));
  }

  forBridge(id: string): Rule[] {
    return this.enabled().filter((r) => r.compiled.bridges.includes(id));
  }

  /** Does any enabled rule read `message.publish` (topics) or this event? */
  needs(name: EventName): boolean {
    return name === 'message.publish' ? this.enabled().some((r) => r.compiled.topics.length > 0) : this.forEvent(name).length > 0;
  }

  // ---------------------------------------------------------------- running

  /** The origin of what is being published right now (for the republish loop guard). */
  get currentOrigin(): Origin {
    return this.origin;
  }

  withOrigin(origin: Origin, fn: () => void): void {
    const saved = this.origin;
    this.origin = origin;
    try {
      fn();
    } finally {
      this.origin = saved;
    }
  }

  /** Run rules on one event's columns. Never throws. */
  apply(rules: readonly Rule[], columns: ValueMap, origin: Origin = this.origin): void {
    for (const rule of rules) this.applyOne(rule, columns, origin);
  }

  private applyOne(rule: Rule, columns: ValueMap, origin: Origin): void {
    const m = rule.metrics;
    m.matched++;
    let result;
    try {
      result = runStatement(new Evaluation(this.services), rule.compiled.statement, { ...columns, metadata: { rule_id: rule.id } });
    } catch (err) {
      m.failed++;
      m['failed.exception']++;
      this.logFailure(rule.id, LOG.sqlFailed, err);
      return;
    }
    if (!result.passed) {
      m['failed.no_result']++;
      return;
    }
    m.passed++;
    for (const data of result.outputs) {
      const output: RuleOutput = { ruleId: rule.id, data, event: columns };
      for (const action of rule.actions) this.runAction(rule, action, output, origin);
    }
  }

  private runAction(rule: Rule, action: Action, output: RuleOutput, origin: Origin): void {
    const m = rule.metrics;
    m['actions.total']++;
    try {
      const r = action.run(output, origin);
      if (r instanceof Promise) {
        r.then(
          () => void m['actions.success']++,
          (err: unknown) => this.actionFailed(rule, action, err),
        );
      } else if (r === 'discarded') {
        m['actions.discarded']++;
      } else {
        m['actions.success']++;
      }
    } catch (err) {
      this.actionFailed(rule, action, err);
    }
  }

  private actionFailed(rule: Rule, action: Action, err: unknown): void {
    const m = rule.metrics;
    m['actions.failed']++;
    if (err instanceof SinkUnavailableError) m['actions.failed.out_of_service']++;
    else m['actions.failed.unknown']++;
    this.logFailure(rule.id, LOG.actionFailed, err, { action: action.name });
  }

  private logFailure(ruleId: string, event: string, err: unknown, extra: Record<string, unknown> = {}): void {
    const admitted = this.limiter.admit(`${ruleId}:${event}:${String(extra.action ?? '')}`);
    if (admitted) this.deps.log.warn({ rule_id: ruleId, ...extra, reason: (err as Error)?.message ?? String(err), suppressed: admitted.suppressed }, event);
  }

  /** Run SQL on sample columns without actions or metrics. Throws `RuleSqlError` for bad SQL. */
  test(sql: string, columns: ValueMap): TestResult {
    const compiled = compileSql(sql, this.deps.functions);
    const r = runStatement(new Evaluation(this.services), compiled.statement, columns);
    return r.passed ? { passed: true, outputs: r.outputs } : { passed: false };
  }
}

function info(r: Rule): RuleInfo {
  const c = r.config;
  return {
    id: r.id,
    sql: c.sql,
    actions: c.actions,
    enable: c.enable,
    description: c.description,
    ...(c.metadata ? { metadata: c.metadata } : {}),
    from: r.compiled.statement.from.map((f) => f.source),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
