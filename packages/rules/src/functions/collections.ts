/** Map functions (map_get, map_put, mget, mput, ...) and array functions (nth, sublist, ...). Arrays are 1-based. */
import { dottedKey, getPath, putPath } from '../runtime/paths.js';
import { RuleEvalError, isMap, textOf, valuesEqual, type Value, type ValueMap } from '../runtime/values.js';
import { badarg, def, int, list, type FunctionDef } from './registry.js';
import { toMap } from './types.js';

function key(fn: string, k: Value): string {
  const t = textOf(k);
  if (t === undefined) return badarg(fn, k, 'a key string');
  return t;
}

export const mapFunctions: FunctionDef[] = [
  def('map_new', 'map', 0, 'map_new()', 'An empty map.', () => ({})),
  def('map_get', 'map', [2, 3], 'map_get(key, map[, default])', "Value at a key; dots in the key go deeper ('a.b.c'); default (or undefined) when absent.", ([k, m, d]) => {
    const v = getPath(m, dottedKey(k));
    return v === undefined ? d : v;
  }),
  def('map_put', 'map', 3, 'map_put(key, value, map)', "The map with the value at the key (dots go deeper: 'a.b.c').", ([k, v, m]) => putPath(toMapOrEmpty(m), dottedKey(k), v)),
  def('mget', 'map', [2, 3], 'mget(key, map[, default])', 'Value at a key (no dot paths); default (or undefined) when absent.', ([k, m, d]) => {
    const mm = toMap(m);
    const name = key('mget', k);
    return Object.hasOwn(mm, name) ? mm[name] : d;
  }),
  def('mput', 'map', 3, 'mput(key, value, map)', 'The map with the value at the key (no dot paths).', ([k, v, m]) => ({ ...toMap(m), [key('mput', k)]: v })),
  def('map_keys', 'map', 1, 'map_keys(map)', 'The keys, as an array.', ([m]) => Object.keys(toMap(m))),
  def('map_values', 'map', 1, 'map_values(map)', 'The values, as an array.', ([m]) => Object.values(toMap(m))),
  def('map_to_entries', 'map', 1, 'map_to_entries(map)', 'An array of {key, value} maps.', ([m]) => Object.entries(toMap(m)).map(([k, v]) => ({ key: k, value: v }))),
];

function toMapOrEmpty(m: Value): ValueMap {
  if (isMap(m)) return m;
  try {
    return toMap(m);
  } catch {
    return {};
  }
}

export const arrayFunctions: FunctionDef[] = [
  def('nth', 'array', 2, 'nth(n, array)', 'The n-th element, from 1.', ([n, l]) => {
    const i = int('nth', n);
    const arr = list('nth', l);
    if (i < 1 || i > arr.length) throw new RuleEvalError(`nth(): index ${i} is outside 1..${arr.length}`);
    return arr[i - 1];
  }),
  def('length', 'array', 1, 'length(array)', 'Number of elements.', ([l]) => list('length', l).length),
  def('sublist', 'array', [2, 3], 'sublist([start, ]length, array)', 'At most `length` elements, from the first or from `start` (1-based).', (args) => {
    const arr = list('sublist', args[args.length - 1]);
    if (args.length === 2) return arr.slice(0, Math.max(0, int('sublist', args[0])));
    const start = int('sublist', args[0]);
    const len = int('sublist', args[1]);
    if (start < 1 || start > arr.length + 1 || len < 0) throw new RuleEvalError(`sublist(): start ${start} is outside 1..${arr.length + 1}`);
    return arr.slice(start - 1, start - 1 + len);
  }),
  def('first', 'array', 1, 'first(array)', 'The first element.', ([l]) => {
    const arr = list('first', l);
    if (arr.length === 0) throw new RuleEvalError('first(): empty array');
    return arr[0];
  }),
  def('last', 'array', 1, 'last(array)', 'The last element.', ([l]) => {
    const arr = list('last', l);
    if (arr.length === 0) throw new RuleEvalError('last(): empty array');
    return arr[arr.length - 1];
  }),
  def('contains', 'array', 2, 'contains(x, array)', 'True when the array has an element equal to x.', ([x, l]) => list('contains', l).some((e) => valuesEqual(e, x))),
];
