/**
 * The gateway's logger: pino, with constant snake_case event names as the message and details in
 * the object (`log.info({ port }, 'listener_started')`). `text` is pretty-printed in-process and
 * synchronously, for a terminal; `json` writes one JSON object per line, for log collectors.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Keys whose values never reach the log; they print as `[Redacted]`. */
export const REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'secret',
  '*.secret',
  'cookie',
  '*.cookie',
];

export interface CreateLoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Where to write; standard output when omitted. */
  readonly destination?: NodeJS.WritableStream;
  /** Colours in `text`; on when writing to a terminal, unless set. */
  readonly colorize?: boolean;
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  const options = { level: opts.level, redact: { paths: [...REDACT_PATHS] } };
  return pino(options, destinationFor(opts));
}

function destinationFor(opts: CreateLoggerOptions): DestinationStream {
  if (opts.format === 'json') return opts.destination ?? pino.destination({ dest: 1, sync: true });
  return pretty({
    sync: true,
    destination: opts.destination ?? 1,
    colorize: opts.colorize ?? (opts.destination === undefined && process.stdout.isTTY === true),
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
}
