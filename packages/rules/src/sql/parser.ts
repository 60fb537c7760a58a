/**
 * Recursive-descent parser for EMQX's rule SQL:
 *
 * ```
 * statement := SELECT fields FROM sources [WHERE expr]
 *            | FOREACH fields [DO fields] [INCASE expr] FROM sources [WHERE expr]
 * fields    := field {, field} ;  field := '*' | expr [AS name{.name}]
 * sources   := string {, string}
 * ```
 *
 * Precedence, loosest first: OR, AND, NOT, comparisons (`= != <> < <= > >= =~`, `IN`),
 * `+ -`, `* / div mod`, unary `- +`, postfix paths. Errors are `RuleSqlError` with the line
 * and column of the offending token.
 */
import type { AliasPath, BinaryOp, Expr, Field, FromItem, PathSegment, Statement } from './ast.js';
import { RuleSqlError, type SourcePos } from './errors.js';
import { describeToken, tokenize, type Keyword, type Punctuation, type Token } from './lexer.js';

export function parseSql(sql: string): Statement {
  return new Parser(tokenize(sql)).statement();
}

/** Parse a lone expression (for tests and tools). */
export function parseExpr(text: string): Expr {
  const p = new Parser(tokenize(text));
  const e = p.expr();
  p.expectEnd();
  return e;
}

