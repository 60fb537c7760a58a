/**
 * The rule engine's log events: constant snake_case names passed as the message, details in the
 * object (rule_id, reason, ...). Payloads are logged only by the console action.
 */
export const LOG = {
  installed: 'rules_installed',
  rulesRestored: 'rules_restored',
  storedRuleSkipped: 'stored_rule_skipped',
  storedRuleWriteFailed: 'stored_rule_write_failed',
  stopped: 'rules_stopped',
  ruleCreated: 'rule_created',
  ruleUpdated: 'rule_updated',
  ruleDeleted: 'rule_deleted',
  sqlFailed: 'rule_sql_failed',
  actionFailed: 'rule_action_failed',
  recursiveRepublish: 'recursive_republish_detected',
  republishDepthExceeded: 'republish_depth_exceeded',
  consoleOutput: 'rule_console_output',
} as const;
