/** Where a client is reached: the listener its last request came through, and its address. */
import type { Peer } from '../transport/udp.js';
import type { Notifier } from './notifier.js';

export interface ListenerRef {
  /** `udp:default`. */
  readonly name: string;
  readonly notifier: Notifier;
  readonly maxConnections: number;
  /** New clients per second; 0: no limit. */
  readonly maxConnRate: number;
}

export interface Link {
  readonly listener: ListenerRef;
  readonly peer: Peer;
}
