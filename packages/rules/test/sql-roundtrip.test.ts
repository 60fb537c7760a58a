import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExpr, parseSql, printExpr, printStatement, type Expr, type Field, type Statement } from '../src/index.js';
import { strip } from './helpers.js';

const KEYWORDS = new Set(['select', 'from', 'where', 'foreach', 'do', 'incase', 'as', 'and', 'or', 'not', 'in', 'case', 'when', 'then', 'else', 'end', 'div', 'mod', 'true', 'false', 'null']);

const ident = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/).filter((s) => !KEYWORDS.has(s));
/** Any text a quoted string can hold: the dialect cannot express a trailing backslash. */
const text = fc.string({ maxLength: 8, unit: fc.constantFrom('a', 'Z', ' ', "'", '"', '\\', '.', '/', '#', '+', 'é', '-', '*') }).filter((s) => !s.endsWith('\\'));
const number = fc.oneof(fc.nat({ max: 100_000 }), fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)));
const int = fc.integer({ min: -20, max: 20 });
const key = fc.oneof(ident, text, fc.constantFrom('end', 'select', 'User-Property'));
const alias = fc.array(fc.oneof(ident, text.filter((s) => s.length > 0)), { minLength: 1, maxLength: 3 });

const BINARY = ['+', '-', '*', '/', 'div', 'mod', '=', '!=', '<>', '<', '<=', '>', '>=', '=~', 'and', 'or'] as const;

const { expr } = fc.letrec<{ expr: Expr; leaf: Expr; path: Expr }>((tie) => ({
  leaf: fc.oneof(
    fc.record({ kind: fc.constant('const' as const), value: fc.oneof(text, number, fc.boolean(), fc.constant(null)) }),
    tie('path'),
    fc.record({ kind: fc.constant('range' as const), from: int, to: int }),
  ) as fc.Arbitrary<Expr>,
  path: fc.record({
    kind: fc.constant('path' as const),
    root: ident,
    segments: fc.array(fc.oneof({ weight: 3, arbitrary: fc.record({ kind: fc.constant('key' as const), key }) }, { weight: 1, arbitrary: fc.record({ kind: fc.constant('index' as const), index: tie('expr') }) }), { maxLength: 3 }),
  }) as fc.Arbitrary<Expr>,
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.record({ kind: fc.constant('unary' as const), op: fc.constantFrom('-' as const, '+' as const, 'not' as const), operand: tie('expr') }),
    fc.record({ kind: fc.constant('binary' as const), op: fc.constantFrom(...BINARY), left: tie('expr'), right: tie('expr') }),
    fc.record({ kind: fc.constant('in' as const), value: tie('expr'), list: fc.array(tie('expr'), { maxLength: 3 }), negated: fc.boolean() }),
    fc.record({ kind: fc.constant('call' as const), name: fc.oneof(ident, fc.constantFrom('mod', 'div')), args: fc.array(tie('expr'), { maxLength: 3 }) }),
    fc.record({ kind: fc.constant('list' as const), items: fc.array(tie('expr'), { maxLength: 3 }) }),
    fc.record({
      kind: fc.constant('slice' as const),
      target: fc.oneof(tie('path'), fc.record({ kind: fc.constant('call' as const), name: ident, args: fc.array(tie('leaf'), { maxLength: 2 }) }) as fc.Arbitrary<Expr>),
      from: int,
      to: int,
    }),
    fc
      .record(
        { kind: fc.constant('case' as const), on: tie('expr'), whens: fc.array(fc.record({ when: tie('expr'), then: tie('expr') }), { minLength: 1, maxLength: 2 }), else: tie('expr') },
        { requiredKeys: ['kind', 'whens'] },
      ),
  ) as fc.Arbitrary<Expr>,
}));

const field: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ kind: fc.constant('expr' as const), expr, alias }, { requiredKeys: ['kind', 'expr'] }) as fc.Arbitrary<Field>,
);
const fieldOrAll: fc.Arbitrary<Field> = fc.oneof(field, fc.constant({ kind: 'all' } as Field));
const from = fc.array(fc.record({ source: fc.string({ minLength: 1, maxLength: 8, unit: fc.constantFrom('t', '/', '#', '+', '$', 'e', '"', "'", ' ') }) }), { minLength: 1, maxLength: 3 });

const statement: fc.Arbitrary<Statement> = fc.oneof(
  fc.record({ type: fc.constant('select' as const), fields: fc.array(fieldOrAll, { minLength: 1, maxLength: 3 }), from, where: expr }, { requiredKeys: ['type', 'fields', 'from'] }),
  fc.record(
    { type: fc.constant('foreach' as const), fields: fc.array(field, { minLength: 1, maxLength: 2 }), do: fc.array(fieldOrAll, { minLength: 1, maxLength: 2 }), incase: expr, from, where: expr },
    { requiredKeys: ['type', 'fields', 'from'] },
  ),
) as fc.Arbitrary<Statement>;

describe('pretty-printing then parsing', () => {
  it('gives back the same expression', () => {
    fc.assert(
      fc.property(expr, (e) => {
        const printed = printExpr(e);
        expect(strip(parseExpr(printed))).toEqual(strip(e));
      }),
      { numRuns: 1000 },
    );
  });

  it('gives back the same statement, and printing is stable', () => {
    fc.assert(
      fc.property(statement, (s) => {
        const printed = printStatement(s);
        const reparsed = parseSql(printed);
        expect(strip(reparsed)).toEqual(strip(s));
        expect(printStatement(reparsed)).toBe(printed);
      }),
      { numRuns: 500 },
    );
  });
});
