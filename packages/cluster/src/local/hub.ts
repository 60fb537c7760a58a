import { silentLogger, SubscriptionIndex, type Logger } from '@junction/broker-core';
import { decodeFrame } from '../frame.js';
import type { WireSnapshot } from '../snapshot-wire.js';
import { forEachFrame, FrameBatch } from './batch.js';
import type { HubPort, ToHub } from './protocol.js';
import type { LocalHubStats } from './stats.js';

export interface LocalHubOptions {
  log?: Logger;
  /** The broker's `max_retained_messages` (0: unlimited). */
  maxRetained?: number;
  /** How long a claim waits for the worker holding the client id to hand it over. Default 2 s. */
  handoverTimeout?: number;
}

interface WorkerState {
  readonly id: number;
  readonly port: HubPort;
  readonly unlisten: () => void;
  /** Interest keys (`filter` or `group\0filter`) this worker holds in the index. */
  readonly interest: Set<string>;
  /** Scratch: the message number this worker last got a `dlv` copy of (one copy per message). */
  seen: number;
  dlv: FrameBatch;
  shr: FrameBatch;
  filters: string[];
  groups: string[];
}

/** The part of the index's shared group (`SubscriptionIndex.match` reports them) the hub uses. */
interface SharedGroupView {
  readonly name: string;
  readonly filter: string;
  readonly members: number[];
  cursor: number;
}

interface HeldWill {
  readonly worker: number;
  readonly data: Buffer;
  readonly delay: number;
}

/**
 * The hub of the workers of one host, in the primary process: the other end of every worker's
 * {@link LocalLink}. It knows each worker's filter union (a subscription trie keyed by worker),
 * and routes every forwarded message to the workers that match it, once each, and each shared
 * group's copy to one worker with members (round robin); owns the client-id registry (takeover
 * across workers); holds the retained messages (the authority every worker mirrors, which also
 * outlives a worker); and keeps connected clients' wills, published through a surviving worker
 * when their worker dies.
 */
export class LocalHub {
  private readonly log: Logger;
  private readonly maxRetained: number;
  private readonly handoverTimeout: number;
  private readonly workers = new Map<number, WorkerState>();
  private readonly index = new SubscriptionIndex<number>();
  private readonly owners = new Map<string, number>();
  private readonly claims = new Map<string, Promise<void>>();
  private readonly handovers = new Map<number, { worker: number; done(snap: WireSnapshot | undefined): void; timer: NodeJS.Timeout }>();
  private readonly retained = new Map<string, { frame: Buffer; expiresAt: number | undefined }>();
  private readonly wills = new Map<string, HeldWill>();
  private readonly delayedWills = new Map<string, { timer: NodeJS.Timeout; data: Buffer }>();
  private orphanWills: Buffer[] = [];
  private nextId = 1;
  private msgNo = 0;
  /** Scratch for the visitor: the message being routed. */
  private from = 0;
  private frame: Buffer = Buffer.alloc(0);
  private matched = 0;
  private flushScheduled = false;
  private readonly counters = { routed: 0, delivered: 0, unmatched: 0, takeovers: 0, willsPublished: 0 };

  constructor(opts: LocalHubOptions = {}) {
    this.log = opts.log ?? silentLogger;
    this.maxRetained = opts.maxRetained || Infinity;
    this.handoverTimeout = opts.handoverTimeout ?? 2000;
  }

  stats(): LocalHubStats {
    return { workers: this.workers.size, clients: this.owners.size, retained: this.retained.size, ...this.counters };
  }

  /** A worker process joined (its link says `hello` next). `id` is unique per process. */
  addWorker(id: number, port: HubPort): void {
    if (this.workers.has(id)) throw new Error(`worker ${id} is already known`);
    const state: WorkerState = {
      id,
      port,
      unlisten: port.onMessage((m) => this.onMessage(state, m)),
      interest: new Set(),
      seen: 0,
      dlv: new FrameBatch(),
      shr: new FrameBatch(),
      filters: [],
      groups: [],
    };
    this.workers.set(id, state);
  }

