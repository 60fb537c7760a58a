/**
 * Rules changed at run time kept in the broker's {@link RecordStore}, namespace `rules`: one record
 * per rule id, holding either the rule's config or a tombstone for a rule of the config file that
 * was deleted. At start the stored records are applied over the configured rules, so what the API
 * created, changed, disabled or deleted survives a restart. A store shared by the nodes of a
 * cluster also brings the changes made on other nodes (`RecordStore.watch`).
 */
import type { Logger, RecordChange, RecordStore } from '@junction/broker-core';
import type { RuleConfig } from './config.js';
import { LOG } from './log-events.js';

export const RULES_NAMESPACE = 'rules';

/** A stored rule: its whole config, or `deleted` for a configured rule removed at run time. */
export type StoredRule = { config: RuleConfig } | { deleted: true };

/** What the persistence needs of the rule set. */
export interface RuleSet {
  put(id: string, config: RuleConfig): void;
  remove(id: string): boolean;
}

/**
 * Applies the stored records to `rules`; returns how many applied. Unusable records are logged and
 * skipped. With a shared store (the cluster's), rules created, changed or removed on other nodes
 * are then applied to `rules` as they come (not written back: they are in the store already).
 */
export async function restoreRules(rules: RuleSet, records: RecordStore, log: Logger): Promise<number> {
  // Changes from other nodes that arrive during the load wait for its end.
  let early: RecordChange[] | undefined = [];
  const remote = (change: RecordChange) => {
    if (apply(rules, change.key, change.value ?? { deleted: true }, log)) log.info({ rule_id: change.key, deleted: change.value === undefined }, RULE_REPLICATED);
  };
  records.watch?.(RULES_NAMESPACE, (change) => (early ? early.push(change) : remote(change)));
  let applied = 0;
  for (const { key, value } of await records.list(RULES_NAMESPACE)) if (apply(rules, key, value, log)) applied++;
  const waiting = early;
  early = undefined;
  for (const change of waiting) remote(change);
  return applied;
}

/** Log event of a rule change applied from another node. */
const RULE_REPLICATED = 'rule_replicated';

function apply(rules: RuleSet, key: string, value: unknown, log: Logger): boolean {
  const stored = value as Partial<{ config: RuleConfig; deleted: true }> | null;
  try {
    if (stored?.deleted === true) rules.remove(key);
    else if (stored?.config && typeof stored.config === 'object') rules.put(key, stored.config);
    else throw new Error('neither a rule nor a tombstone');
    return true;
  } catch (err) {
    log.warn({ rule_id: key, err: (err as Error).message }, LOG.storedRuleSkipped);
    return false;
  }
}

/** Writes one change through; failures are logged (the rule set in memory stays as changed). */
export function saveRule(records: RecordStore, id: string, stored: StoredRule, log: Logger): void {
  records.put(RULES_NAMESPACE, id, stored).catch((err: unknown) => log.error({ rule_id: id, err }, LOG.storedRuleWriteFailed));
}
