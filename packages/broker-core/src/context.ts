import { createTopicMapper, type AdapterContext } from './adapter.js';
import type { BrokerCore } from './broker.js';
import type { Logger } from './logger.js';

export interface ContextOptions {
  log?: Logger;
  signal?: AbortSignal;
  /** Validated config sections adapters may read through `ctx.section()`, e.g. `{ mqtt: {...} }`. */
  sections?: Record<string, unknown>;
  /** Or a lookup by dotted path, as the gateway has its whole config. */
  section?: (path: string) => unknown;
}

/** Build the context adapters receive; the gateway uses it, and so can an embedding service. */
export function createAdapterContext(broker: BrokerCore, opts: ContextOptions = {}): AdapterContext {
  return {
    broker,
    hooks: broker.hooks,
    metrics: broker.metrics,
    log: opts.log ?? broker.log,
    signal: opts.signal ?? new AbortController().signal,
    clock: broker.clock,
    topicMapper: createTopicMapper,
    section: opts.section ?? ((path) => opts.sections?.[path]),
  };
}
