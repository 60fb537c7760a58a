/**
 * @matrixai/quic logs every connection start and stop at INFO through its own logger. Junction
 * handles the library's events itself and logs through pino, so the library gets this one,
 * which forwards to the listener's logger at debug level.
 */
import type { QUICSocket } from '@matrixai/quic';
import type { Logger } from '@junction/broker-core';

/** The logger type @matrixai/quic's constructors take. */
export type LibraryLogger = NonNullable<ConstructorParameters<typeof QUICSocket>[0]['logger']>;

export function libraryLogger(log: Logger): LibraryLogger {
  const forward = (message: unknown) => log.debug({ message: String(message) }, 'quic_library');
  const logger = {
    debug: forward,
    info: forward,
    warn: forward,
    error: forward,
    getChild: () => logger,
  };
  return logger as unknown as LibraryLogger;
}
