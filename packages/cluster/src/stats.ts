/** Counters of the cluster hop, for metrics and tests. */
export interface ClusterStats {
  /** Local publishes sent to NATS. */
  forwarded: number;
  forwardFailed: number;
  /** Messages from other nodes delivered locally (non-shared). */
  received: number;
  /** Copies dropped because an overlapping subject brought the same message again. */
  duplicates: number;
  /** Shared-subscription messages NATS gave this node. */
  sharedReceived: number;
  /** ... of which the group had no member here any more (lost to that group). */
  sharedMissed: number;
  invalidFrames: number;
  /** NATS subscriptions held: plain subjects and queue subscriptions. */
  subjects: number;
  queueSubscriptions: number;
  /** Sessions handed to other nodes / taken from other nodes. */
  handedOver: number;
  takenOver: number;
  /** Wills of clients of dead nodes this node published. */
  willsPublished: number;
  /** Messages of restored sessions this node handed to the nodes that took them over. */
  messagesHandedBack: number;
  /** Messages other nodes handed back for sessions this node holds. */
  messagesTakenIn: number;
  /** QoS 1/2 messages sent with a request to confirm (other nodes' persistent sessions matched). */
  confirmsAwaited: number;
  /** Messages this node parked for sessions of nodes that did not confirm; parking failures. */
  parked: number;
  parkFailed: number;
  /** Parked messages this node took into sessions it holds. */
  parkedTaken: number;
}

export function newClusterStats(): ClusterStats {
  return {
    forwarded: 0,
    forwardFailed: 0,
    received: 0,
    duplicates: 0,
    sharedReceived: 0,
    sharedMissed: 0,
    invalidFrames: 0,
    subjects: 0,
    queueSubscriptions: 0,
    handedOver: 0,
    takenOver: 0,
    willsPublished: 0,
    messagesHandedBack: 0,
    messagesTakenIn: 0,
    confirmsAwaited: 0,
    parked: 0,
    parkFailed: 0,
    parkedTaken: 0,
  };
}
