import type { Logger } from '@junction/broker-core';
import type { NatsConnection, Subscription } from 'nats';
import { encodeLevel } from './subject.js';

/**
 * Which nodes are alive: every node publishes a heartbeat on `{prefix}.hb.{node}` each
 * `intervalMs`; a node heard before and silent for `timeoutMs` is reported down once (and
 * again only after it was heard anew). A node cut off from NATS looks dead to the others.
 */
export class NodeLiveness {
  private readonly lastSeen = new Map<string, number>();
  private readonly sub: Subscription;
  private readonly beat: NodeJS.Timeout;
  private readonly check: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    prefix: string,
    private readonly self: string,
    intervalMs: number,
    private readonly timeoutMs: number,
    private readonly onDown: (node: string) => void,
    private readonly log: Logger,
    /** A node heard for the first time, or again after it was reported down. */
    private readonly onUp?: (node: string) => void,
  ) {
    const subject = `${prefix}.hb.${encodeLevel(self)}`;
    this.sub = nc.subscribe(`${prefix}.hb.*`, {
      callback: (err, m) => {
        if (err) return;
        const node = m.string();
        if (node === this.self) return;
        const known = this.lastSeen.has(node);
        this.lastSeen.set(node, Date.now());
        if (!known) this.onUp?.(node);
      },
    });
    const publish = () => {
      try {
        if (!nc.isClosed()) nc.publish(subject, self);
      } catch {
        // reconnecting: the next beat goes out
      }
    };
    publish();
    this.beat = setInterval(publish, intervalMs);
    this.check = setInterval(() => this.sweep(), Math.max(100, Math.floor(intervalMs / 2)));
    this.beat.unref();
    this.check.unref();
  }

  /** Nodes heard from within the timeout. */
  alive(): string[] {
    const now = Date.now();
    return [...this.lastSeen].filter(([, t]) => now - t < this.timeoutMs).map(([n]) => n);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [node, seen] of this.lastSeen) {
      if (now - seen < this.timeoutMs) continue;
      this.lastSeen.delete(node);
      this.log.warn({ node, silentMs: now - seen }, 'cluster_node_down');
      this.onDown(node);
    }
  }

  stop(): void {
    clearInterval(this.beat);
    clearInterval(this.check);
    this.sub.unsubscribe();
  }
}