  /**
   * A worker is gone. Its interest and client ids are forgotten; with `crashed` (it did not stop
   * on request) the wills of its connected clients are published through another worker.
   */
  removeWorker(id: number, opts: { crashed: boolean }): void {
    const w = this.workers.get(id);
    if (!w) return;
    this.workers.delete(id);
    w.unlisten();
    for (const key of w.interest) {
      const sep = key.indexOf('\u0000');
      if (sep < 0) this.index.remove(key, id);
      else this.index.remove(key.slice(sep + 1), id, key.slice(0, sep));
    }
    for (const [cid, owner] of this.owners) if (owner === id) this.owners.delete(cid);
    for (const [hid, h] of this.handovers) {
      if (h.worker !== id) continue;
      clearTimeout(h.timer);
      this.handovers.delete(hid);
      h.done(undefined);
    }
    const wills: [string, HeldWill][] = [];
    for (const [cid, will] of this.wills) {
      if (will.worker !== id) continue;
      this.wills.delete(cid);
      wills.push([cid, will]);
    }
    if (!opts.crashed) return;
    this.log.warn({ worker: id, wills: wills.length }, 'local_worker_lost');
    for (const [cid, will] of wills) {
      if (will.delay <= 0) {
        this.publishWills([will.data]);
        continue;
      }
      // [MQTT-3.1.3-9] a delayed will waits; the client reconnecting (a claim) cancels it.
      const timer = setTimeout(() => {
        this.delayedWills.delete(cid);
        this.publishWills([will.data]);
      }, will.delay * 1000);
      this.delayedWills.set(cid, { timer, data: will.data });
    }
  }

  /** Stop every timer; workers are expected to be gone. */
  close(): void {
    for (const id of [...this.workers.keys()]) this.removeWorker(id, { crashed: false });
    for (const d of this.delayedWills.values()) clearTimeout(d.timer);
    this.delayedWills.clear();
  }

  private onMessage(w: WorkerState, m: ToHub): void {
    if (this.workers.get(w.id) !== w) return;
    try {
      this.handle(w, m);
    } catch (err) {
      this.log.warn({ err, worker: w.id, kind: m.k }, 'local_hub_message_invalid');
    }
  }

  private handle(w: WorkerState, m: ToHub): void {
    switch (m.k) {
      case 'hello':
        return this.welcome(w);
      case 'sub':
        this.interest(w, true, m.f, m.g);
        return w.port.send({ k: 'subbed', id: m.id });
      case 'unsub':
        return this.interest(w, false, m.f, m.g);
      case 'fwd':
        return this.route(w, m.topics, m.data);
      case 'ret':
        return this.storeRetained(w, Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      case 'retDel':
        this.retained.delete(m.topic);
        return this.broadcast({ k: 'retDel', topic: m.topic });
      case 'claim':
        return this.claim(w, m.id, m.cid, m.clean);
      case 'release':
        if (this.owners.get(m.cid) === w.id) this.owners.delete(m.cid);
        return;
      case 'will':
        this.wills.set(m.cid, { worker: w.id, data: Buffer.from(m.data), delay: m.delay });
        return;
      case 'willDel':
        if (this.wills.get(m.cid)?.worker === w.id) this.wills.delete(m.cid);
        return;
      case 'handedOver': {
        const h = this.handovers.get(m.id);
        if (!h || h.worker !== w.id) return;
        clearTimeout(h.timer);
        this.handovers.delete(m.id);
        h.done(m.snap);
        return;
      }
    }
  }

  private welcome(w: WorkerState): void {
    const now = Date.now();
    const all = new FrameBatch();
    for (const [topic, r] of this.retained) {
      if (r.expiresAt !== undefined && r.expiresAt <= now) this.retained.delete(topic);
      else all.add(r.frame);
    }
    w.port.send({ k: 'welcome', data: all.take() });
    if (this.orphanWills.length > 0) {
      const wills = this.orphanWills;
      this.orphanWills = [];
      this.publishWills(wills);
    }
  }

  // ---------------------------------------------------------------- routing

  private interest(w: WorkerState, add: boolean, filter: string, group: string | undefined): void {
    const key = group === undefined ? filter : `${group}\u0000${filter}`;
    if (add) {
      w.interest.add(key);
      this.index.add(filter, w.id, { qos: 0 }, group);
    } else if (w.interest.delete(key)) {
      this.index.remove(filter, w.id, group);
    }
  }

  private route(w: WorkerState, topics: string[], data: Uint8Array): void {
    this.from = w.id;
    forEachFrame(data, (frame, i) => {
      this.counters.routed++;
      this.msgNo++;
      this.frame = frame;
      this.matched = 0;
      this.index.match(topics[i]!, this.visitor);
      if (this.matched === 0) this.counters.unmatched++;
    });
    this.scheduleFlush();
  }

  /** What `SubscriptionIndex.match` reports for the message being routed. */
  private readonly visitor = { sub: (id: number) => this.matchedWorker(id), shared: (g: SharedGroupView) => this.matchedGroup(g) };

  /** A worker subscribes a matching filter (several filters: one copy). */
  private matchedWorker(id: number): void {
    if (id === this.from) return;
    const w = this.workers.get(id)!;
    if (w.seen === this.msgNo) return;
    w.seen = this.msgNo;
    w.dlv.add(this.frame);
    this.matched++;
  }

  /** A shared group with members on some workers gets the message once: the next worker. */
  private matchedGroup(g: SharedGroupView): void {
    const id = g.members[g.cursor++ % g.members.length]!;
    if (g.cursor >= g.members.length) g.cursor = 0;
    const w = this.workers.get(id)!;
    w.shr.add(this.frame);
    w.filters.push(g.filter);
    w.groups.push(g.name);
    this.matched++;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const w of this.workers.values()) {
      if (w.dlv.size > 0) {
        this.counters.delivered += w.dlv.size;
        w.port.send({ k: 'dlv', data: w.dlv.take() });
      }
      if (w.shr.size > 0) {
        this.counters.delivered += w.shr.size;
        w.port.send({ k: 'shr', data: w.shr.take(), filters: w.filters, groups: w.groups });
        w.filters = [];
        w.groups = [];
      }
    }
  }

