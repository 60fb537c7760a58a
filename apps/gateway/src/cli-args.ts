/** Command-line parsing for `junction`. */
import { parseArgs } from 'node:util';

export const COMMANDS = ['start', 'check-config', 'config-docs'] as const;
export type Command = (typeof COMMANDS)[number] | 'help' | 'version';

export interface CliArgs {
  readonly command: Command;
  /** `--config FILE`, when given. */
  readonly config?: string;
}

/** Bad command line; the CLI prints it with a pointer to `--help`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: junction <command> [options]

Commands:
  start           Start the gateway
  check-config    Validate the configuration; print OK or the first problem
  config-docs     Print the configuration reference (Markdown), generated from the schema
  ctl ...         Operate a running gateway through its REST API (junction ctl --help)

Options:
  -c, --config FILE   Configuration file (default: the embedded config/junction.yaml)
  -h, --help          Show this help
  -v, --version       Print the version

Environment:
  JUNCTION__A__B=value   Override config key a.b (segments lower-cased; value read as YAML)
  JUNCTION_CTL_URL       API of the gateway for ctl (default http://127.0.0.1:18083)
  JUNCTION_CTL_API_KEY   key:secret for ctl; or JUNCTION_CTL_USERNAME and JUNCTION_CTL_PASSWORD

Exit status: 0 ok, 1 failure, 2 configuration error, 64 bad command line.
`;

export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { command: 'help' };
  if (values.version) return { command: 'version' };
  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError('missing command');
  if (!isCommand(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  return values.config === undefined ? { command } : { command, config: values.config };
}

function isCommand(x: string): x is (typeof COMMANDS)[number] {
  return (COMMANDS as readonly string[]).includes(x);
}
