/**
 * A KV bucket mirrored through its watch, with read-your-own-writes: while this node's write of
 * a key is in flight, watch entries of that key wait for it (the newest is applied after); once
 * acknowledged, entries up to its revision are this node's own write coming back, or older, and
 * are skipped. Used by the cluster's retained store and record store.
 */
import type { KvEntry } from 'nats';

export class OwnWrites {
  /** Local writes of a key not yet acknowledged by the KV. */
  private readonly inFlight = new Map<string, number>();
  /** The last watch entry of an in-flight key, applied after the local write if it is newer. */
  private readonly deferred = new Map<string, KvEntry>();
  /** Revision of this node's last acknowledged write of a key, until the watch reaches it. */
  private readonly floor = new Map<string, number>();

  /** `apply` receives every watch entry that is not this node's own (or older than it). */
  constructor(private readonly apply: (e: KvEntry) => void) {}

  /** Feed every entry of the watch here. */
  entry(e: KvEntry): void {
    if (this.inFlight.has(e.key)) {
      this.deferred.set(e.key, e);
      return;
    }
    const floor = this.floor.get(e.key);
    if (floor !== undefined) {
      if (e.revision < floor) return;
      this.floor.delete(e.key);
      if (e.revision === floor) return; // this node's own write coming back
    }
    this.apply(e);
  }

  /** Run a local write of `key`; `op` resolves with the revision (sequence) it got. */
  async write(key: string, op: () => Promise<number>): Promise<void> {
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    let revision = 0;
    try {
      revision = await op();
    } finally {
      const left = this.inFlight.get(key)! - 1;
      if (left > 0) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
      if (revision > (this.floor.get(key) ?? 0)) this.floor.set(key, revision);
      if (left === 0) {
        const e = this.deferred.get(key);
        this.deferred.delete(key);
        if (e) this.entry(e);
      }
    }
  }
}
