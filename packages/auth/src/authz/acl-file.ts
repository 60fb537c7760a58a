/**
 * A parser for EMQX's acl.conf: Erlang terms, each ended by a dot, e.g.
 *
 *     {allow, {username, {re, "^dashboard$"}}, subscribe, ["$SYS/#"]}.
 *     {allow, {ipaddr, "127.0.0.1"}, all, ["$SYS/#", "#"]}.
 *     {deny, all, subscribe, ["$SYS/#", {eq, "#"}]}.
 *     {allow, all}.
 *
 * Only the subset acl.conf uses: tuples, lists, atoms (bare or 'quoted'), "strings" (also
 * <<"binaries">>), integers and `%` comments. Errors carry line and column.
 */
import { AclSyntaxError, InvalidRuleError } from '../errors.js';
import { compileNets, compileRegex, compileTopic, parseQos, parseRetain, type ActionCondition, type ActionType, type Rule, type TopicCondition, type Who } from './rule.js';

type Term =
  | { t: 'atom'; v: string; at: Pos }
  | { t: 'string'; v: string; at: Pos }
  | { t: 'int'; v: number; at: Pos }
  | { t: 'tuple'; v: Term[]; at: Pos }
  | { t: 'list'; v: Term[]; at: Pos };

interface Pos {
  line: number;
  col: number;
}

type Token = { k: 'punct'; v: string; at: Pos } | { k: 'atom'; v: string; at: Pos } | { k: 'string'; v: string; at: Pos } | { k: 'int'; v: number; at: Pos } | { k: 'eof'; at: Pos };

class Lexer {
  private i = 0;
  private line = 1;
  private col = 1;
  constructor(
    private readonly src: string,
    private readonly name: string,
  ) {}

  private fail(msg: string, at: Pos = { line: this.line, col: this.col }): never {
    throw new AclSyntaxError(msg, at.line, at.col, this.name);
  }

  private advance(n = 1): void {
    for (let k = 0; k < n; k++) {
      if (this.src[this.i] === '\n') {
        this.line++;
        this.col = 1;
      } else this.col++;
      this.i++;
    }
  }

  next(): Token {
    const s = this.src;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) return { k: 'eof', at: { line: this.line, col: this.col } };
      if (c === '%') {
        while (this.i < s.length && s[this.i] !== '\n') this.advance();
        continue;
      }
      if (/\s/.test(c)) {
        this.advance();
        continue;
      }
      break;
    }
    const at = { line: this.line, col: this.col };
    const c = s[this.i]!;
    if ('{}[],.'.includes(c)) {
      this.advance();
      return { k: 'punct', v: c, at };
    }
    if (c === '<' && s.startsWith('<<"', this.i)) {
      this.advance(2);
      const v = this.quoted('"', at);
      if (!s.startsWith('>>', this.i)) this.fail('expected >> after binary', { line: this.line, col: this.col });
      this.advance(2);
      return { k: 'string', v, at };
    }
    if (c === '"') return { k: 'string', v: this.quoted('"', at), at };
    if (c === "'") return { k: 'atom', v: this.quoted("'", at), at };
    if (/[a-z]/.test(c)) {
      let j = this.i;
      while (j < s.length && /[A-Za-z0-9_@]/.test(s[j]!)) j++;
      const v = s.slice(this.i, j);
      this.advance(j - this.i);
      return { k: 'atom', v, at };
    }
    if (/[0-9]/.test(c)) {
      let j = this.i;
      while (j < s.length && /[0-9]/.test(s[j]!)) j++;
      const v = Number(s.slice(this.i, j));
      this.advance(j - this.i);
      return { k: 'int', v, at };
    }
    this.fail(`unexpected character ${JSON.stringify(c)}`);
  }

  private quoted(q: string, at: Pos): string {
    this.advance(); // opening quote
    let out = '';
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) this.fail(`unterminated ${q === '"' ? 'string' : 'quoted atom'}`, at);
      if (c === q) {
        this.advance();
        return out;
      }
      if (c === '\\') {
        const e = this.src[this.i + 1];
        if (e === undefined) this.fail('unterminated escape');
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === 's' ? ' ' : e;
        this.advance(2);
        continue;
      }
      out += c;
      this.advance();
    }
  }
}