const COMPARISONS: ReadonlySet<string> = new Set(['=', '!=', '<>', '<', '<=', '>', '>=', '=~']);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private get t(): Token {
    return this.tokens[this.i]!;
  }
  private peek(n = 1): Token {
    return this.tokens[Math.min(this.i + n, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const t = this.t;
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private isKw(k: Keyword, t = this.t): boolean {
    return t.kind === 'keyword' && t.value === k;
  }
  private isP(p: Punctuation, t = this.t): boolean {
    return t.kind === 'punct' && t.value === p;
  }
  private fail(what: string, t = this.t): never {
    throw new RuleSqlError(`expected ${what}, found ${describeToken(t)}`, t.pos);
  }
  private expectKw(k: Keyword): Token {
    if (!this.isKw(k)) this.fail(k.toUpperCase());
    return this.next();
  }
  private expectP(p: Punctuation): Token {
    if (!this.isP(p)) this.fail(`"${p}"`);
    return this.next();
  }
  expectEnd(): void {
    if (this.t.kind !== 'eof') this.fail('end of input');
  }

  statement(): Statement {
    if (this.isKw('select')) {
      this.next();
      const fields = this.fields(true);
      const from = this.from();
      const where = this.optionalCondition('where');
      this.expectEnd();
      return where ? { type: 'select', fields, from, where } : { type: 'select', fields, from };
    }
    if (this.isKw('foreach')) {
      this.next();
      const fields = this.fields(false);
      const stmt: Statement = { type: 'foreach', fields, from: [] };
      if (this.isKw('do')) {
        this.next();
        stmt.do = this.fields(true);
      }
      const incase = this.optionalCondition('incase');
      if (incase) stmt.incase = incase;
      stmt.from = this.from();
      const where = this.optionalCondition('where');
      if (where) stmt.where = where;
      this.expectEnd();
      return stmt;
    }
    return this.fail('SELECT or FOREACH');
  }

  private optionalCondition(k: Keyword): Expr | undefined {
    if (!this.isKw(k)) return undefined;
    this.next();
    return this.expr();
  }

  private fields(allowStar: boolean): Field[] {
    const out: Field[] = [];
    do {
      const pos = this.t.pos;
      if (this.isP('*')) {
        if (!allowStar) this.fail('an expression');
        this.next();
        out.push({ kind: 'all', pos });
        continue;
      }
      const expr = this.expr();
      if (this.isKw('as')) {
        this.next();
        out.push({ kind: 'expr', expr, alias: this.aliasPath(), pos });
      } else {
        out.push({ kind: 'expr', expr, pos });
      }
    } while (this.isP(',') && this.next());
    return out;
  }

  private aliasPath(): AliasPath {
    const parts = [this.name('an alias', false)];
    while (this.isP('.')) {
      this.next();
      parts.push(this.name('an alias', false));
    }
    return parts;
  }

  /** An identifier or a quoted name; after `.` in a path, keywords are names too. */
  private name(what: string, keywords = true): string {
    const t = this.t;
    if (t.kind === 'ident') return (this.next(), t.value);
    if (t.kind === 'keyword' && keywords) return (this.next(), t.text);
    if (t.kind === 'string') return (this.next(), t.value);
    return this.fail(what);
  }

  private from(): FromItem[] {
    this.expectKw('from');
    const out: FromItem[] = [];
    do {
      const t = this.t;
      if (t.kind !== 'string') this.fail('a quoted topic filter or event');
      this.next();
      if (t.value === '') throw new RuleSqlError('empty source in FROM', t.pos);
      out.push({ source: t.value, pos: t.pos });
    } while (this.isP(',') && this.next());
    return out;
  }

  // ---------------------------------------------------------------- expressions

  expr(): Expr {
    return this.or();
  }

  private or(): Expr {
    let left = this.and();
    while (this.isKw('or')) {
      const pos = this.next().pos;
      left = { kind: 'binary', op: 'or', left, right: this.and(), pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isKw('and')) {
      const pos = this.next().pos;
      left = { kind: 'binary', op: 'and', left, right: this.not(), pos };
    }
    return left;
  }

  private not(): Expr {
    if (this.isKw('not')) {
      const pos = this.next().pos;
      return { kind: 'unary', op: 'not', operand: this.not(), pos };
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const left = this.additive();
    const t = this.t;
    if (t.kind === 'punct' && COMPARISONS.has(t.value)) {
      this.next();
      return { kind: 'binary', op: t.value as BinaryOp, left, right: this.additive(), pos: t.pos };
    }
    if (this.isKw('in') || (this.isKw('not') && this.isKw('in', this.peek()))) {
      const pos = t.pos;
      const negated = this.isKw('not');
      if (negated) this.next();
      this.next();
      this.expectP('(');
      const list: Expr[] = [];
      if (!this.isP(')')) {
        do list.push(this.expr());
        while (this.isP(',') && this.next());
      }
      this.expectP(')');
      return { kind: 'in', value: left, list, negated, pos };
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isP('+') || this.isP('-')) {
      const t = this.next() as Token & { value: '+' | '-' };
      left = { kind: 'binary', op: t.value, left, right: this.multiplicative(), pos: t.pos };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.t;
      let op: BinaryOp | undefined;
      if (this.isP('*')) op = '*';
      else if (this.isP('/')) op = '/';
      else if (this.isKw('div')) op = 'div';
      else if (this.isKw('mod')) op = 'mod';
      if (!op) return left;
      this.next();
      left = { kind: 'binary', op, left, right: this.unary(), pos: t.pos };
    }
  }

  private unary(): Expr {
    if (this.isP('-') || this.isP('+')) {
      const t = this.next() as Token & { value: '+' | '-' };
      return { kind: 'unary', op: t.value, operand: this.unary(), pos: t.pos };
    }
    return this.postfix();
  }

  private postfix(): Expr {
    const base = this.primary();
    if (base.kind !== 'path') {
      if (this.isP('[') && (base.kind === 'call' || base.kind === 'list')) return this.slice(base);
      return base;
    }
    for (;;) {
      if (this.isP('.')) {
        this.next();
        const t = this.t;
        base.segments.push({ kind: 'key', key: t.kind === 'string' ? (this.next(), t.value) : this.name('a field name') });
        continue;
      }
      if (this.isP('[')) {
        // `[a..b]` is a slice and ends the path; `[i]` is an index.
        if (this.isRangeAhead()) return this.slice(base);
        this.next();
        const index = this.expr();
        this.expectP(']');
        base.segments.push({ kind: 'index', index });
        continue;
      }
      return base;
    }
  }

  /** After `[`: a (signed) integer, then `..`. */
  private isRangeAhead(): boolean {
    let n = 1;
    if (this.isP('-', this.peek(n))) n++;
    return this.peek(n).kind === 'number' && this.isP('..', this.peek(n + 1));
  }

  private slice(target: Expr): Expr {
    const pos = this.expectP('[').pos;
    const from = this.intLiteral();
    this.expectP('..');
    const to = this.intLiteral();
    this.expectP(']');
    return { kind: 'slice', target, from, to, pos };
  }

  private intLiteral(): number {
    const neg = this.isP('-');
    if (neg) this.next();
    const t = this.t;
    if (t.kind !== 'number' || !Number.isInteger(t.value)) this.fail('an integer');
    this.next();
    return neg ? -t.value : t.value;
  }

  private primary(): Expr {
    const t = this.t;
    switch (t.kind) {
      case 'number':
        this.next();
        return { kind: 'const', value: t.value, pos: t.pos };
      case 'string':
        this.next();
        return { kind: 'const', value: t.value, pos: t.pos };
      case 'ident':
        this.next();
        if (this.isP('(')) return this.call(t.value, t.pos);
        return { kind: 'path', root: t.value, segments: [], pos: t.pos };
      case 'keyword':
        switch (t.value) {
          case 'true':
          case 'false':
            this.next();
            return { kind: 'const', value: t.value === 'true', pos: t.pos };
          case 'null':
            this.next();
            // `null()` is a function too.
            if (this.isP('(')) return this.call('null', t.pos);
            return { kind: 'const', value: null, pos: t.pos };
          case 'case':
            return this.caseExpr();
          case 'div':
          case 'mod':
            // `mod(7, 2)`: the operators are functions too.
            if (this.isP('(', this.peek())) {
              this.next();
              return this.call(t.value, t.pos);
            }
            break;
        }
        break;
      case 'punct':
        if (t.value === '(') {
          this.next();
          const e = this.expr();
          this.expectP(')');
          return e;
        }
        if (t.value === '[') return this.listOrRange();
        break;
    }
    return this.fail('an expression');
  }

  private call(name: string, pos: SourcePos): Expr {
    this.expectP('(');
    const args: Expr[] = [];
    if (!this.isP(')')) {
      do args.push(this.expr());
      while (this.isP(',') && this.next());
    }
    this.expectP(')');
    return { kind: 'call', name: name.toLowerCase(), args, pos };
  }

  private listOrRange(): Expr {
    const pos = this.t.pos;
    if (this.isRangeAhead()) {
      this.next();
      const from = this.intLiteral();
      this.expectP('..');
      const to = this.intLiteral();
      this.expectP(']');
      return { kind: 'range', from, to, pos };
    }
    this.expectP('[');
    const items: Expr[] = [];
    if (!this.isP(']')) {
      do items.push(this.expr());
      while (this.isP(',') && this.next());
    }
    this.expectP(']');
    return { kind: 'list', items, pos };
  }

  private caseExpr(): Expr {
    const pos = this.expectKw('case').pos;
    if (this.isKw('end')) this.fail('WHEN');
    const on = this.isKw('when') ? undefined : this.expr();
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.isKw('when')) {
      this.next();
      const when = this.expr();
      this.expectKw('then');
      whens.push({ when, then: this.expr() });
    }
    if (whens.length === 0) this.fail('WHEN');
    let elseExpr: Expr | undefined;
    if (this.isKw('else')) {
      this.next();
      elseExpr = this.expr();
    }
    this.expectKw('end');
    const node: Expr = { kind: 'case', whens, pos };
    if (on) node.on = on;
    if (elseExpr) node.else = elseExpr;
    return node;
  }
}

/** A path's segments as written, for keys and messages: `payload.a[1]`. */
export function pathKeys(root: string, segments: readonly PathSegment[]): string[] {
  return [root, ...segments.filter((s): s is PathSegment & { kind: 'key' } => s.kind === 'key').map((s) => s.key)];
}
