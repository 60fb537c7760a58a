/**
 * `installRules`: the rule engine on a broker, through its hooks only. Rules come from the
 * config and can be created, changed, enabled, disabled, deleted and tried on sample data at run
 * time through the returned handle (the admin API will expose it). Connectors plug in through
 * `handle.sinks`.
 */
import { ConfigError, silentLogger, systemClock, type Clock, type Hooks, type Logger, type PublishRequest, type Publisher, type RecordStore } from '@junction/broker-core';
import { SinkRegistry } from './actions/sink.js';
import { normalizeRule, normalizeRulesConfig, type RuleConfig, type RuleInput, type RulesConfig, type RulesConfigInput } from './config.js';
import { RuleEngine, type RuleInfo, type RuleMetrics, type TestResult } from './engine.js';
import { eventForTopic } from './events/catalog.js';
import { EventColumns } from './events/columns.js';
import { attachEventHooks } from './events/hooks.js';
import { builtinFunctions, type FunctionRegistry } from './functions/index.js';
import { LOG } from './log-events.js';
import { RULES_NAMESPACE, restoreRules, saveRule } from './persistence.js';
import type { ValueMap } from './runtime/values.js';

/** What the rule engine needs of a broker; `BrokerCore` has it all. */
export interface RulesBroker {
  readonly hooks: Hooks;
  readonly nodeName: string;
  /** Publish on behalf of the broker (the republish action). */
  publish(req: PublishRequest, from?: Partial<Publisher>): unknown;
  readonly clock?: Clock;
}

export interface RulesHandle {
  /** The config in use, defaults filled in (the rules as configured at install). */
  readonly config: RulesConfig;
  /** Where connectors register the sinks rules name. */
  readonly sinks: SinkRegistry;
  readonly functions: FunctionRegistry;
  /** Add a rule; throws `ConfigError` / `RuleSqlError` for a bad definition or a taken id. */
  create(id: string, rule: RuleInput): RuleInfo;
  /** Change some of a rule's fields; the rule keeps its metrics. */
  update(id: string, patch: Partial<RuleInput>): RuleInfo;
  remove(id: string): boolean;
  enable(id: string): RuleInfo;
  disable(id: string): RuleInfo;
  get(id: string): RuleInfo | undefined;
  list(): RuleInfo[];
  metrics(id: string): RuleMetrics | undefined;
  resetMetrics(id: string): boolean;
  /**
   * Run SQL on a sample: `context` holds the event's fields (clientid, topic, payload, ...); the
   * event type follows from the FROM clause. No action runs, no metric moves.
   */
  test(sql: string, context?: ValueMap): TestResult;
  /** Feed an event from a bridge (ingress connector) to the rules `FROM "$bridges/<type>:<name>"`. */
  ingest(bridgeId: string, columns: ValueMap): void;
  /**
   * Keep run-time changes (create, update, enable, disable, remove) in `records` from now on, and
   * apply the ones stored before over the configured rules; resolves how many were applied.
   */
  persist(records: RecordStore): Promise<number>;
  /** Unhook everything. Idempotent. */
  stop(): void;
}

export interface RulesOptions {
  /** Replaces the built-in function table (tests, extensions). */
  functions?: FunctionRegistry;
}

export function installRules(broker: RulesBroker, input: RulesConfigInput = {}, baseLog: Logger = silentLogger, opts: RulesOptions = {}): RulesHandle {
  const config = normalizeRulesConfig(input);
  const log = baseLog.child({ component: 'rules' });
  const clock = broker.clock ?? systemClock;
  const now = () => clock.now();
  const sinks = new SinkRegistry();
  const functions = opts.functions ?? builtinFunctions;
  const engine = new RuleEngine({
    functions,
    sinks,
    log,
    now,
    maxRepublishDepth: config.max_republish_depth,
    publish: (req, from) => void broker.publish(req, from),
  });
  const cols = new EventColumns(broker.nodeName, now);
  const hooks = attachEventHooks(broker.hooks, engine, cols, { ignoreSysMessage: config.ignore_sys_message, log });
  engine.onChange(() => hooks.refresh());

  try {
    for (const [id, rule] of Object.entries(config.rules)) {
      try {
        engine.put(id, rule);
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        throw new ConfigError(`rule_engine.rules.${id}.sql`, (err as Error).message, { cause: err });
      }
    }
  } catch (err) {
    hooks.detach();
    throw err;
  }
  log.info({ rules: engine.list().length }, LOG.installed);

  const mustGet = (id: string): RuleConfig => {
    const c = engine.config(id);
    if (!c) throw new ConfigError(`rule_engine.rules.${id}`, 'no such rule');
    return c;
  };
  let records: RecordStore | undefined;
  const saved = (r: RuleInfo): RuleInfo => {
    if (records) saveRule(records, r.id, { config: mustGet(r.id) }, log);
    return r;
  };
  const update = (id: string, patch: Partial<RuleInput>) => saved(engine.put(id, normalizeRule(id, { ...mustGet(id), ...patch })));
  let stopped = false;

  return {
    config,
    sinks,
    functions,
    create(id, rule) {
      if (engine.has(id)) throw new ConfigError(`rule_engine.rules.${id}`, 'a rule with this id exists');
      return saved(engine.put(id, normalizeRule(id, rule)));
    },
    update,
    remove(id) {
      if (!engine.remove(id)) return false;
      if (records) {
        // A rule of the config file needs a tombstone, or the next start would bring it back.
        if (id in config.rules) saveRule(records, id, { deleted: true }, log);
        else records.delete(RULES_NAMESPACE, id).catch((err: unknown) => log.error({ rule_id: id, err }, LOG.storedRuleWriteFailed));
      }
      return true;
    },
    enable: (id) => update(id, { enable: true }),
    disable: (id) => update(id, { enable: false }),
    get: (id) => engine.get(id),
    list: () => engine.list(),
    metrics: (id) => engine.metrics(id),
    resetMetrics: (id) => engine.resetMetrics(id),
    test(sql, context = {}) {
      const first = /from\s+"([^"]*)"/i.exec(sql)?.[1] ?? '';
      const event = first.startsWith('$events/') ? (eventForTopic(first) ?? 'message.publish') : first.startsWith('$bridges/') ? undefined : 'message.publish';
      return engine.test(sql, { ...(event ? { event } : {}), timestamp: now(), node: broker.nodeName, ...context });
    },
    ingest(bridgeId, columns) {
      const rules = engine.forBridge(bridgeId.replace(/^\$bridges\//, ''));
      if (rules.length > 0) engine.apply(rules, { timestamp: now(), node: broker.nodeName, ...columns });
    },
    async persist(store) {
      const n = await restoreRules({ put: (id, c) => engine.put(id, normalizeRule(id, c)), remove: (id) => engine.remove(id) }, store, log);
      records = store;
      if (n > 0) log.info({ count: n }, LOG.rulesRestored);
      return n;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      hooks.detach();
      log.info({}, LOG.stopped);
    },
  };
}