class Parser {
  private tok: Token;
  constructor(
    private readonly lex: Lexer,
    private readonly name: string,
  ) {
    this.tok = lex.next();
  }

  fail(msg: string, at: Pos): never {
    throw new AclSyntaxError(msg, at.line, at.col, this.name);
  }

  /** All top-level terms, each ended by a dot. */
  terms(): Term[] {
    const out: Term[] = [];
    while (this.tok.k !== 'eof') {
      out.push(this.term());
      if (this.tok.k !== 'punct' || this.tok.v !== '.') this.fail('expected "." after a rule', this.tok.at);
      this.tok = this.lex.next();
    }
    return out;
  }

  private term(): Term {
    const t = this.tok;
    switch (t.k) {
      case 'atom':
        this.tok = this.lex.next();
        return { t: 'atom', v: t.v, at: t.at };
      case 'string':
        this.tok = this.lex.next();
        return { t: 'string', v: t.v, at: t.at };
      case 'int':
        this.tok = this.lex.next();
        return { t: 'int', v: t.v, at: t.at };
      case 'punct':
        if (t.v === '{' || t.v === '[') {
          const close = t.v === '{' ? '}' : ']';
          this.tok = this.lex.next();
          const items: Term[] = [];
          if (!(this.tok.k === 'punct' && this.tok.v === close)) {
            for (;;) {
              items.push(this.term());
              if (this.tok.k === 'punct' && this.tok.v === ',') {
                this.tok = this.lex.next();
                continue;
              }
              if (this.tok.k === 'punct' && this.tok.v === close) break;
              this.fail(`expected "," or "${close}"`, this.tok.at);
            }
          }
          this.tok = this.lex.next();
          return { t: t.v === '{' ? 'tuple' : 'list', v: items, at: t.at };
        }
        return this.fail(`unexpected "${t.v}"`, t.at);
      case 'eof':
        return this.fail('unexpected end of input', t.at);
    }
  }
}

/** Parse acl.conf text into rules, in file order. Throws `AclSyntaxError`. */
export function parseAclFile(text: string, name = 'acl.conf'): Rule[] {
  const parser = new Parser(new Lexer(text, name), name);
  const rules: Rule[] = [];
  for (const term of parser.terms()) {
    try {
      rules.push(toRule(term));
    } catch (err) {
      if (err instanceof InvalidRuleError) throw new AclSyntaxError(err.message, term.at.line, term.at.col, name);
      throw err;
    }
  }
  return rules;
}

function describe(t: Term): string {
  switch (t.t) {
    case 'atom':
      return t.v;
    case 'string':
      return JSON.stringify(t.v);
    case 'int':
      return String(t.v);
    case 'tuple':
      return `{${t.v.map(describe).join(', ')}}`;
    case 'list':
      return `[${t.v.map(describe).join(', ')}]`;
  }
}

function bad(what: string, t: Term): never {
  throw new InvalidRuleError(`invalid ${what}: ${describe(t)}`);
}

function toRule(t: Term): Rule {
  if (t.t !== 'tuple') bad('rule (expected a tuple)', t);
  const [p, who, action, topics] = t.v;
  const permission = p?.t === 'atom' && (p.v === 'allow' || p.v === 'deny') ? p.v : bad('permission', p ?? t);
  if (t.v.length === 2) {
    // {allow, all} / {deny, all}: every client, every action, every topic.
    if (who?.t !== 'atom' || who.v !== 'all') bad('rule (two-element rules must be {Permission, all})', t);
    return { permission, who: { kind: 'all' }, action: { type: 'all' }, topics: [compileTopic('#')] };
  }
  if (t.v.length !== 4) bad('rule (expected {Permission, Who, Action, Topics} or {Permission, all})', t);
  return { permission, who: toWho(who!), action: toAction(action!), topics: toTopics(topics!) };
}

