import type { AdapterStats, ListenerInfo } from './adapter.js';

/** One bound listener of an adapter: a TCP, TLS, WebSocket or UDP server. */
export interface Listener {
  /** Bind. Called again after `stop()` when an operator restarts the listener, so it should
   * bind afresh then. */
  start(): Promise<ListenerInfo>;
  /** Stop accepting, tell clients the server is going away, wait at most `drainMs`. */
  stop(drainMs?: number): Promise<void>;
}

/** One listener of an adapter and whether it runs now; `id` is `type:name`, e.g. `tcp:default`. */
export interface ListenerStatus {
  readonly id: string;
  readonly running: boolean;
  /** What it bound when it last started. */
  readonly info: ListenerInfo;
}

/**
 * Optional adapter capability: stop and start single listeners at run time (EMQX's
 * `PUT /listeners/{id}/stop|start|restart`). `ListenerGroup` implements it.
 */
export interface ListenerControl {
  /** Every listener that has started once, running or stopped. */
  listenerStatus(): readonly ListenerStatus[];
  /** Stop one listener (its clients are told the server is going away); no-op when stopped.
   * Throws a `RangeError` for an unknown id. */
  stopListener(id: string, opts?: { drainMs?: number }): Promise<void>;
  /** Start one stopped listener again; resolves with what it bound (the running one's info
   * when it runs). Throws a `RangeError` for an unknown id. */
  startListener(id: string): Promise<ListenerInfo>;
}

/** Whether an adapter offers `ListenerControl`. */
export function hasListenerControl(adapter: unknown): adapter is ListenerControl {
  const a = adapter as Partial<ListenerControl> | null;
  return typeof a?.listenerStatus === 'function' && typeof a.stopListener === 'function' && typeof a.startListener === 'function';
}

/**
 * The named listeners of one adapter, started and stopped together: a listener that fails to
 * bind stops those already started; `stop()` is idempotent. Single listeners can be stopped and
 * started again while the group runs (`ListenerControl`). Adapters extend it with `stats()`.
 */
export abstract class ListenerGroup<L extends Listener = Listener> implements ListenerControl {
  private started = false;
  /** By index: what each listener bound last, and whether it runs. */
  private readonly infos: (ListenerInfo | undefined)[] = [];
  private readonly running: boolean[] = [];

  constructor(readonly listeners: readonly L[]) {}

  async start(): Promise<ListenerInfo[]> {
    this.started = true;
    const infos: ListenerInfo[] = [];
    try {
      for (const [i, l] of this.listeners.entries()) {
        const info = await l.start();
        this.infos[i] = info;
        this.running[i] = true;
        infos.push(info);
      }
    } catch (err) {
      await this.stop({ drainMs: 0 });
      throw err;
    }
    return infos;
  }

  async stop(opts?: { drainMs?: number }): Promise<void> {
    if (!this.started) return;
    this.started = false;
    // Listeners stopped one by one were stopped already; the rest (running, or never started
    // after a failed start) are stopped now.
    await Promise.all(this.listeners.map((l, i) => (this.running[i] === false ? undefined : l.stop(opts?.drainMs))));
    this.running.fill(false);
  }

  listenerStatus(): readonly ListenerStatus[] {
    const out: ListenerStatus[] = [];
    for (const [i, info] of this.infos.entries()) if (info) out.push({ id: `${info.type}:${info.name}`, running: this.running[i] === true, info });
    return out;
  }

  async stopListener(id: string, opts?: { drainMs?: number }): Promise<void> {
    const i = this.indexOf(id);
    if (!this.running[i]) return;
    this.running[i] = false;
    await this.listeners[i]!.stop(opts?.drainMs);
  }

  async startListener(id: string): Promise<ListenerInfo> {
    const i = this.indexOf(id);
    if (this.running[i]) return this.infos[i]!;
    if (!this.started) throw new RangeError(`listener ${id}: its adapter is not running`);
    const info = await this.listeners[i]!.start();
    this.infos[i] = info;
    this.running[i] = true;
    return info;
  }

  private indexOf(id: string): number {
    const i = this.infos.findIndex((info) => info !== undefined && `${info.type}:${info.name}` === id);
    if (i < 0) throw new RangeError(`no listener ${id}`);
    return i;
  }

  abstract stats(): AdapterStats;
}
