/**
 * Functions about the current event (topic(), clientid(), payload(path), contains_topic...),
 * conditionals (coalesce, coalesce_ne, iif), UUIDs and random strings, and the engine-wide
 * key-value store (kv_store_*).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { topicMatches } from '@junction/broker-core';
import { dottedKey, getPath } from '../runtime/paths.js';
import { RuleEvalError, isMap, jsonDecode, textOf, toStr, valuesEqual, type Value } from '../runtime/values.js';
import { badarg, def, int, list, text, type FunctionDef } from './registry.js';
import { isEmptyVal } from './string.js';

function decodedPayload(p: Value): Value {
  if (isMap(p) || Array.isArray(p)) return p;
  const t = textOf(p);
  return t === undefined ? undefined : jsonDecode(t);
}

function findFilter(filters: Value, topic: Value, match: (f: string, t: string) => boolean): Value {
  const t = textOf(topic);
  if (t === undefined) return undefined;
  for (const f of list('contains_topic', filters)) {
    const name = isMap(f) ? textOf(f.topic) : textOf(f);
    if (name !== undefined && match(name, t)) return f;
  }
  return undefined;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export const messageFunctions: FunctionDef[] = [
  def('topic', 'message', [0, 1], 'topic([n])', 'The topic, or its n-th level (from 1).', ([n], ctx) => {
    const topic = ctx.columns.topic;
    if (n === undefined) return topic;
    const levels = text('topic', topic).split('/');
    const i = int('topic', n);
    if (i < 1 || i > levels.length) throw new RuleEvalError(`topic(): level ${i} is outside 1..${levels.length}`);
    return levels[i - 1];
  }),
  def('clientid', 'message', 0, 'clientid()', 'The client id of the event.', (_a, ctx) => ctx.columns.clientid),
  def('username', 'message', 0, 'username()', 'The user name of the event.', (_a, ctx) => ctx.columns.username),
  def('peerhost', 'message', 0, 'peerhost()', 'The client address of the event.', (_a, ctx) => ctx.columns.peerhost),
  def('clientip', 'message', 0, 'clientip()', 'Same as peerhost().', (_a, ctx) => ctx.columns.peerhost),
  def('qos', 'message', 0, 'qos()', 'The QoS of the message.', (_a, ctx) => ctx.columns.qos),
  def('msgid', 'message', 0, 'msgid()', 'The message id.', (_a, ctx) => ctx.columns.id),
  def('flags', 'message', 0, 'flags()', 'The message flags (a map).', (_a, ctx) => ctx.columns.flags ?? {}),
  def('flag', 'message', 1, 'flag(name)', 'One message flag.', ([n], ctx) => getPath(ctx.columns.flags, [text('flag', n)])),
  def('payload', 'message', [0, 1], 'payload([path])', "The payload, or the value at a dotted path in its JSON ('a.b').", ([p], ctx) => {
    if (p === undefined) return ctx.columns.payload;
    return getPath(decodedPayload(ctx.columns.payload), dottedKey(p));
  }),
  def('contains_topic', 'message', [2, 3], 'contains_topic(filters, topic[, qos])', 'True when the list of subscriptions ({topic, qos} maps or strings) holds exactly this topic (at this QoS).', ([fs, t, qos]) => {
    const f = findFilter(fs, t, (a, b) => a === b);
    return f !== undefined && (qos === undefined || (isMap(f) && valuesEqual(f.qos, qos)));
  }),
  def('contains_topic_match', 'message', [2, 3], 'contains_topic_match(filters, topic[, qos])', 'True when a filter in the list matches the topic (at this QoS).', ([fs, t, qos]) => {
    const f = findFilter(fs, t, topicMatches);
    return f !== undefined && (qos === undefined || (isMap(f) && valuesEqual(f.qos, qos)));
  }),
  def('null', 'message', 0, 'null()', 'No value (undefined).', () => undefined),
];

export const conditionalFunctions: FunctionDef[] = [
  def('coalesce', 'conditional', [1], 'coalesce(a, b, ...) | coalesce([a, b, ...])', 'The first argument that has a value (not undefined, not JSON null).', (args) => {
    const items = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
    return items.find((x) => x !== undefined && x !== null);
  }),
  def('coalesce_ne', 'conditional', [1], 'coalesce_ne(a, b, ...) | coalesce_ne([a, b, ...])', "The first argument that is not empty (no value, JSON null, '', [] or {}).", (args) => {
    const items = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
    return items.find((x) => !isEmptyVal(x));
  }),
  def('iif', 'conditional', 3, 'iif(condition, then, else)', "`then` unless the condition is false or empty (no value, null, '', [] or {}), else `else`.", ([c, a, b]) => (c === false || isEmptyVal(c) ? b : a)),
];

export const randomFunctions: FunctionDef[] = [
  def('uuid_v4', 'random', 0, 'uuid_v4()', 'A random UUID, with hyphens.', () => randomUUID()),
  def('uuid_v4_no_hyphen', 'random', 0, 'uuid_v4_no_hyphen()', 'A random UUID, without hyphens.', () => randomUUID().replaceAll('-', '')),
  def('rand_str', 'random', 1, 'rand_str(length)', 'A random string of letters and digits.', ([n]) => {
    const len = int('rand_str', n);
    if (len < 1) return badarg('rand_str', n, 'a positive length');
    return [...randomBytes(len)].map((b) => BASE62[b % 62]).join('');
  }),
];

export const kvFunctions: FunctionDef[] = [
  def('kv_store_get', 'kv', [1, 2], 'kv_store_get(key[, default])', 'A value kept by kv_store_put (shared by all rules of the broker).', ([k, d], ctx) => {
    const v = ctx.kv.get(toStr(k));
    return v === undefined ? d : v;
  }),
  def('kv_store_put', 'kv', 2, 'kv_store_put(key, value)', 'Keep a value under a key; returns true.', ([k, v], ctx) => {
    ctx.kv.set(toStr(k), v);
    return true;
  }),
  def('kv_store_del', 'kv', 1, 'kv_store_del(key)', 'Forget a key; returns true.', ([k], ctx) => {
    ctx.kv.delete(toStr(k));
    return true;
  }),
];
