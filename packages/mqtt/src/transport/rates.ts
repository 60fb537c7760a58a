/** A listener's EMQX rate settings (`max_conn_rate`, `messages_rate`, `bytes_rate`), parsed. */
import { ConfigError, parseRate, type Rate } from '@junction/broker-core';
import type { ClientLimits } from '../engine/client-limiter.js';

/** The rate keys as they come from the config: text (`1000/s`, `1MB/s`, `infinity`) or a number per second. */
export interface ListenerRates {
  max_conn_rate: string | number;
  messages_rate: string | number;
  bytes_rate: string | number;
}

/** Parse the rate keys of one listener; a bad value throws a ConfigError naming the key under `path`. */
export function listenerRates(config: Partial<ListenerRates>, path: string): { conn: Rate | undefined; client: ClientLimits | undefined } {
  const rate = (key: keyof ListenerRates): Rate | undefined => {
    try {
      return parseRate(config[key]);
    } catch (err) {
      throw new ConfigError(`${path}.${key}`, (err as Error).message, { cause: err });
    }
  };
  const messages = rate('messages_rate');
  const bytes = rate('bytes_rate');
  return { conn: rate('max_conn_rate'), client: messages || bytes ? { messages, bytes } : undefined };
}