  private broadcast(msg: { k: 'ret'; data: Uint8Array } | { k: 'retDel'; topic: string }): void {
    // Queued deliveries first: a retained write must not overtake the messages before it.
    this.flush();
    for (const w of this.workers.values()) w.port.send(msg);
  }

  // ---------------------------------------------------------------- retained

  private storeRetained(w: WorkerState, data: Buffer): void {
    const { message } = decodeFrame(data);
    const topic = message.topic;
    if (this.retained.size >= this.maxRetained && !this.retained.has(topic)) {
      // Full: undo the write in the worker that made it.
      w.port.send({ k: 'retDel', topic });
      return;
    }
    const frame = Buffer.from(data);
    this.retained.set(topic, { frame, expiresAt: message.expiresAt });
    this.broadcast({ k: 'ret', data: frame });
  }

  // ---------------------------------------------------------------- client ids

  /** Claims of one client id run one after the other. */
  private claim(w: WorkerState, id: number, cid: string, clean: boolean): void {
    const run = (this.claims.get(cid) ?? Promise.resolve()).then(() => this.doClaim(w, id, cid, clean));
    this.claims.set(cid, run);
    void run.finally(() => {
      if (this.claims.get(cid) === run) this.claims.delete(cid);
    });
  }

  private async doClaim(w: WorkerState, id: number, cid: string, clean: boolean): Promise<void> {
    let snap: WireSnapshot | undefined;
    try {
      const owner = this.owners.get(cid);
      if (owner !== undefined && owner !== w.id && this.workers.has(owner)) {
        snap = await this.handover(owner, cid, !clean);
        this.counters.takeovers++;
      }
      const delayed = this.delayedWills.get(cid);
      if (delayed) {
        // The will of a dead worker's client: a resumed session cancels it, a clean start ends
        // the old session, which publishes it [MQTT-3.1.3-9].
        clearTimeout(delayed.timer);
        this.delayedWills.delete(cid);
        if (clean) this.publishWills([delayed.data]);
      }
      if (this.workers.get(w.id) !== w) return;
      this.owners.set(cid, w.id);
      w.port.send(snap ? { k: 'claimed', id, snap } : { k: 'claimed', id });
    } catch (err) {
      this.log.warn({ err, clientId: cid }, 'local_claim_failed');
      w.port.send({ k: 'claimed', id, error: `claim of ${cid} failed` });
    }
  }

  private handover(owner: number, cid: string, resume: boolean): Promise<WireSnapshot | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.handovers.delete(id);
        this.log.warn({ clientId: cid, worker: owner }, 'local_handover_timeout');
        resolve(undefined);
      }, this.handoverTimeout);
      this.handovers.set(id, { worker: owner, done: resolve, timer });
      this.workers.get(owner)!.port.send({ k: 'handover', id, cid, resume });
    });
  }

  // ---------------------------------------------------------------- wills

  private publishWills(frames: Buffer[]): void {
    const w = this.workers.values().next().value as WorkerState | undefined;
    if (!w) {
      this.orphanWills.push(...frames);
      return;
    }
    const batch = new FrameBatch();
    for (const f of frames) batch.add(f);
    this.counters.willsPublished += frames.length;
    w.port.send({ k: 'wills', data: batch.take() });
  }
}
