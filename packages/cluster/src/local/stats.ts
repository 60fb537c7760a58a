/** Counters of one worker's link to the hub, for metrics and tests. */
export interface LocalLinkStats {
  /** Local publishes sent to the hub. */
  forwarded: number;
  forwardFailed: number;
  /** Messages from other workers delivered here (non-shared). */
  received: number;
  /** Shared-group messages the hub gave this worker ... */
  sharedReceived: number;
  /** ... of which the group had no member here any more. */
  sharedMissed: number;
  invalidFrames: number;
  /** Sessions this worker gave to another one on a takeover. */
  handedOver: number;
  /** Wills of a dead worker's clients published here. */
  willsPublished: number;
}

export function newLocalLinkStats(): LocalLinkStats {
  return { forwarded: 0, forwardFailed: 0, received: 0, sharedReceived: 0, sharedMissed: 0, invalidFrames: 0, handedOver: 0, willsPublished: 0 };
}

/** Counters of the hub (in the primary process). */
export interface LocalHubStats {
  workers: number;
  /** Messages received from workers / copies sent to workers (shared ones included). */
  routed: number;
  delivered: number;
  /** Messages no other worker wanted. */
  unmatched: number;
  clients: number;
  retained: number;
  takeovers: number;
  /** Wills of dead workers' clients sent to be published. */
  willsPublished: number;
}
