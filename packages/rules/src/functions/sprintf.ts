/**
 * `sprintf(format, args...)`: the part of Erlang's `io_lib:format` rules use. Directives:
 * `~s` (text), `~p` / `~w` (Erlang term syntax: strings print as `<<"abc">>`), `~b`/`~B`
 * (integer, `~.16B` for another base), `~f` / `~e` / `~g` (floats, `~.2f` for precision), `~c`
 * (character), `~n` (newline), `~~` (a tilde). A field width pads on the left (`~10s`, `~-10s`
 * pads on the right).
 */
import { RuleEvalError, isMap, isText, numberToString, textOf, toStr, type Value } from '../runtime/values.js';

const DIRECTIVE = /~(-?\d+|\*)?(?:\.(\d+|\*)?)?(?:\.(.))?([spwbBfegcn~xX#+iPWtl])/g;

/** Erlang term syntax, as ~p and ~w print it. */
export function erlangTerm(v: Value): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : numberToString(v);
  if (isText(v)) return `<<${JSON.stringify(textOf(v))}>>`;
  if (Array.isArray(v)) return `[${v.map(erlangTerm).join(',')}]`;
  if (isMap(v)) return `#{${Object.entries(v).map(([k, x]) => `<<${JSON.stringify(k)}>> => ${erlangTerm(x)}`).join(',')}}`;
  return String(v);
}

function pad(s: string, width: number | undefined, padChar = ' '): string {
  if (width === undefined) return s;
  const w = Math.abs(width);
  if (s.length >= w) return s;
  const fill = padChar.repeat(w - s.length);
  return width < 0 ? s + fill : fill + s;
}

export function sprintf(format: string, args: Value[]): string {
  let next = 0;
  const take = (): Value => {
    if (next >= args.length) throw new RuleEvalError(`sprintf(): the format needs more than ${args.length} argument(s)`);
    return args[next++];
  };
  const out = format.replace(DIRECTIVE, (_m, widthText: string | undefined, precText: string | undefined, padChar: string | undefined, dir: string) => {
    const width = widthText === '*' ? Number(take()) : widthText !== undefined ? Number(widthText) : undefined;
    const prec = precText === '*' ? Number(take()) : precText !== undefined ? Number(precText) : undefined;
    switch (dir) {
      case '~':
        return '~';
      case 'n':
        return '\n';
      case 's':
        return pad(toStr(take()), width, padChar);
      case 'p':
      case 'w':
      case 'P':
      case 'W':
        return pad(erlangTerm(take()), width, padChar);
      case 'b':
      case 'B':
      case 'x':
      case 'X':
      case '#':
      case '+': {
        const v = take();
        if (typeof v !== 'number' || !Number.isInteger(v)) throw new RuleEvalError(`sprintf(): ~${dir} needs an integer`);
        const base = prec ?? 10;
        const text = v.toString(base);
        return pad(dir === 'b' ? text.toLowerCase() : text.toUpperCase(), width, padChar);
      }
      case 'i':
        take();
        return '';
      case 'c': {
        const v = take();
        if (typeof v !== 'number') throw new RuleEvalError('sprintf(): ~c needs a character code');
        return pad(String.fromCodePoint(v), width, padChar);
      }
      case 'f':
      case 'e':
      case 'g': {
        const v = take();
        if (typeof v !== 'number') throw new RuleEvalError(`sprintf(): ~${dir} needs a number`);
        const p = prec ?? 6;
        const text = dir === 'f' ? v.toFixed(p) : dir === 'e' ? v.toExponential(Math.max(0, p - 1)) : String(Number(v.toPrecision(p)));
        return pad(text, width, padChar);
      }
      default:
        throw new RuleEvalError(`sprintf(): unsupported directive ~${dir}`);
    }
  });
  if (next < args.length) throw new RuleEvalError(`sprintf(): ${args.length - next} argument(s) left over`);
  return out;
}
