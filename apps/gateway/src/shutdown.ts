/**
 * Shutdown on SIGINT/SIGTERM: the first signal asks for a graceful stop; a second one, while the
 * stop is under way, exits with status 1 at once.
 */
import type { Logger } from './logger.js';

export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/** The part of `process` this needs; tests pass an EventEmitter. */
export interface SignalSource {
  on(event: ShutdownSignal, listener: () => void): unknown;
  off(event: ShutdownSignal, listener: () => void): unknown;
}

export interface ShutdownWatch {
  /** Resolves with the first signal received. */
  readonly requested: Promise<ShutdownSignal>;
  /** Removes the signal handlers. */
  dispose(): void;
}

export function watchShutdown(opts: { signals: SignalSource; exit: (code: number) => void; log: Logger }): ShutdownWatch {
  let received: ShutdownSignal | undefined;
  let resolve: (signal: ShutdownSignal) => void = () => {};
  const requested = new Promise<ShutdownSignal>((r) => (resolve = r));
  const handlers = SHUTDOWN_SIGNALS.map((signal) => {
    const handler = () => {
      if (received === undefined) {
        received = signal;
        resolve(signal);
      } else {
        opts.log.warn({ signal, first: received }, 'gateway_forced_exit');
        opts.exit(1);
      }
    };
    opts.signals.on(signal, handler);
    return [signal, handler] as const;
  });
  return {
    requested,
    dispose: () => handlers.forEach(([signal, handler]) => opts.signals.off(signal, handler)),
  };
}
