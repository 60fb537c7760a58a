/**
 * Reading and writing nested values the way EMQX's `emqx_rule_maps` does: a step into text
 * decodes it as JSON first (an undecodable step finds nothing), indexes are 1-based and count
 * from the end when negative, and writing through something that is not a map replaces it with one.
 */
import { RuleEvalError, isMap, isText, jsonDecode, textOf, type Value, type ValueMap } from './values.js';

/** A resolved path step: a key, or a 1-based (negative: from the end) index. */
export type Step = string | number;

function decodeIfText(v: Value): Value {
  if (!isText(v)) return v;
  try {
    return jsonDecode(v);
  } catch {
    return undefined;
  }
}

/** One step; undefined when there is nothing there. */
export function getStep(data: Value, step: Step): Value {
  const v = decodeIfText(data);
  if (typeof step === 'string') return isMap(v) && Object.hasOwn(v, step) ? v[step] : undefined;
  if (!Array.isArray(v) || step === 0 || !Number.isInteger(step)) return undefined;
  return step > 0 ? v[step - 1] : v[v.length + step];
}

export function getPath(data: Value, steps: readonly Step[]): Value {
  let v = data;
  for (const s of steps) {
    if (v === undefined) return undefined;
    v = getStep(v, s);
  }
  return v;
}

/** A copy of `data` with `val` at `keys` (maps are created or replaced as needed). */
export function putPath(data: Value, keys: readonly string[], val: Value): ValueMap {
  const base = isMap(data) ? data : {};
  const [key, ...rest] = keys;
  if (key === undefined) return base;
  const inner = rest.length === 0 ? val : putPath(decodeIfText(base[key]), rest, val);
  return { ...base, [key]: inner };
}

/** In place: `columns[keys]` = val, creating maps on the way. */
export function putPathInPlace(target: ValueMap, keys: readonly string[], val: Value): void {
  const [key, ...rest] = keys;
  if (key === undefined) return;
  if (rest.length === 0) {
    target[key] = val;
    return;
  }
  target[key] = putPath(decodeIfText(target[key]), rest, val);
}

/** `map_get('a.b', m)`-style key: split on dots. */
export function dottedKey(key: Value): string[] {
  const t = textOf(key);
  if (t === undefined) throw new RuleEvalError(`expected a key string, got ${String(key)}`);
  return t.split('.');
}

/** Elements `from..to` of an array, 1-based inclusive, negative from the end (EMQX `range_get`). */
export function sliceList(list: Value, from: number, to: number): Value[] {
  if (!Array.isArray(list)) throw new RuleEvalError('a slice [a..b] needs an array');
  const index = (i: number) => {
    if (i === 0) throw new RuleEvalError('index 0 in a slice: indexes start at 1');
    return i > 0 ? i : list.length + i + 1;
  };
  const a = index(from);
  const b = index(to);
  return b < a ? [] : list.slice(a - 1, b);
}
