/** The logger this library writes to: pino's shape (and the broker core's `Logger`). */
export interface TlsLogger {
  debug(obj: object, event: string): void;
  info(obj: object, event: string): void;
  warn(obj: object, event: string): void;
  error(obj: object, event: string): void;
}

const noop = () => {};
export const silentLogger: TlsLogger = { debug: noop, info: noop, warn: noop, error: noop };
