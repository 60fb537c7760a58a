/** What the handlers work with: the gateway's config, its clients and its topic mapping. */
import type { Logger, TopicMapper } from '@junction/broker-core';
import type { CoapConfig } from '../config.js';
import type { ClientRegistry } from '../session/registry.js';

export interface Gateway {
  readonly config: CoapConfig;
  readonly registry: ClientRegistry;
  readonly topics: TopicMapper;
  readonly log: Logger;
}
