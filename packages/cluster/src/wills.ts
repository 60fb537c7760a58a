import type { BrokerCore, ClientInfo, Logger, Message, Will } from '@junction/broker-core';
import { decodeFrame, encodeFrame, ORIGIN_BYTES } from './frame.js';
import { RegistryConflictError, type ClientRegistry, type RegistryWill } from './registry.js';
import type { ClusterStats } from './stats.js';
import type { Tasks } from './tasks.js';

const NO_ORIGIN = Buffer.alloc(ORIGIN_BYTES);

/** A connected client's will as its registry entry keeps it: a message frame and the delay. */
export function willToRegistry(will: Will, c: ClientInfo, node: string): RegistryWill {
  const msg: Message = {
    topic: will.topic,
    payload: will.payload,
    qos: will.qos,
    retain: will.retain,
    ...(will.properties && { properties: will.properties }),
    from: { clientId: c.clientId, protocol: c.protocol, peer: c.peer, node, ...(c.username !== undefined && { username: c.username }) },
    timestamp: Date.now(),
  };
  return { frame: encodeFrame(msg, NO_ORIGIN, 0).toString('base64'), delay: will.delayInterval ?? 0 };
}

/**
 * Wills of the clients of dead nodes, published once cluster-wide: the node that removes the
 * will from a client's registry entry (compare-and-set) is the one that publishes it.
 */
export class DeadNodeWills {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly registry: ClientRegistry,
    private readonly broker: BrokerCore,
    private readonly tasks: Tasks,
    private readonly stats: ClusterStats,
    private readonly log: Logger,
  ) {}

  /** `dead` stopped answering: go through the registry for its clients' wills. */
  nodeDown(dead: string): void {
    void this.tasks.track(
      (async () => {
        for await (const clientId of this.registry.clientIds()) {
          const { entry } = await this.registry.read(clientId);
          if (entry?.node !== dead || !entry.will) continue;
          const delay = entry.will.delay;
          if (delay <= 0) {
            await this.take(clientId, dead);
            continue;
          }
          // [MQTT-3.1.3-9] a delayed will waits; a reconnect elsewhere changes the entry first.
          const t = setTimeout(() => {
            this.timers.delete(t);
            void this.tasks.track(this.take(clientId, dead).catch((err) => this.log.warn({ err, clientId }, 'cluster_dead_node_will_failed')));
          }, delay * 1000);
          this.timers.add(t);
        }
      })().catch((err) => this.log.warn({ err, node: dead }, 'cluster_dead_node_wills_failed')),
    );
  }

  /** Remove the will from the dead node's entry (compare-and-set); the winner publishes it. */
  private async take(clientId: string, dead: string): Promise<void> {
    const { entry, revision } = await this.registry.read(clientId);
    if (entry?.node !== dead || !entry.will) return;
    try {
      await this.registry.write(clientId, { node: dead, ...(entry.session && { session: entry.session }), ...(entry.held && { held: entry.held }) }, revision);
    } catch (err) {
      if (err instanceof RegistryConflictError) return; // another survivor took it, or the client came back
      throw err;
    }
    this.publish(clientId, entry.will, dead);
  }

  /** Publish a will taken from a dead node's entry (here, or by a node that took the client over). */
  publish(clientId: string, will: RegistryWill, dead: string): void {
    try {
      const { message } = decodeFrame(Buffer.from(will.frame, 'base64'));
      this.broker.publish({ topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain, properties: message.properties }, message.from);
      this.stats.willsPublished++;
      this.log.info({ clientId, node: dead, topic: message.topic }, 'cluster_dead_node_will_published');
    } catch (err) {
      this.log.warn({ err, clientId }, 'cluster_dead_node_will_failed');
    }
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
