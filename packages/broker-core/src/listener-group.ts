import type { AdapterStats, ListenerInfo } from './adapter.js';

/** One bound listener of an adapter: a TCP, TLS, WebSocket or UDP server. */
export interface Listener {
  start(): Promise<ListenerInfo>;
  /** Stop accepting, tell clients the server is going away, wait at most `drainMs`. */
  stop(drainMs?: number): Promise<void>;
}

/**
 * The named listeners of one adapter, started and stopped together: a listener that fails to
 * bind stops those already started; `stop()` is idempotent. Adapters extend it with `stats()`.
 */
export abstract class ListenerGroup<L extends Listener = Listener> {
  private started = false;

  constructor(readonly listeners: readonly L[]) {}

  async start(): Promise<ListenerInfo[]> {
    this.started = true;
    const infos: ListenerInfo[] = [];
    try {
      for (const l of this.listeners) infos.push(await l.start());
    } catch (err) {
      await this.stop({ drainMs: 0 });
      throw err;
    }
    return infos;
  }

  async stop(opts?: { drainMs?: number }): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await Promise.all(this.listeners.map((l) => l.stop(opts?.drainMs)));
  }

  abstract stats(): AdapterStats;
}
