/**
 * Pretty-printer: an AST back to SQL that parses to the same AST (positions aside). Parentheses
 * are added only where precedence needs them. Also names unaliased SELECT fields.
 */
import type { Expr, Field, PathSegment, Statement } from './ast.js';
import { isKeyword } from './lexer.js';

/** Binding strength; higher binds tighter. */
const PREC: Record<string, number> = { or: 1, and: 2, not: 3, cmp: 4, '+': 5, '-': 5, '*': 6, '/': 6, div: 6, mod: 6, unary: 7, atom: 8 };

function precOf(e: Expr): number {
  switch (e.kind) {
    case 'binary':
      if (e.op === 'or' || e.op === 'and') return PREC[e.op]!;
      if (e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/' || e.op === 'div' || e.op === 'mod') return PREC[e.op]!;
      return PREC.cmp!;
    case 'in':
      return PREC.cmp!;
    case 'unary':
      return e.op === 'not' ? PREC.not! : PREC.unary!;
    case 'const':
      // A negative number prints with its sign: as loose as a unary minus.
      return typeof e.value === 'number' && (e.value < 0 || Object.is(e.value, -0)) ? PREC.unary! : PREC.atom!;
    default:
      return PREC.atom!;
  }
}

export function printString(s: string): string {
  return `'${s.replaceAll("'", "\\'")}'`;
}

function printName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !isKeyword(name.toLowerCase()) ? name : printString(name);
}

function printNumber(n: number): string {
  return String(n);
}

function printSegment(s: PathSegment): string {
  if (s.kind === 'index') return `[${printExpr(s.index)}]`;
  return `.${/^[A-Za-z_][A-Za-z0-9_]*$/.test(s.key) ? s.key : printString(s.key)}`;
}

function wrap(e: Expr, min: number): string {
  const text = printExpr(e);
  return precOf(e) < min ? `(${text})` : text;
}

export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'const':
      if (e.value === null) return 'null';
      if (typeof e.value === 'string') return printString(e.value);
      if (typeof e.value === 'boolean') return e.value ? 'true' : 'false';
      return printNumber(e.value);
    case 'path':
      return e.root + e.segments.map(printSegment).join('');
    case 'slice':
      return `${wrap(e.target, PREC.atom!)}[${e.from}..${e.to}]`;
    case 'list':
      return `[${e.items.map(printExpr).join(', ')}]`;
    case 'range':
      return `[${e.from}..${e.to}]`;
    case 'unary':
      if (e.op === 'not') return `not ${wrap(e.operand, PREC.not!)}`;
      // `- -x` must not print as `--x` (a comment).
      return `${e.op}${wrap(e.operand, PREC.atom!)}`;
    case 'binary': {
      const p = precOf(e);
      // Left-associative: the right operand needs parentheses at equal precedence. Comparisons
      // do not chain, so both sides of one need a tighter operand.
      const isCmp = p === PREC.cmp;
      return `${wrap(e.left, isCmp ? p + 1 : p)} ${e.op} ${wrap(e.right, p + 1)}`;
    }
    case 'in':
      return `${wrap(e.value, PREC.cmp! + 1)} ${e.negated ? 'not in' : 'in'} (${e.list.map(printExpr).join(', ')})`;
    case 'call':
      return `${e.name}(${e.args.map(printExpr).join(', ')})`;
    case 'case': {
      const parts = ['case'];
      if (e.on) parts.push(printExpr(e.on));
      for (const w of e.whens) parts.push(`when ${printExpr(w.when)} then ${printExpr(w.then)}`);
      if (e.else) parts.push(`else ${printExpr(e.else)}`);
      parts.push('end');
      return parts.join(' ');
    }
  }
}

function printField(f: Field): string {
  if (f.kind === 'all') return '*';
  const text = printExpr(f.expr);
  return f.alias ? `${text} as ${f.alias.map(printName).join('.')}` : text;
}

/** The statement as SQL, on one line. */
export function printStatement(s: Statement): string {
  const from = `FROM ${s.from.map((f) => `"${f.source.replaceAll('"', '\\"')}"`).join(', ')}`;
  const where = s.where ? ` WHERE ${printExpr(s.where)}` : '';
  if (s.type === 'select') return `SELECT ${s.fields.map(printField).join(', ')} ${from}${where}`;
  let text = `FOREACH ${s.fields.map(printField).join(', ')}`;
  if (s.do) text += ` DO ${s.do.map(printField).join(', ')}`;
  if (s.incase) text += ` INCASE ${printExpr(s.incase)}`;
  return `${text} ${from}${where}`;
}
