/**
 * Topic matching for authorization, EMQX's way (`emqx_topic:match/2` over words), with one
 * tightening: a subscription's `#` is only covered by a `#` in the rule (EMQX also lets `+`
 * cover it, which would grant `a/#` from a rule for `a/+`).
 */

export function words(topic: string): string[] {
  return topic.split('/');
}

/**
 * Does `topic` (a topic name, or the filter a client subscribes to) fall under `filter`?
 * A wildcard in `topic` is matched only by a wildcard at least as wide in `filter`.
 */
export function matchWords(topic: readonly string[], filter: readonly string[]): boolean {
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i]!;
    if (f === '#') return true; // [MQTT-4.7.1-2] also matches the parent level
    if (i >= topic.length) return false;
    const t = topic[i]!;
    if (f === '+') {
      if (t === '#') return false;
      continue;
    }
    if (f !== t) return false;
  }
  return topic.length === filter.length;
}

/** The topic a subscription really covers: without `$share/{group}/` or `$queue/`. */
export function realTopic(filter: string): string {
  if (filter.startsWith('$share/')) {
    const rest = filter.indexOf('/', 7);
    return rest > 0 ? filter.slice(rest + 1) : filter;
  }
  if (filter.startsWith('$queue/')) return filter.slice(7);
  return filter;
}
