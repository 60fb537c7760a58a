/**
 * What the API needs of a rule engine: `@junction/rules`' `RulesHandle` has it all. This package
 * does not import the plugin (plugins depend on the core only): the composition root passes the
 * handle in. Definition errors (bad SQL, a bad action, a taken id) are thrown as errors whose
 * `code` is `config_invalid` (the core's `ConfigError`, the rules' `RuleSqlError`).
 */

/** A rule as the engine shows it. */
export interface AdminRuleInfo {
  readonly id: string;
  readonly sql: string;
  readonly actions: readonly unknown[];
  readonly enable: boolean;
  readonly description: string;
  readonly metadata?: Record<string, unknown>;
  /** The FROM sources, as written. */
  readonly from: readonly string[];
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A rule definition as the API takes it: only `sql` is required. */
export interface AdminRuleInput {
  sql: string;
  actions?: readonly unknown[];
  enable?: boolean;
  description?: string;
  metadata?: Record<string, unknown>;
}

/** The result of running SQL on a sample. */
export type AdminRuleTestResult = { passed: true; outputs: unknown[] } | { passed: false };

export interface AdminRules {
  create(id: string, rule: AdminRuleInput): AdminRuleInfo;
  update(id: string, patch: Partial<AdminRuleInput>): AdminRuleInfo;
  remove(id: string): boolean;
  get(id: string): AdminRuleInfo | undefined;
  list(): AdminRuleInfo[];
  metrics(id: string): Readonly<Record<string, number>> | undefined;
  resetMetrics(id: string): boolean;
  /** Run SQL on sample event fields (clientid, topic, payload, ...); no action runs. */
  test(sql: string, context?: Record<string, unknown>): AdminRuleTestResult;
}
