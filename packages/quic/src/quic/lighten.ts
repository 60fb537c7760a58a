/**
 * Overhead of @matrixai/quic 2.0.9 taken off the per-packet path, found by CPU profiles of MQTT
 * round trips over QUIC:
 *
 * - Each received datagram runs under the connection's `recvLock`, an @matrixai/async-locks
 *   `Lock` that builds a Timer, an AbortController, cancellable promises and a timeout error
 *   (with its stack trace) per call, though nothing waits on it with a timeout. The lock only
 *   keeps `recv` + `send` of one connection from interleaving; a promise chain does the same.
 * - Every received datagram and every stream write runs `send()` at once: the ACK of a PUBLISH
 *   leaves in a datagram of its own just before the PUBACK written a moment later, and a burst of
 *   writes leaves as a burst of small datagrams. `send()` is deferred to the end of the current
 *   event-loop turn (setImmediate) and runs once for everything asked meanwhile, so ACKs ride
 *   with the answers and stream data is packed into full datagrams. Without a custom TLS verify
 *   callback (not used here), `send()` does all its work synchronously, so running it later
 *   outside the receive lock interleaves with nothing. `stop()` sends what is pending first: it
 *   resets the streams, which would drop data written but not sent.
 */
import type { QUICConnection } from '@matrixai/quic';

type Task<T> = () => Promise<T>;

/** A FIFO mutex with the one method QUICConnection uses (`withF(fn)`). */
class ChainLock {
  private tail: Promise<unknown> = Promise.resolve();

  withF<T>(...params: unknown[]): Promise<T> {
    const fn = params[params.length - 1] as Task<T>;
    const run = this.tail.then(() => fn());
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

const done = new WeakSet<QUICConnection>();

interface Internals {
  recvLock?: { withF?: unknown; isLocked?: () => boolean };
  send?: () => Promise<void>;
  stop?: (...args: unknown[]) => Promise<void>;
}

/**
 * Give `conn` the light receive lock and the coalesced send (once; before its first packet, or
 * between packets). `coalesce: false` keeps sending at once (only the lock is replaced).
 */
export function lightenConnection(conn: QUICConnection, opts: { coalesce?: boolean } = {}): void {
  if (done.has(conn)) return;
  done.add(conn);
  const c = conn as unknown as Internals;
  // Another library version without these internals, or with the lock held right now: leave it.
  if (typeof c.recvLock?.withF === 'function' && !c.recvLock.isLocked?.()) (c as { recvLock: unknown }).recvLock = new ChainLock();
  if (opts.coalesce !== false && typeof c.send === 'function' && typeof c.stop === 'function') {
    const send = c.send.bind(conn);
    const stop = c.stop.bind(conn);
    let scheduled: NodeJS.Immediate | undefined;
    const flush = () => {
      scheduled = undefined;
      // Failures are reported by the library as connection error events before it throws.
      send().catch(() => {});
    };
    c.send = () => {
      scheduled ??= setImmediate(flush);
      return Promise.resolve();
    };
    // Stopping resets the streams, which drops stream data not sent yet (the DISCONNECT written
    // just before): what is pending leaves first.
    c.stop = (...args: unknown[]) => {
      if (scheduled) {
        clearImmediate(scheduled);
        flush();
      }
      return stop(...args);
    };
  }
}
