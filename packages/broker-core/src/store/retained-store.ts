import type { Message } from '../message.js';

/**
 * Where retained messages live. Every implementation (memory, durable, cluster) must pass the
 * conformance suite in `src/testing/retained-store-suite.ts`.
 *
 * The store keeps what it is given: clearing a retained message on a zero-length payload
 * [MQTT-3.3.1-6] and the other PUBLISH rules are the broker's job, which calls `delete`.
 */
export interface RetainedStore {
  /** Store or replace the retained message for msg.topic. */
  put(msg: Message): Promise<void>;
  /** Remove the retained message of a topic; resolves true if one existed. */
  delete(topic: string): Promise<boolean>;
  get(topic: string): Promise<Message | undefined>;
  /** Retained messages whose topic matches the filter (plain filter, no $share). Expired ones (msg.expiresAt <= now) are not returned (and may be removed). */
  match(filter: string, now: number): Promise<Message[]>;
  count(): Promise<number>;
  /** Drop messages whose expiresAt <= now; resolves how many were removed. */
  purgeExpired(now: number): Promise<number>;
  close(): Promise<void>;
}
