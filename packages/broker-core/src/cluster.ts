import type { Message } from './message.js';
import type { StoredDelivery, StoredSession } from './store/session-store.js';

/**
 * A session as one node hands it to another on a takeover: the record (subscriptions, expiry)
 * and its outgoing messages, in order (in-flight ones carry their packet id and are resent with
 * DUP; the others are queued). A delayed will is not carried: resuming the session cancels it.
 */
export interface SessionSnapshot {
  readonly session: StoredSession;
  readonly deliveries: readonly StoredDelivery[];
}

/**
 * The seam between the core and a cluster plugin (`BrokerCore.attachCluster`). The core calls
 * these; with no link attached none of them runs and single-node routing is unchanged.
 *
 * Routing contract, once a link is attached:
 * - the core still delivers every local publish to the local non-shared subscribers itself;
 * - the core no longer picks shared-subscription members itself: `forward` receives every local
 *   publish, and the link hands each shared group's copy to exactly one node (this one included)
 *   through `BrokerCore.deliverShared`;
 * - messages from other nodes come in through `BrokerCore.deliverRemote` (local non-shared
 *   subscribers only; never forwarded again, never stored as retained again).
 */
export interface ClusterLink {
  /**
   * The node's union of subscription filters gained `filter` (`group` undefined) or the shared
   * group `group` on `filter` got its first local member. Filters are plain (no `$share/`).
   */
  interestAdded(filter: string, group: string | undefined): void;
  /** The last local subscriber of `filter` (or the last member of `group` on it) is gone. */
  interestRemoved(filter: string, group: string | undefined): void;
  /**
   * Called before the SUBACK of a SUBSCRIBE that added subscriptions: resolves once the cluster
   * knows of them, so that a message published anywhere after the SUBACK reaches them (the
   * node's new interest is at its messaging server) and, for a `persistent` session, a node
   * that takes the session over after this one died resumes them (the registry's copy of the
   * session holds them); undefined when nothing is pending. A rejection is logged and the SUBACK
   * goes out: the subscriptions are in force on this node. Optional.
   */
  subscribed?(clientId: string, persistent: boolean): Promise<void> | undefined;
  /**
   * A message accepted on this node (after the `message.publish` hooks and authorization), once.
   * `$SYS/` topics stay on their node and are not passed. Returns the number of remote matches
   * to report in `PublishOutcome.matched` (a link that cannot know returns 1).
   */
  forward(msg: Message): number;
  /**
   * Right after `forward` of a QoS 1/2 message: a promise that resolves once every other node
   * that holds a persistent session matching it has queued it (stored, with a durable store), or
   * once it is kept in the cluster for a session whose node is gone; undefined when no other node
   * has to. The core acknowledges a client's PUBLISH only after it. Optional.
   */
  forwardedDurable?(): Promise<void> | undefined;
  /**
   * Called by `open()` after authentication, before the local session lookup: make this node the
   * owner of the client id cluster-wide, disconnecting it elsewhere (0x8E). Resolves with the
   * session moved from the previous node when the client resumes one (`cleanStart` false).
   */
  claim(clientId: string, cleanStart: boolean): Promise<SessionSnapshot | undefined>;
  /** A session ended on this node (clean disconnect, expiry, discarded), not moved elsewhere. */
  released(clientId: string): void;
}
