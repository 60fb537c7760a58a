/**
 * String functions. Positions and lengths count characters (code points), from 0 for `substr`
 * as in EMQX 5. Regexes are JavaScript's, which accept the PCRE syntax rules commonly use.
 */
import { RuleEvalError, textOf, toStr, type Value } from '../runtime/values.js';
import { badarg, def, int, list, option, text, type FunctionDef } from './registry.js';
import { sprintf } from './sprintf.js';

const chars = (s: string) => Array.from(s);
const WHITESPACE = ' \t\n\r\f\v\u00a0\u2028\u2029\ufeff';

function trimChars(s: string, set: string, where: 'both' | 'leading' | 'trailing'): string {
  const cs = chars(s);
  let a = 0;
  let b = cs.length;
  if (where !== 'trailing') while (a < b && set.includes(cs[a]!)) a++;
  if (where !== 'leading') while (b > a && set.includes(cs[b - 1]!)) b--;
  return cs.slice(a, b).join('');
}

function regex(fn: string, v: Value, flags = ''): RegExp {
  const source = text(fn, v);
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new RuleEvalError(`${fn}(): invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
}

/** Erlang re:replace replacement: `&` is the match, `\N` / `\g{N}` group N, `\&` a literal &. */
function erlangReplacement(rep: string): (match: string, ...groups: unknown[]) => string {
  return (match, ...rest) => {
    const groups = rest.slice(0, rest.findIndex((x) => typeof x === 'number')) as (string | undefined)[];
    return rep.replace(/\\g\{(\d+)\}|\\(\d)|\\&|\\\\|&/g, (tok, g1: string | undefined, g2: string | undefined) => {
      if (tok === '&') return match;
      if (tok === '\\&') return '&';
      if (tok === '\\\\') return '\\';
      const n = Number(g1 ?? g2);
      return n === 0 ? match : (groups[n - 1] ?? '');
    });
  };
}

function splitAll(s: string, sep: string): string[] {
  return sep === '' ? [s] : s.split(sep);
}

function splitOnce(s: string, sep: string, last: boolean): string[] {
  if (sep === '') return [s];
  const i = last ? s.lastIndexOf(sep) : s.indexOf(sep);
  return i < 0 ? [s] : [s.slice(0, i), s.slice(i + sep.length)];
}

function padTo(s: string, len: number, where: 'trailing' | 'leading' | 'both', ch: string): string {
  const missing = len - chars(s).length;
  if (missing <= 0) return s;
  if (where === 'trailing') return s + ch.repeat(missing);
  if (where === 'leading') return ch.repeat(missing) + s;
  const left = Math.floor(missing / 2);
  return ch.repeat(left) + s + ch.repeat(missing - left);
}

function replaceIn(s: string, p: string, r: string, where: 'all' | 'leading' | 'trailing'): string {
  if (p === '') return s;
  if (where === 'all') return s.split(p).join(r);
  const i = where === 'leading' ? s.indexOf(p) : s.lastIndexOf(p);
  return i < 0 ? s : s.slice(0, i) + r + s.slice(i + p.length);
}

const UNESCAPES: Record<string, string> = { '\\': '\\', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', "'": "'", '"': '"', '?': '?', a: '\x07' };

export function unescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const d = s[i + 1];
    if (d !== undefined && Object.hasOwn(UNESCAPES, d)) {
      out += UNESCAPES[d];
      i++;
    } else if (d === 'x' && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
      let j = i + 2;
      while (j < s.length && /[0-9a-fA-F]/.test(s[j]!)) j++;
      out += String.fromCodePoint(parseInt(s.slice(i + 2, j), 16));
      i = j - 1;
    } else {
      throw new RuleEvalError(`unescape(): unrecognized escape sequence \\${d ?? ''}`);
    }
  }
  return out;
}

export const stringFunctions: FunctionDef[] = [
  def('lower', 'string', 1, 'lower(s)', 'Lower case.', ([s]) => text('lower', s).toLowerCase()),
  def('upper', 'string', 1, 'upper(s)', 'Upper case.', ([s]) => text('upper', s).toUpperCase()),
  def('trim', 'string', [1, 2], 'trim(s[, chars])', 'Remove whitespace (or the given characters) at both ends.', ([s, c]) => trimChars(text('trim', s), c === undefined ? WHITESPACE : text('trim', c), 'both')),
  def('ltrim', 'string', [1, 2], 'ltrim(s[, chars])', 'Remove leading whitespace (or the given characters).', ([s, c]) => trimChars(text('ltrim', s), c === undefined ? WHITESPACE : text('ltrim', c), 'leading')),
  def('rtrim', 'string', [1, 2], 'rtrim(s[, chars])', 'Remove trailing whitespace (or the given characters).', ([s, c]) => trimChars(text('rtrim', s), c === undefined ? WHITESPACE : text('rtrim', c), 'trailing')),
  def('reverse', 'string', 1, 'reverse(s)', 'The characters in reverse order.', ([s]) => chars(text('reverse', s)).reverse().join('')),
  def('strlen', 'string', 1, 'strlen(s)', 'Number of characters.', ([s]) => chars(text('strlen', s)).length),
  def('substr', 'string', [2, 3], 'substr(s, start[, length])', 'Substring from a 0-based start, to the end or of a length.', ([s, start, len]) => {
    const cs = chars(text('substr', s));
    const a = int('substr', start);
    if (a < 0) return badarg('substr', start, 'a non-negative start');
    if (len === undefined) return cs.slice(a).join('');
    const n = int('substr', len);
    if (n < 0) return badarg('substr', len, 'a non-negative length');
    return cs.slice(a, a + n).join('');
  }),
  def('split', 'string', [2, 3], "split(s, sep[, 'notrim' | 'leading' | 'leading_notrim' | 'trailing' | 'trailing_notrim'])", 'Split at every (or the first, or the last) separator; empty parts are dropped unless `_notrim`.', ([s, p, how]) => {
    const str = text('split', s);
    const sep = text('split', p);
    const mode = how === undefined ? 'all' : option('split', how, ['notrim', 'leading', 'leading_notrim', 'trailing', 'trailing_notrim']);
    const parts = mode === 'all' || mode === 'notrim' ? splitAll(str, sep) : splitOnce(str, sep, mode.startsWith('trailing'));
    return mode.endsWith('notrim') ? parts : parts.filter((x) => x !== '');
  }),
  def('tokens', 'string', [2, 3], "tokens(s, separators[, 'nocrlf'])", 'Split at any of the separator characters (and CR/LF with nocrlf); no empty parts.', ([s, seps, crlf]) => {
    let set = chars(text('tokens', seps));
    if (crlf !== undefined) {
      option('tokens', crlf, ['nocrlf']);
      set = [...set, '\r', '\n'];
    }
    const out: string[] = [];
    let cur = '';
    for (const c of chars(text('tokens', s))) {
      if (set.includes(c)) {
        if (cur) out.push(cur);
        cur = '';
      } else cur += c;
    }
    if (cur) out.push(cur);
    return out;
  }),
  def('concat', 'string', [1, 2], 'concat(a, b) | concat([a, b, ...])', 'Join as strings (non-strings converted as by str()).', (args) => {
    const items = args.length === 1 ? list('concat', args[0]) : args;
    return items.map(toStr).join('');
  }),
  def('sprintf', 'string', [1], 'sprintf(format, args...)', 'Erlang io_lib:format: ~s ~p ~w ~b ~B ~f ~e ~g ~c ~n ~~.', ([f, ...args]) => sprintf(text('sprintf', f), args)),
  def('sprintf_s', 'string', 2, 'sprintf_s(format, [args])', 'sprintf with the arguments as an array.', ([f, args]) => sprintf(text('sprintf_s', f), list('sprintf_s', args))),
  def('pad', 'string', [2, 4], "pad(s, length[, 'trailing' | 'leading' | 'both'[, char]])", 'Pad to a length with spaces (or the given character).', ([s, len, where, ch]) => {
    const w = where === undefined ? 'trailing' : option('pad', where, ['trailing', 'leading', 'both']);
    return padTo(text('pad', s), int('pad', len), w, ch === undefined ? ' ' : text('pad', ch));
  }),
  def('replace', 'string', [3, 4], "replace(s, search, replacement[, 'all' | 'leading' | 'trailing'])", 'Replace every (or the first, or the last) occurrence.', ([s, p, r, where]) =>
    replaceIn(text('replace', s), text('replace', p), text('replace', r), where === undefined ? 'all' : option('replace', where, ['all', 'leading', 'trailing'])),
  ),
  def('regex_match', 'string', 2, 'regex_match(s, regex)', 'True when the regex matches anywhere in s.', ([s, re]) => regex('regex_match', re).test(text('regex_match', s))),
  def('regex_replace', 'string', 3, 'regex_replace(s, regex, replacement)', 'Replace every match; & and \\N in the replacement refer to the match and group N.', ([s, re, r]) =>
    text('regex_replace', s).replace(regex('regex_replace', re, 'g'), erlangReplacement(text('regex_replace', r))),
  ),
  def('regex_extract', 'string', 2, 'regex_extract(s, regex)', "The first match's capture groups, as an array (empty when nothing matches).", ([s, re]) => {
    const m = regex('regex_extract', re).exec(text('regex_extract', s));
    return m ? m.slice(1).map((g) => g ?? '') : [];
  }),
  def('ascii', 'string', 1, 'ascii(char)', 'Code of the first byte.', ([s]) => {
    const t = text('ascii', s);
    if (t === '') return badarg('ascii', s, 'a non-empty string');
    return Buffer.from(t, 'utf8')[0]!;
  }),
  def('find', 'string', [2, 3], "find(s, search[, 'leading' | 'trailing'])", 'The rest of s from the first (or last) occurrence of search; empty when absent.', ([s, p, where]) => {
    const str = text('find', s);
    const sub = text('find', p);
    const w = where === undefined ? 'leading' : option('find', where, ['leading', 'trailing']);
    const i = w === 'leading' ? str.indexOf(sub) : str.lastIndexOf(sub);
    return i < 0 ? '' : str.slice(i);
  }),
  def('join_to_string', 'string', [1, 2], 'join_to_string([sep, ]array)', "Join the elements (as by str()) with sep, default ', '.", (args) => {
    const sep = args.length === 2 ? text('join_to_string', args[0]) : ', ';
    return list('join_to_string', args[args.length - 1]).map(toStr).join(sep);
  }),
  def('unescape', 'string', 1, 'unescape(s)', 'Interpret backslash escapes (\\n, \\t, \\xHH, ...).', ([s]) => unescape(text('unescape', s))),
  def('rm_prefix', 'string', 2, 'rm_prefix(s, prefix)', 's without the prefix, when it starts with it.', ([s, p]) => {
    const str = text('rm_prefix', s);
    const pre = text('rm_prefix', p);
    return str.startsWith(pre) ? str.slice(pre.length) : str;
  }),
  def('is_empty', 'string', 1, 'is_empty(x)', "True for no value, JSON null, '' , an empty array or map.", ([x]) => isEmptyVal(x)),
];

/** EMQX's is_empty_val: undefined, null, '', [] and {}. */
export function isEmptyVal(x: Value): boolean {
  if (x === undefined || x === null) return true;
  const t = textOf(x);
  if (t !== undefined) return t === '';
  if (Array.isArray(x)) return x.length === 0;
  if (typeof x === 'object') return Object.keys(x).length === 0;
  return false;
}
