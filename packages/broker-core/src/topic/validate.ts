/**
 * Topic name and topic filter validation and matching (MQTT 5.0 §4.7, §4.8.2, plus EMQX's
 * `$queue/` shared form and `max_topic_levels`).
 *
 * Everything here runs on the publish/subscribe hot path, so it works on char codes with index
 * loops: no regular expressions and no `split` per call.
 */
import { TopicFilterInvalidError, TopicNameInvalidError } from '../errors.js';

/** Limits applied on top of the protocol rules. */
export interface TopicLimits {
  /** Maximum number of levels (`/` count + 1), EMQX `max_topic_levels`. Default: unlimited. */
  maxLevels?: number;
  /** Maximum length in UTF-8 bytes. Default: 65535, the largest MQTT UTF-8 string [MQTT-1.5.4]. */
  maxLength?: number;
}

/** The largest UTF-8 encoded string MQTT can carry (two-byte length prefix). */
export const MAX_TOPIC_LENGTH = 65535;

const SHARE_PREFIX = '$share/';
const QUEUE_PREFIX = '$queue/';

const NUL = 0x00;
const HASH = 0x23; // '#'
const DOLLAR = 0x24; // '$'
const PLUS = 0x2b; // '+'
const SLASH = 0x2f; // '/'

/**
 * Is `s` longer than `max` UTF-8 bytes? One UTF-16 code unit encodes to at most 3 UTF-8 bytes
 * (a surrogate pair, two units, to 4), so short strings skip the exact byte count.
 */
function tooLong(s: string, max: number): boolean {
  if (s.length * 3 <= max) return false;
  if (s.length > max) return true;
  return Buffer.byteLength(s, 'utf8') > max;
}

/** Number of levels: count of `/` plus one. */
function levelCount(s: string): number {
  let n = 1;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === SLASH) n++;
  return n;
}

/**
 * Throws {@link TopicNameInvalidError} unless `topic` is a valid topic name for PUBLISH.
 */
export function validateTopicName(topic: string, opts?: TopicLimits): void {
  // [MQTT-4.7.3-1] All Topic Names and Topic Filters MUST be at least one character long.
  if (topic.length === 0) throw new TopicNameInvalidError(topic, 'must not be empty');
  const maxLength = opts?.maxLength ?? MAX_TOPIC_LENGTH;
  if (tooLong(topic, maxLength)) throw new TopicNameInvalidError(topic, `longer than ${maxLength} bytes`);
  let levels = 1;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === SLASH) levels++;
    // [MQTT-3.3.2-2] The Topic Name in the PUBLISH packet MUST NOT contain wildcard characters.
    else if (c === PLUS || c === HASH) throw new TopicNameInvalidError(topic, 'must not contain wildcards');
    // [MQTT-4.7.3-2] Topic Names and Topic Filters MUST NOT include the null character (U+0000).
    else if (c === NUL) throw new TopicNameInvalidError(topic, 'must not contain U+0000');
  }
  if (opts?.maxLevels !== undefined && levels > opts.maxLevels) {
    throw new TopicNameInvalidError(topic, `more than ${opts.maxLevels} levels`);
  }
}

/**
 * Checks the wildcard placement and characters of a plain (non-shared) filter; returns an error
 * description, or undefined when valid. `max_topic_levels` is checked by the caller.
 */
function plainFilterProblem(f: string): string | undefined {
  // [MQTT-4.7.3-1]
  if (f.length === 0) return 'must not be empty';
  const last = f.length - 1;
  for (let i = 0; i <= last; i++) {
    const c = f.charCodeAt(i);
    if (c === HASH) {
      // [MQTT-4.7.1-1] The multi-level wildcard MUST be specified either on its own or following a
      // topic level separator, and MUST be the last character of the Topic Filter.
      if (i !== last) return "'#' must be the last character";
      if (i > 0 && f.charCodeAt(i - 1) !== SLASH) return "'#' must occupy a whole level";
    } else if (c === PLUS) {
      // [MQTT-4.7.1-2] The single-level wildcard MUST occupy an entire level of the filter.
      if (i > 0 && f.charCodeAt(i - 1) !== SLASH) return "'+' must occupy a whole level";
      if (i < last && f.charCodeAt(i + 1) !== SLASH) return "'+' must occupy a whole level";
    } else if (c === NUL) {
      // [MQTT-4.7.3-2]
      return 'must not contain U+0000';
    }
  }
  return undefined;
}

/** Is the first level of `s` exactly `word` (e.g. `$share`), with or without a following level? */
function firstLevelIs(s: string, word: string): boolean {
  return s.startsWith(word) && (s.length === word.length || s.charCodeAt(word.length) === SLASH);
}

/**
 * Throws {@link TopicFilterInvalidError} unless `filter` is a valid SUBSCRIBE topic filter,
 * including the shared forms `$share/{group}/{filter}` and (EMQX) `$queue/{filter}`.
 *
 * For shared forms, `maxLevels` applies to the inner filter (as EMQX checks the parsed topic);
 * `maxLength` applies to the whole string as sent.
 */
