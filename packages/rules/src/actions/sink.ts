/**
 * The seam to data integrations: a sink receives rule outputs (Kafka, HTTP, PostgreSQL, ...,
 * built in @junction/connectors). Rules name a sink in an action, `{ function: "sink", name }`
 * or EMQX's `"type:name"` string; the rule engine knows nothing else of it. A sink owns its
 * buffering, batching and retries: `send` should resolve quickly (queued), and reject when it
 * cannot take the output (the rule counts `actions.failed`).
 */
import type { Action, RuleOutput } from './types.js';
import { SinkUnavailableError } from './types.js';

export interface RuleSink {
  /** Unique, conventionally `type:name` (EMQX action ids), e.g. `http:alerts`. */
  readonly name: string;
  send(output: RuleOutput): Promise<void>;
}

export class SinkRegistry {
  private readonly sinks = new Map<string, RuleSink>();

  /** Add a sink; returns a function that removes it. Throws when the name is taken. */
  register(sink: RuleSink): () => void {
    if (this.sinks.has(sink.name)) throw new Error(`a sink named ${sink.name} is already registered`);
    this.sinks.set(sink.name, sink);
    return () => {
      if (this.sinks.get(sink.name) === sink) this.sinks.delete(sink.name);
    };
  }

  get(name: string): RuleSink | undefined {
    return this.sinks.get(name);
  }

  list(): string[] {
    return [...this.sinks.keys()];
  }
}

/** An action that hands outputs to the named sink, looked up at each call. */
export function sinkAction(name: string, registry: SinkRegistry): Action {
  return {
    name,
    run(output) {
      const sink = registry.get(name);
      if (!sink) throw new SinkUnavailableError(name);
      return sink.send(output);
    },
  };
}
