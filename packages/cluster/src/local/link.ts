import { JunctionError, silentLogger, type BrokerCore, type ClusterLink, type Logger, type Message, type SessionSnapshot } from '@junction/broker-core';
import { decodeFrame, encodeFrame, FrameError, ORIGIN_BYTES } from '../frame.js';
import { snapshotFromWire, snapshotToWire } from '../snapshot-wire.js';
import { willToRegistry } from '../wills.js';
import { BatchError, forEachFrame, FrameBatch } from './batch.js';
import type { ToWorker, WorkerPort } from './protocol.js';
import { LocalRetainedStore } from './retained.js';
import { newLocalLinkStats, type LocalLinkStats } from './stats.js';

const NO_ORIGIN = Buffer.alloc(ORIGIN_BYTES);

export interface LocalLinkOptions {
  /** This worker's end of the channel to the hub. */
  port: WorkerPort;
  log?: Logger;
  /** For the retained mirror: the broker's `max_retained_messages` (0: unlimited). */
  maxRetained?: number;
  /** How long a connect waits for the hub (and the worker that held the client id). Default 5 s. */
  requestTimeout?: number;
}

/**
 * One worker's membership of the host's broker, as the core's {@link ClusterLink}, over a channel
 * to the hub in the primary process ({@link LocalHub}). The same seam as the NATS cluster:
 * - interest: the worker's filter union goes to the hub, which sends a worker only the messages
 *   that match it;
 * - `forward`: every local publish goes to the hub once, batched per event-loop turn;
 * - shared groups: the hub picks one worker per message and group (this one included), which
 *   gives it to one of its members (`deliverShared`);
 * - `claim`: the hub owns the client-id registry and asks the previous worker to hand over;
 * - retained messages: a mirror of the hub's store ({@link LocalRetainedStore});
 * - wills of connected clients are kept by the hub too, which has them published if the worker dies.
 *
 * Usage: `const link = new LocalLink({ port })`, `await link.start()` (loads retained messages),
 * build the `BrokerCore` with `retained: link.retained`, `link.attach(broker)` before any listener
 * starts; on shutdown `broker.close()`, then `link.close()`.
 */
export class LocalLink implements ClusterLink {
  readonly stats: LocalLinkStats = newLocalLinkStats();
  readonly retained: LocalRetainedStore;
  private readonly port: WorkerPort;
  private readonly log: Logger;
  private readonly requestTimeout: number;
  private broker: BrokerCore | undefined;
  private readonly out = new FrameBatch();
  private outTopics: string[] = [];
  private flushScheduled = false;
  private seq = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(s: SessionSnapshot | undefined): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  /** The last `sub` sent, and the last the hub answered (answers come in order). */
  private lastSub = 0;
  private lastSubbed = 0;
  /** Callers of `subscribed`, each waiting for the answer to a `sub` id. */
  private subWaiters: { id: number; resolve(): void; reject(e: Error): void; timer: NodeJS.Timeout }[] = [];
  /** Clients whose will the hub holds. */
  private readonly willsAtHub = new Set<string>();
  private welcome: ((data: Uint8Array) => void) | undefined;
  private readonly unlisten: () => void;
  private readonly unhooks: (() => void)[] = [];
  private detach: (() => void) | undefined;
  private closed = false;

  constructor(opts: LocalLinkOptions) {
    this.port = opts.port;
    this.log = opts.log ?? silentLogger;
    this.requestTimeout = opts.requestTimeout ?? 5000;
    this.retained = new LocalRetainedStore((m) => this.port.send(m), { maxRetained: opts.maxRetained || undefined });
    this.unlisten = this.port.onMessage((m) => this.onMessage(m));
  }

