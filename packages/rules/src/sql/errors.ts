import { JunctionError } from '@junction/broker-core';

/** Where something is in the SQL text: 0-based offset, 1-based line and column. */
export interface SourcePos {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/**
 * The SQL of a rule is invalid: a syntax error, an unknown function or event, a wrong number of
 * arguments. The message names the line and column; `pos` carries them for tools.
 */
export class RuleSqlError extends JunctionError {
  readonly pos: SourcePos;
  /** The message without the position prefix. */
  readonly reason: string;
  constructor(reason: string, pos: SourcePos) {
    super('config_invalid', `line ${pos.line}, column ${pos.column}: ${reason}`);
    this.name = 'RuleSqlError';
    this.pos = pos;
    this.reason = reason;
  }
}
