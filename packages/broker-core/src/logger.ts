/** The logging surface the core and adapters use; pino satisfies it. Event names are constant
 * snake_case strings passed as the message; details go in the object. */
export interface Logger {
  debug(obj: object, event: string): void;
  info(obj: object, event: string): void;
  warn(obj: object, event: string): void;
  error(obj: object, event: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

const noop = () => {};
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