  /** Say hello to the hub; resolves once the retained mirror holds the hub's messages. */
  async start(): Promise<void> {
    const data = await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the hub did not answer hello')), this.requestTimeout);
      this.welcome = (d) => {
        clearTimeout(timer);
        resolve(d);
      };
      this.port.send({ k: 'hello' });
    });
    this.welcome = undefined;
    let n = 0;
    forEachFrame(data, (frame) => {
      this.retained.applyFrame(frame);
      n++;
    });
    this.log.info({ retained: n }, 'local_link_started');
  }

  /** Serve `broker`: call once, before any listener accepts clients. */
  attach(broker: BrokerCore): void {
    if (this.broker) throw new Error('LocalLink is already attached');
    if (broker.retained !== this.retained) this.log.warn({}, 'local_retained_not_shared');
    this.broker = broker;
    this.detach = broker.attachCluster(this);
    this.unhooks.push(
      broker.hooks.on('client.connected', (c, info) => {
        if (!info.will) return;
        const frame = Buffer.from(willToRegistry(info.will, c, broker.nodeName).frame, 'base64');
        this.willsAtHub.add(c.clientId);
        this.port.send({ k: 'will', cid: c.clientId, data: frame, delay: info.will.delayInterval ?? 0 });
      }),
      broker.hooks.on('client.disconnected', (c) => {
        // From here on this worker handles the will itself (published, delayed or dropped).
        if (this.willsAtHub.delete(c.clientId)) this.port.send({ k: 'willDel', cid: c.clientId });
      }),
    );
  }

  // ---------------------------------------------------------------- ClusterLink

  interestAdded(filter: string, group: string | undefined): void {
    if (this.closed || isSysFilter(filter)) return;
    const id = ++this.lastSub;
    this.port.send(group === undefined ? { k: 'sub', f: filter, id } : { k: 'sub', f: filter, g: group, id });
  }

  /** Resolves once the hub routes by every filter sent so far (see `ClusterLink.subscribed`). */
  subscribed(): Promise<void> | undefined {
    if (this.closed || this.lastSubbed >= this.lastSub) return undefined;
    const id = this.lastSub;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.subWaiters = this.subWaiters.filter((w) => w.timer !== timer);
        reject(new JunctionError('server_unavailable', 'no answer from the primary process to a subscription'));
      }, this.requestTimeout);
      this.subWaiters.push({ id, resolve, reject, timer });
    });
  }

  interestRemoved(filter: string, group: string | undefined): void {
    if (this.closed || isSysFilter(filter)) return;
    this.port.send(group === undefined ? { k: 'unsub', f: filter } : { k: 'unsub', f: filter, g: group });
  }

  forward(msg: Message): number {
    if (this.closed) return 0;
    try {
      this.out.add(encodeFrame(msg, NO_ORIGIN, ++this.seq));
    } catch (err) {
      if (this.stats.forwardFailed++ % 1000 === 0) this.log.warn({ err, topic: msg.topic }, 'local_forward_failed');
      return 0;
    }
    this.outTopics.push(msg.topic);
    this.stats.forwarded++;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    // Whether another worker matches is only known at the hub.
    return 1;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.out.size === 0) return;
    const topics = this.outTopics;
    this.outTopics = [];
    this.port.send({ k: 'fwd', topics, data: this.out.take() });
  }

  claim(clientId: string, cleanStart: boolean): Promise<SessionSnapshot | undefined> {
    if (this.closed) return Promise.reject(new JunctionError('server_unavailable', 'the worker is stopping'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new JunctionError('server_unavailable', `no answer from the primary process for client id ${clientId}`));
      }, this.requestTimeout);
      this.pending.set(id, { resolve, reject, timer });
      this.port.send({ k: 'claim', id, cid: clientId, clean: cleanStart });
    });
  }

  released(clientId: string): void {
    if (!this.closed) this.port.send({ k: 'release', cid: clientId });
  }

  // ---------------------------------------------------------------- from the hub

  private onMessage(m: ToWorker): void {
    try {
      this.handle(m);
    } catch (err) {
      // A bad message from the hub costs that message, never the worker.
      if (err instanceof FrameError || err instanceof BatchError) {
        if (this.stats.invalidFrames++ % 1000 === 0) this.log.warn({ err, kind: m.k }, 'local_frame_invalid');
      } else {
        this.log.error({ err, kind: m.k }, 'local_message_failed');
      }
    }
  }

  private handle(m: ToWorker): void {
    const broker = this.broker;
    switch (m.k) {
      case 'welcome':
        this.welcome?.(m.data);
        return;
      case 'ret':
        this.retained.applyFrame(m.data);
        return;
      case 'retDel':
        this.retained.applyDelete(m.topic);
        return;
      case 'claimed': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.error !== undefined) p.reject(new JunctionError('server_unavailable', m.error));
        else p.resolve(m.snap ? snapshotFromWire(m.snap) : undefined);
        return;
      }
      case 'subbed': {
        this.lastSubbed = m.id;
        const due = this.subWaiters.filter((w) => w.id <= m.id);
        if (due.length === 0) return;
        this.subWaiters = this.subWaiters.filter((w) => w.id > m.id);
        for (const w of due) {
          clearTimeout(w.timer);
          w.resolve();
        }
        return;
      }
      case 'handover': {
        const snap = broker?.handOver(m.cid, m.resume);
        this.stats.handedOver++;
        this.log.info({ clientId: m.cid, resume: m.resume, messages: snap?.deliveries.length ?? 0 }, 'local_session_handed_over');
        this.port.send(snap ? { k: 'handedOver', id: m.id, snap: snapshotToWire(snap) } : { k: 'handedOver', id: m.id });
        return;
      }
      case 'dlv':
        if (!broker) return;
        forEachFrame(m.data, (frame) => {
          this.stats.received++;
          broker.deliverRemote(decodeFrame(frame).message);
        });
        return;
      case 'shr':
        if (!broker) return;
        forEachFrame(m.data, (frame, i) => {
          this.stats.sharedReceived++;
          if (!broker.deliverShared(decodeFrame(frame).message, m.filters[i]!, m.groups[i]!)) this.stats.sharedMissed++;
        });
        return;
      case 'wills':
        if (!broker) return;
        forEachFrame(m.data, (frame) => {
          const { message } = decodeFrame(frame);
          broker.publish({ topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain, properties: message.properties }, message.from);
          this.stats.willsPublished++;
          this.log.info({ clientId: message.from.clientId, topic: message.topic }, 'local_dead_worker_will_published');
        });
        return;
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Send what is batched, stop listening, detach from the broker. Call after `broker.close()`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    for (const u of this.unhooks.splice(0)) u();
    this.detach?.();
    this.unlisten();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new JunctionError('server_unavailable', 'the worker is stopping'));
    }
    this.pending.clear();
    // The subscriptions hold on this worker; nothing else will answer.
    for (const w of this.subWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve();
    }
    await this.retained.close();
  }
}

function isSysFilter(filter: string): boolean {
  return filter === '$SYS' || filter.startsWith('$SYS/');
}
