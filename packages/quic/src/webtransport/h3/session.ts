import type { ConnectRequest } from './request.js';

/** The sessions of one HTTP/3 connection, by session id (the CONNECT stream's id). */
export interface SessionOwner {
  readonly sessions: Map<number, WtSession>;
  /** `host:port` of the peer. */
  readonly peer: string;
}

/** One WebTransport session: its CONNECT stream and what runs over it. */
export class WtSession {
  /** Called once when the session ends (CONNECT stream closed or the connection gone). */
  private readonly onEnd = new Set<() => void>();
  ended = false;

  constructor(
    readonly id: number,
    readonly request: ConnectRequest,
    readonly connection: SessionOwner,
  ) {}

  onClose(fn: () => void): () => void {
    if (this.ended) {
      fn();
      return () => {};
    }
    this.onEnd.add(fn);
    return () => this.onEnd.delete(fn);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const fn of this.onEnd) fn();
    this.onEnd.clear();
    this.connection.sessions.delete(this.id);
  }
}
