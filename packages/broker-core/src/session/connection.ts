import type { CloseReason, ConnectInfo, DeliverySink, PublishOptions, PublishOutcome, SessionHandle, SubscribeResult, Subscription } from '../contract.js';
import { SessionClosedError } from '../errors.js';
import type { PublishRequest, Publisher } from '../message.js';
import type { Attached, Session } from './session.js';

/** What a connection needs from the broker; implemented by BrokerCore. */
export interface ConnectionHost {
  readonly clock: { now(): number; setTimeout(fn: () => void, ms: number): unknown; clearTimeout(h: unknown): void };
  readonly keepaliveMultiplier: number;
  subscribeFor(conn: Connection, subs: Subscription[]): Promise<SubscribeResult[]>;
  unsubscribeFor(conn: Connection, filters: string[]): Promise<boolean[]>;
  publishFor(conn: Connection, req: PublishRequest, opts?: PublishOptions): PublishOutcome | Promise<PublishOutcome>;
  releaseFor(conn: Connection, packetId: number): boolean;
  ackFor(conn: Connection, packetId: number, kind: 'puback' | 'pubrec' | 'pubcomp'): boolean;
  readyFor(conn: Connection): void;
  closeFor(conn: Connection, reason: CloseReason): void;
  setExpiryFor(conn: Connection, seconds: number): void;
}

/** One connection's handle on its session; what `Broker.open` returns to an adapter. */
export class Connection implements SessionHandle, Attached {
  paused = true;
  /** Resend inflight on the first `ready()` after a resume. */
  resendPending: boolean;
  closed = false;
  readonly publisher: Publisher;
  private lastSeen: number;
  private keepaliveMs = 0;
  private keepaliveTimer: unknown = undefined;

  constructor(
    private readonly host: ConnectionHost,
    readonly session: Session,
    readonly sink: DeliverySink,
    readonly info: ConnectInfo,
    readonly sessionPresent: boolean,
    readonly assignedClientId: string | undefined,
    node: string,
  ) {
    this.resendPending = sessionPresent;
    this.lastSeen = host.clock.now();
    this.publisher = {
      clientId: session.clientId,
      username: info.username,
      protocol: info.protocol,
      peer: info.peer,
      node,
    };
  }

  get clientId(): string {
    return this.session.clientId;
  }

  subscribe(subs: Subscription[]): Promise<SubscribeResult[]> {
    if (this.closed) return Promise.reject(new SessionClosedError());
    return this.host.subscribeFor(this, subs);
  }

  unsubscribe(filters: string[]): Promise<boolean[]> {
    if (this.closed) return Promise.reject(new SessionClosedError());
    return this.host.unsubscribeFor(this, filters);
  }

  publish(req: PublishRequest, opts?: PublishOptions): PublishOutcome | Promise<PublishOutcome> {
    if (this.closed) throw new SessionClosedError();
    return this.host.publishFor(this, req, opts);
  }

  release(packetId: number): boolean {
    return !this.closed && this.host.releaseFor(this, packetId);
  }

  ack(packetId: number, kind: 'puback' | 'pubrec' | 'pubcomp'): boolean {
    return !this.closed && this.host.ackFor(this, packetId, kind);
  }

  ready(): void {
    if (!this.closed) this.host.readyFor(this);
  }

  touch(): void {
    this.lastSeen = this.host.clock.now();
  }

  setKeepalive(seconds: number): void {
    this.stopKeepalive();
    this.keepaliveMs = Math.round(seconds * 1000 * this.host.keepaliveMultiplier);
    if (this.keepaliveMs > 0 && !this.closed) this.armKeepalive(this.keepaliveMs);
  }

  setSessionExpiry(seconds: number): void {
    if (!this.closed) this.host.setExpiryFor(this, seconds);
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.stopKeepalive();
    this.host.closeFor(this, reason);
  }

  /** Closed by the core: tell the adapter, then close. */
  kill(reason: CloseReason): void {
    if (this.closed) return;
    try {
      this.sink.closeBy(reason);
    } finally {
      this.close(reason);
    }
  }

  private armKeepalive(ms: number): void {
    this.keepaliveTimer = this.host.clock.setTimeout(() => {
      const idle = this.host.clock.now() - this.lastSeen;
      if (idle >= this.keepaliveMs) this.kill('keepalive_timeout');
      else this.armKeepalive(this.keepaliveMs - idle);
    }, ms);
  }

  private stopKeepalive(): void {
    if (this.keepaliveTimer !== undefined) this.host.clock.clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }
}
