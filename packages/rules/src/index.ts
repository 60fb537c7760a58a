/**
 * @junction/rules: EMQX's rule engine for a Junction broker: rule SQL (SELECT and FOREACH, JSON
 * payload paths, `$events/...` sources), EMQX's built-in functions, the republish and console
 * actions, a sink seam for connectors, per-rule metrics. Installs through the core's hooks.
 */
export { installRules, type RulesBroker, type RulesHandle, type RulesOptions } from './install.js';
export { RULES_NAMESPACE, type StoredRule } from './persistence.js';
export { RuleEngine, RULE_METRICS, type RuleInfo, type RuleMetrics, type RuleMetricName, type TestResult, type EngineDeps } from './engine.js';
export * from './config.js';
export { SinkRegistry, sinkAction, type RuleSink } from './actions/sink.js';
export { Template } from './actions/template.js';
export type { Action, ActionOutcome, Origin, RuleOutput } from './actions/types.js';
export { SinkUnavailableError } from './actions/types.js';
export { EVENTS, eventForTopic, eventInfo, type EventInfo, type EventName } from './events/catalog.js';
export { EventColumns } from './events/columns.js';
export { builtinFunctions, FunctionRegistry, type FunctionContext, type FunctionDef, type FunctionFamily } from './functions/index.js';
export { parseSql, parseExpr } from './sql/parser.js';
export { printStatement, printExpr } from './sql/print.js';
export { tokenize, type Token } from './sql/lexer.js';
export { RuleSqlError, type SourcePos } from './sql/errors.js';
export type * from './sql/ast.js';
export { compileSql, type CompiledSql } from './runtime/compile.js';
export { Evaluation, compare, type EvalServices } from './runtime/eval.js';
export { runStatement, type RunResult } from './runtime/execute.js';
export { RuleEvalError, toStr, jsonEncode, type Value, type ValueMap } from './runtime/values.js';
export { LOG as RULES_LOG_EVENTS } from './log-events.js';
