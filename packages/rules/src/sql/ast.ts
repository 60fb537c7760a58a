/**
 * The rule SQL abstract syntax tree. Plain data with a `kind` (expressions) or `type`
 * (statements) discriminator; every node carries its position in the source for error messages.
 */
import type { SourcePos } from './errors.js';

/** One step of a path: a key (`payload.x`, `pub_props.'User-Property'`) or an index (`list[1]`, `list[-1]`, `list[i]`). */
export type PathSegment = { kind: 'key'; key: string } | { kind: 'index'; index: Expr };

export type Literal = string | number | boolean | null;

export type BinaryOp = '+' | '-' | '*' | '/' | 'div' | 'mod' | '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=' | '=~' | 'and' | 'or';
export type UnaryOp = '-' | '+' | 'not';

export type Expr =
  /** A literal. `null` is SQL NULL: "no value", like a missing field. */
  | { kind: 'const'; value: Literal; pos: SourcePos }
  /** A field or path into the event: `clientid`, `payload.a.b`, `payload.list[1]`. */
  | { kind: 'path'; root: string; segments: PathSegment[]; pos: SourcePos }
  /** A slice of an array, 1-based and inclusive, negative counting from the end: `payload.list[2..-1]`. */
  | { kind: 'slice'; target: Expr; from: number; to: number; pos: SourcePos }
  /** An array literal: `[1, 'a', x]`. */
  | { kind: 'list'; items: Expr[]; pos: SourcePos }
  /** A range literal: `[1..5]` is `[1, 2, 3, 4, 5]`. */
  | { kind: 'range'; from: number; to: number; pos: SourcePos }
  | { kind: 'unary'; op: UnaryOp; operand: Expr; pos: SourcePos }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: SourcePos }
  /** `x IN (a, b)` / `x NOT IN (a, b)`. */
  | { kind: 'in'; value: Expr; list: Expr[]; negated: boolean; pos: SourcePos }
  | { kind: 'call'; name: string; args: Expr[]; pos: SourcePos }
  /** `CASE WHEN c THEN v ... ELSE e END`, or with `on`: `CASE x WHEN v1 THEN r1 ... END`. */
  | { kind: 'case'; on?: Expr; whens: { when: Expr; then: Expr }[]; else?: Expr; pos: SourcePos };

/** Where a selected value goes: `as name` or `as a.b.c`. */
export type AliasPath = string[];

export type Field = { kind: 'all'; pos: SourcePos } | { kind: 'expr'; expr: Expr; alias?: AliasPath; pos: SourcePos };

export interface SelectStatement {
  type: 'select';
  fields: Field[];
  from: FromItem[];
  where?: Expr;
}

/**
 * `FOREACH fields DO fields INCASE cond FROM ... WHERE cond`. The last FOREACH field is the
 * collection (its alias, default `item`, names the current element); earlier ones are plain
 * selections usable by the rest of the statement.
 */
export interface ForeachStatement {
  type: 'foreach';
  fields: Field[];
  do?: Field[];
  incase?: Expr;
  from: FromItem[];
  where?: Expr;
}

export interface FromItem {
  /** As written between the quotes: a topic filter, `$events/...` or `$bridges/...`. */
  source: string;
  pos: SourcePos;
}

export type Statement = SelectStatement | ForeachStatement;