export function validateTopicFilter(filter: string, opts?: TopicLimits): void {
  // [MQTT-4.7.3-1]
  if (filter.length === 0) throw new TopicFilterInvalidError(filter, 'must not be empty');
  const maxLength = opts?.maxLength ?? MAX_TOPIC_LENGTH;
  if (tooLong(filter, maxLength)) throw new TopicFilterInvalidError(filter, `longer than ${maxLength} bytes`);

  let inner = filter;
  if (filter.charCodeAt(0) === DOLLAR) {
    if (firstLevelIs(filter, '$share')) {
      // [MQTT-4.8.2-1] A Shared Subscription's Topic Filter MUST start with "$share/" and MUST
      // contain a ShareName that is at least one character long.
      if (filter.length <= SHARE_PREFIX.length) throw new TopicFilterInvalidError(filter, 'shared subscription needs a group');
      let slash = -1;
      for (let i = SHARE_PREFIX.length; i < filter.length; i++) {
        const c = filter.charCodeAt(i);
        if (c === SLASH) {
          slash = i;
          break;
        }
        // [MQTT-4.8.2-2] The ShareName MUST NOT contain "/", "+" or "#".
        if (c === PLUS || c === HASH) throw new TopicFilterInvalidError(filter, "share group must not contain '+' or '#'");
        if (c === NUL) throw new TopicFilterInvalidError(filter, 'must not contain U+0000');
      }
      if (slash === SHARE_PREFIX.length) throw new TopicFilterInvalidError(filter, 'share group must not be empty');
      // [MQTT-4.8.2-2] The ShareName MUST be followed by a "/" character and then a Topic Filter.
      if (slash < 0 || slash === filter.length - 1) {
        throw new TopicFilterInvalidError(filter, 'shared subscription needs a topic filter after the group');
      }
      inner = filter.slice(slash + 1);
    } else if (firstLevelIs(filter, '$queue')) {
      if (filter.length <= QUEUE_PREFIX.length) throw new TopicFilterInvalidError(filter, '$queue needs a topic filter');
      inner = filter.slice(QUEUE_PREFIX.length);
    }
    if (inner !== filter && (firstLevelIs(inner, '$share') || firstLevelIs(inner, '$queue'))) {
      // EMQX rejects nested shared forms such as `$share/g/$queue/t`.
      throw new TopicFilterInvalidError(filter, 'shared subscriptions cannot be nested');
    }
  }

  const problem = plainFilterProblem(inner);
  if (problem !== undefined) throw new TopicFilterInvalidError(filter, problem);
  if (opts?.maxLevels !== undefined && levelCount(inner) > opts.maxLevels) {
    throw new TopicFilterInvalidError(filter, `more than ${opts.maxLevels} levels`);
  }
}

/** A subscription filter with any shared-subscription prefix taken apart. */
export interface ParsedSubscriptionFilter {
  /** The plain filter used for matching. */
  filter: string;
  /** Share group; `$queue` for EMQX `$queue/` subscriptions; absent for ordinary ones. */
  group?: string;
}

/**
 * Splits `$share/{group}/{filter}` and `$queue/{filter}` into group and filter. The input must
 * already have passed {@link validateTopicFilter}.
 */
export function parseSubscriptionFilter(filter: string): ParsedSubscriptionFilter {
  if (filter.charCodeAt(0) === DOLLAR) {
    if (filter.startsWith(SHARE_PREFIX)) {
      const slash = filter.indexOf('/', SHARE_PREFIX.length);
      if (slash > SHARE_PREFIX.length) {
        return { group: filter.slice(SHARE_PREFIX.length, slash), filter: filter.slice(slash + 1) };
      }
    } else if (filter.startsWith(QUEUE_PREFIX)) {
      return { group: '$queue', filter: filter.slice(QUEUE_PREFIX.length) };
    }
  }
  return { filter };
}

/**
 * Does the (plain, valid) topic filter match the topic name?
 *
 * - `+` matches exactly one level, which may be empty (`a/+` matches `a/`).
 * - `#` matches any number of levels, including the parent level (`a/#` matches `a`) [MQTT-4.7.1-1].
 * - A filter starting with a wildcard does not match topics starting with `$` [MQTT-4.7.2-1].
 */
export function topicMatches(filter: string, topic: string): boolean {
  const fl = filter.length;
  const tl = topic.length;
  // [MQTT-4.7.2-1] The Server MUST NOT match Topic Filters starting with a wildcard character
  // (# or +) with Topic Names beginning with a $ character.
  if (tl > 0 && topic.charCodeAt(0) === DOLLAR && fl > 0) {
    const c = filter.charCodeAt(0);
    if ((c === PLUS || c === HASH) && (fl === 1 || filter.charCodeAt(1) === SLASH)) return false;
  }
  let fi = 0;
  let ti = 0;
  for (;;) {
    // Here fi and ti are both at the start of a level.
    const c = fi < fl ? filter.charCodeAt(fi) : -1;
    if (c === HASH && fi + 1 === fl) return true; // '#' takes this level and everything below
    if (c === PLUS && (fi + 1 === fl || filter.charCodeAt(fi + 1) === SLASH)) {
      fi++;
      while (ti < tl && topic.charCodeAt(ti) !== SLASH) ti++;
    } else {
      for (;;) {
        const fEnd = fi === fl || filter.charCodeAt(fi) === SLASH;
        const tEnd = ti === tl || topic.charCodeAt(ti) === SLASH;
        if (fEnd || tEnd) {
          if (fEnd !== tEnd) return false;
          break;
        }
        if (filter.charCodeAt(fi) !== topic.charCodeAt(ti)) return false;
        fi++;
        ti++;
      }
    }
    // Both are at the end of a level.
    if (ti === tl) {
      if (fi === fl) return true;
      // The topic has no more levels: only a trailing "/#" can still match (the parent level).
      return fi + 2 === fl && filter.charCodeAt(fi + 1) === HASH;
    }
    if (fi === fl) return false;
    fi++; // skip '/'
    ti++;
  }
}

/** Is the topic a broker system topic (`$SYS` or below)? */
export function isSysTopic(topic: string): boolean {
  return topic.startsWith('$SYS') && (topic.length === 4 || topic.charCodeAt(4) === SLASH);
}
