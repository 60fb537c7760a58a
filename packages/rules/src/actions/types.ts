import type { ValueMap } from '../runtime/values.js';

/** What a rule hands to each action, once per output (FOREACH: once per element). */
export interface RuleOutput {
  readonly ruleId: string;
  /** The rule's output: what SELECT (or DO) produced. */
  readonly data: ValueMap;
  /** The event's columns (clientid, topic, payload, timestamp, ...). */
  readonly event: ValueMap;
}

/** Rule ids whose republish produced the message being processed, outermost first. */
export interface Origin {
  readonly chain: readonly string[];
}

export const NO_ORIGIN: Origin = { chain: [] };

/** How an action ended, for the rule's metrics. Throwing counts as `actions.failed`. */
export type ActionOutcome = 'success' | 'discarded';

export interface Action {
  /** `republish`, `console`, or the sink's name. */
  readonly name: string;
  run(output: RuleOutput, origin: Origin): ActionOutcome | Promise<void>;
}

/** The sink an action names is not registered (EMQX: out of service). */
export class SinkUnavailableError extends Error {
  constructor(name: string) {
    super(`sink ${name} is not registered`);
    this.name = 'SinkUnavailableError';
  }
}
