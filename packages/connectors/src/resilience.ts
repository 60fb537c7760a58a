/**
 * The resilience layer every sink shares: a bounded in-memory buffer (items and bytes), batching,
 * retry with exponential backoff, back-pressure and metrics.
 *
 * - `send` renders nothing itself: a sink turns the rule output into an item (sized in bytes) and
 *   calls `enqueue`. A full buffer rejects with `SinkBufferFullError` (counted `dropped`); the rule
 *   engine counts the rejected action as failed.
 * - One worker drains the buffer in batches of up to `batch_size`, waiting up to `batch_time` ms
 *   for a batch to fill. While the sink reports it is not connected, items stay buffered.
 * - A failed batch is retried after `retry_interval * 2^n` ms (capped at `max_retry_interval`), up
 *   to `max_retries` times; then, or at once for a `NonRetryableError`, its items count `failed`.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Logger } from '@junction/broker-core';

export const ResourceOptsSchema = Type.Object(
  {
    batch_size: Type.Integer({ minimum: 1, default: 1, description: 'Maximum number of items delivered in one request (where the protocol allows batching).' }),
    batch_time: Type.Integer({ minimum: 0, default: 0, description: 'Milliseconds to wait for a batch to fill before delivering it.' }),
    max_buffer_items: Type.Integer({ minimum: 1, default: 10_000, description: 'Maximum items held in the in-memory buffer; beyond it `send` is rejected and the item counted as dropped.' }),
    max_buffer_bytes: Type.Integer({ minimum: 1, default: 256 * 1024 * 1024, description: 'Maximum bytes held in the in-memory buffer.' }),
    max_retries: Type.Integer({ minimum: 0, default: 5, description: 'Retries of a failed batch before its items count as failed.' }),
    retry_interval: Type.Integer({ minimum: 1, default: 200, description: 'First retry delay in milliseconds; doubles at each retry.' }),
    max_retry_interval: Type.Integer({ minimum: 1, default: 15_000, description: 'Upper bound of the retry delay in milliseconds.' }),
  },
  { additionalProperties: false, default: {}, description: 'Buffering, batching and retry (EMQX `resource_opts`).' },
);
export type ResourceOpts = Static<typeof ResourceOptsSchema>;

/** Rejection of `send` when the buffer is full (back-pressure). */
export class SinkBufferFullError extends Error {
  constructor(readonly sink: string) {
    super(`sink ${sink}: buffer full, message dropped`);
    this.name = 'SinkBufferFullError';
  }
}

/** Rejection of `send` after `stop()`. */
export class SinkStoppedError extends Error {
  constructor(readonly sink: string) {
    super(`sink ${sink} is stopped`);
    this.name = 'SinkStoppedError';
  }
}

/** Thrown by a delivery that must not be retried (e.g. HTTP 4xx). */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

export interface SinkMetrics {
  /** Outputs handed to `send`. */
  matched: number;
  /** Items delivered. */
  success: number;
  /** Items given up on (non-retryable error, retries exhausted, or dropped at stop). */
  failed: number;
  /** Items refused because the buffer was full. */
  dropped: number;
  /** Batch retries. */
  retried: number;
  /** Items in the buffer now. */
  queuing: number;
  /** Items being delivered now. */
  inflight: number;
}

export interface SinkStatus {
  status: 'connected' | 'connecting' | 'disconnected' | 'stopped';
  metrics: SinkMetrics;
}

interface Entry<T> {
  item: T;
  bytes: number;
}

export interface DeliveryTarget<T> {
  deliver(batch: T[]): Promise<void>;
  /** False while the remote is known down: items stay buffered. */
  isConnected?(): boolean;
}

export class ResilientQueue<T> {
  private readonly buf: Entry<T>[] = [];
  private bytes = 0;
  private readonly m: SinkMetrics = { matched: 0, success: 0, failed: 0, dropped: 0, retried: 0, queuing: 0, inflight: 0 };
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private closed = false;
  private abortDelay: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly opts: ResourceOpts,
    private readonly target: DeliveryTarget<T>,
    private readonly log: Logger,
  ) {}

  /** Count an output as matched (call once per `send`, before rendering). */
  matched(): void {
    this.m.matched++;
  }

  /** Count an output that could not be rendered as failed. */
  failedOne(): void {
    this.m.failed++;
  }

  enqueue(item: T, bytes: number): Promise<void> {
    if (this.stopping) {
      this.m.failed++;
      return Promise.reject(new SinkStoppedError(this.name));
    }
    if (this.buf.length >= this.opts.max_buffer_items || this.bytes + bytes > this.opts.max_buffer_bytes) {
      this.m.dropped++;
      return Promise.reject(new SinkBufferFullError(this.name));
    }
    this.buf.push({ item, bytes });
    this.bytes += bytes;
    this.m.queuing = this.buf.length;
    this.kick();
    return Promise.resolve();
  }

  /** Wake the worker (e.g. the remote came back). */
  kick(): void {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
      if (this.buf.length > 0 && this.connected() && !this.stopping) this.kick();
    });
    this.wakeUp?.();
  }

  metrics(): SinkMetrics {
    return { ...this.m, queuing: this.buf.length };
  }

  private connected(): boolean {
    return this.target.isConnected?.() ?? true;
  }

  private wait(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.wakeUp = undefined;
        this.abortDelay = undefined;
        resolve();
      };
      this.timer = setTimeout(done, ms);
      this.abortDelay = done;
    });
  }

  private async run(): Promise<void> {
    while (this.buf.length > 0) {
      if (!this.connected()) return; // kick() resumes when the remote is back
      if (this.buf.length < this.opts.batch_size && this.opts.batch_time > 0 && !this.stopping) {
        const p = this.wait(this.opts.batch_time);
        this.wakeUp = () => {
          if (this.buf.length >= this.opts.batch_size || this.stopping) this.abortDelay?.();
        };
        await p;
      }
      const taken = this.buf.splice(0, this.opts.batch_size);
      for (const e of taken) this.bytes -= e.bytes;
      const batch = taken.map((e) => e.item);
      this.m.inflight = batch.length;
      this.m.queuing = this.buf.length;
      await this.deliverWithRetry(batch);
      this.m.inflight = 0;
    }
  }

  private async deliverWithRetry(batch: T[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.target.deliver(batch);
        this.m.success += batch.length;
        return;
      } catch (err) {
        const retryable = !(err instanceof NonRetryableError);
        if (!retryable || attempt >= this.opts.max_retries || this.closed) {
          this.m.failed += batch.length;
          this.log.warn({ sink: this.name, items: batch.length, attempts: attempt + 1, err: (err as Error).message }, 'connector.delivery_failed');
          return;
        }
        this.m.retried++;
        const delay = Math.min(this.opts.retry_interval * 2 ** attempt, this.opts.max_retry_interval);
        this.log.debug({ sink: this.name, attempt: attempt + 1, delay, err: (err as Error).message }, 'connector.delivery_retry');
        await this.wait(delay);
      }
    }
  }

  /**
   * Deliver what is buffered (retries included, up to `timeoutMs`), then refuse new items.
   * Whatever is left counts as failed.
   */
  async flush(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    this.abortDelay?.();
    if (this.buf.length > 0) this.kick();
    const deadline = Date.now() + timeoutMs;
    while ((this.running || this.buf.length > 0) && Date.now() < deadline) {
      if (!this.running && this.buf.length > 0 && !this.connected()) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    this.closed = true;
    this.abortDelay?.();
    if (this.buf.length > 0) {
      this.m.failed += this.buf.length;
      this.buf.length = 0;
      this.bytes = 0;
    }
  }
}
