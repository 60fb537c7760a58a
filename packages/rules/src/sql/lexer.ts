/**
 * The rule SQL lexer. Keywords are case-insensitive; strings take single or double quotes (a
 * backslash escapes the quote, every other backslash stays as written, as in EMQX, so regexes
 * read naturally and `unescape()` has something to do); `--` and `/* *\/` comments are skipped.
 */
import { RuleSqlError, type SourcePos } from './errors.js';

export const KEYWORDS = [
  'select', 'from', 'where', 'foreach', 'do', 'incase', 'as', 'and', 'or', 'not', 'in',
  'case', 'when', 'then', 'else', 'end', 'div', 'mod', 'true', 'false', 'null',
] as const;
export type Keyword = (typeof KEYWORDS)[number];
const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

export const PUNCTUATION = ['(', ')', '[', ']', ',', '.', '..', '*', '+', '-', '/', '=', '!=', '<>', '<', '<=', '>', '>=', '=~'] as const;
export type Punctuation = (typeof PUNCTUATION)[number];

export type Token =
  | { kind: 'keyword'; value: Keyword; text: string; pos: SourcePos }
  | { kind: 'ident'; value: string; pos: SourcePos }
  | { kind: 'number'; value: number; text: string; pos: SourcePos }
  | { kind: 'string'; value: string; quote: "'" | '"'; pos: SourcePos }
  | { kind: 'punct'; value: Punctuation; pos: SourcePos }
  | { kind: 'eof'; pos: SourcePos };

export function isKeyword(word: string): word is Keyword {
  return KEYWORD_SET.has(word);
}

const isDigit = (c: string) => c >= '0' && c <= '9';
const isIdentStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdentPart = (c: string) => isIdentStart(c) || isDigit(c);

/** Splits SQL into tokens; the last one is `eof`. Throws `RuleSqlError` at the offending character. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const posAt = (offset: number): SourcePos => ({ offset, line, column: offset - lineStart + 1 });
  const advanceTo = (end: number) => {
    for (; i < end; i++) {
      if (sql[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
  };

  while (i < sql.length) {
    const c = sql[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      advanceTo(i + 1);
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      advanceTo(nl < 0 ? sql.length : nl);
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) throw new RuleSqlError('unterminated comment', posAt(i));
      advanceTo(close + 2);
      continue;
    }
    const pos = posAt(i);
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < sql.length && isIdentPart(sql[j]!)) j++;
      const text = sql.slice(i, j);
      const lower = text.toLowerCase();
      tokens.push(isKeyword(lower) ? { kind: 'keyword', value: lower, text, pos } : { kind: 'ident', value: text, pos });
      i = j;
      continue;
    }
    if (isDigit(c)) {
      let j = i;
      while (j < sql.length && isDigit(sql[j]!)) j++;
      // A fraction needs a digit after the dot, so that `[1..3]` lexes as 1 .. 3.
      if (sql[j] === '.' && isDigit(sql[j + 1] ?? '')) {
        j++;
        while (j < sql.length && isDigit(sql[j]!)) j++;
      }
      if ((sql[j] === 'e' || sql[j] === 'E') && (isDigit(sql[j + 1] ?? '') || ((sql[j + 1] === '+' || sql[j + 1] === '-') && isDigit(sql[j + 2] ?? '')))) {
        j += 2;
        while (j < sql.length && isDigit(sql[j]!)) j++;
      }
      if (j < sql.length && isIdentStart(sql[j]!)) throw new RuleSqlError(`invalid number ${JSON.stringify(sql.slice(i, j + 1))}`, pos);
      const text = sql.slice(i, j);
      tokens.push({ kind: 'number', value: Number(text), text, pos });
      i = j;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= sql.length) throw new RuleSqlError('unterminated string', pos);
        const d = sql[j]!;
        if (d === c) break;
        if (d === '\\' && sql[j + 1] === c) {
          value += c;
          j += 2;
          continue;
        }
        value += d;
        j++;
      }
      tokens.push({ kind: 'string', value, quote: c, pos });
      advanceTo(j + 1);
      continue;
    }
    const two = sql.slice(i, i + 2);
    if (two === '..' || two === '!=' || two === '<>' || two === '<=' || two === '>=' || two === '=~') {
      tokens.push({ kind: 'punct', value: two, pos });
      i += 2;
      continue;
    }
    if ('()[],.*+-/=<>'.includes(c)) {
      tokens.push({ kind: 'punct', value: c as Punctuation, pos });
      i++;
      continue;
    }
    throw new RuleSqlError(`unexpected character ${JSON.stringify(c)}`, pos);
  }
  tokens.push({ kind: 'eof', pos: posAt(i) });
  return tokens;
}

/** How a token reads in an error message. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of input';
    case 'keyword':
      return t.value.toUpperCase();
    case 'ident':
      return `identifier ${t.value}`;
    case 'number':
      return `number ${t.text}`;
    case 'string':
      return `string ${t.quote}${t.value}${t.quote}`;
    case 'punct':
      return `"${t.value}"`;
  }
}