function str(t: Term, what: string): string {
  return t.t === 'string' ? t.v : bad(what, t);
}

function toWho(t: Term): Who {
  if (t.t === 'atom' && t.v === 'all') return { kind: 'all' };
  if (t.t !== 'tuple' || t.v.length !== 2 || t.v[0]!.t !== 'atom') bad('client condition', t);
  const [k, v] = t.v as [Term & { t: 'atom' }, Term];
  switch (k.v) {
    case 'user':
    case 'username':
    case 'client':
    case 'clientid': {
      const kind = k.v.startsWith('user') ? 'username' : 'clientid';
      if (v.t === 'tuple' && v.v.length === 2 && v.v[0]!.t === 'atom' && v.v[0]!.v === 're') return { kind, re: compileRegex(str(v.v[1]!, 'regular expression')) };
      return { kind, eq: str(v, kind) };
    }
    case 'ipaddr':
      return { kind: 'ipaddr', nets: compileNets([str(v, 'ipaddr')]) };
    case 'ipaddrs':
      if (v.t !== 'list') bad('ipaddrs (expected a list)', v);
      return { kind: 'ipaddr', nets: compileNets(v.v.map((x) => str(x, 'ipaddr'))) };
    case 'and':
    case 'or':
      if (v.t !== 'list') bad(`${k.v} (expected a list)`, v);
      return { kind: k.v, list: v.v.map(toWho) };
    default:
      return bad('client condition', t);
  }
}

function toAction(t: Term): ActionCondition {
  const simple = (a: Term): ActionType => (a.t === 'atom' && (a.v === 'publish' || a.v === 'subscribe' || a.v === 'all') ? a.v : bad('action', a));
  if (t.t === 'atom') return { type: simple(t) };
  if (t.t !== 'tuple' || t.v.length !== 2 || t.v[1]!.t !== 'list') bad('action', t);
  const type = simple(t.v[0]!);
  let qos: (0 | 1 | 2)[] | undefined;
  let retain: boolean | 'all' | undefined;
  for (const opt of (t.v[1] as Term & { t: 'list' }).v) {
    if (opt.t !== 'tuple' || opt.v.length !== 2 || opt.v[0]!.t !== 'atom') bad('action option', opt);
    const [k, v] = opt.v as [Term & { t: 'atom' }, Term];
    if (k.v === 'qos') {
      const levels = parseQos(v.t === 'int' ? v.v : v.t === 'list' ? v.v.map((x) => (x.t === 'int' ? x.v : bad('qos', x))) : bad('qos', v)) ?? [];
      qos = [...(qos ?? []), ...levels];
    } else if (k.v === 'retain') {
      if (type === 'subscribe') bad('action option (retain applies to publish)', opt);
      retain = v.t === 'atom' && (v.v === 'true' || v.v === 'false' || v.v === 'all') ? (parseRetain(v.v) ?? 'all') : bad('retain', v);
    } else bad('action option', opt);
  }
  return { type, qos, retain };
}

function toTopics(t: Term): TopicCondition[] {
  // EMQX wants a list; a single string is accepted as a list of one.
  const items = t.t === 'list' ? t.v : t.t === 'string' ? [t] : bad('topics (expected a list)', t);
  return items.map((x) => {
    if (x.t === 'string') return compileTopic(x.v);
    if (x.t === 'tuple' && x.v.length === 2 && x.v[0]!.t === 'atom' && x.v[0]!.v === 'eq') return compileTopic(str(x.v[1]!, 'topic'), true);
    return bad('topic', x);
  });
}

/** EMQX's default acl.conf rules, used when a `file` source names no path and no rules. */
export const DEFAULT_ACL = `%% Junction's default ACL, as EMQX ships it.
{allow, {username, {re, "^dashboard$"}}, subscribe, ["$SYS/#"]}.
{allow, {ipaddr, "127.0.0.1"}, all, ["$SYS/#", "#"]}.
{deny, all, subscribe, ["$SYS/#", {eq, "#"}]}.
{allow, all}.
`;
