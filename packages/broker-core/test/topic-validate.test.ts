import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopicFilterInvalidError, TopicNameInvalidError } from '../src/errors.js';
import {
  isSysTopic,
  parseSubscriptionFilter,
  topicMatches,
  validateTopicFilter,
  validateTopicName,
} from '../src/topic/validate.js';

describe('validateTopicName', () => {
  it.each([
    'a',
    'a/b/c',
    '/',
    '/a',
    'a/',
    'a//b',
    '//',
    ' ',
    '$SYS/broker',
    '$share', // a topic name may look like anything without wildcards
    'température/°C',
    'emoji/😀',
    'a'.repeat(65535),
  ])('accepts %j', (topic) => {
    expect(() => validateTopicName(topic)).not.toThrow();
  });

  it.each([
    ['', 'empty [MQTT-4.7.3-1]'],
    ['a/+', "'+' [MQTT-3.3.2-2]"],
    ['+', "'+'"],
    ['a/#', "'#'"],
    ['#', "'#'"],
    ['a+b', "'+' inside a level"],
    ['a#', "'#' inside a level"],
    ['a\u0000b', 'U+0000 [MQTT-4.7.3-2]'],
    ['a'.repeat(65536), 'longer than 65535 bytes'],
    ['é'.repeat(32768), '65536 UTF-8 bytes in 32768 characters'],
  ])('rejects %j (%s)', (topic) => {
    expect(() => validateTopicName(topic)).toThrow(TopicNameInvalidError);
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(() => validateTopicName('é'.repeat(32767) + 'a')).not.toThrow(); // 65535 bytes
    expect(() => validateTopicName('😀'.repeat(16383) + 'abc')).not.toThrow(); // 65535 bytes
    expect(() => validateTopicName('😀'.repeat(16384))).toThrow(TopicNameInvalidError); // 65536 bytes
  });

  it('throws with the topic_name_invalid code', () => {
    try {
      validateTopicName('a/+');
      expect.unreachable();
    } catch (e) {
      expect((e as TopicNameInvalidError).code).toBe('topic_name_invalid');
    }
  });

  it('applies maxLength', () => {
    expect(() => validateTopicName('abcd', { maxLength: 4 })).not.toThrow();
    expect(() => validateTopicName('abcde', { maxLength: 4 })).toThrow(TopicNameInvalidError);
    expect(() => validateTopicName('éé', { maxLength: 4 })).not.toThrow();
    expect(() => validateTopicName('ééa', { maxLength: 4 })).toThrow(TopicNameInvalidError);
  });

  it('applies maxLevels (levels = slashes + 1)', () => {
    expect(() => validateTopicName('a/b/c', { maxLevels: 3 })).not.toThrow();
    expect(() => validateTopicName('a/b/c/d', { maxLevels: 3 })).toThrow(TopicNameInvalidError);
    expect(() => validateTopicName('a//', { maxLevels: 3 })).not.toThrow();
    expect(() => validateTopicName('///', { maxLevels: 3 })).toThrow(TopicNameInvalidError);
    expect(() => validateTopicName('a/'.repeat(1000) + 'a')).not.toThrow(); // unlimited by default
  });
});

describe('validateTopicFilter', () => {
  it.each([
    'a',
    'a/b',
    '#',
    '+',
    'a/#',
    'a/+',
    '+/a',
    '+/+',
    '+/#',
    'a/+/b/#',
    '/#',
    '/',
    '//',
    'a//b',
    '+//#',
    '$SYS/#',
    '$SYS/+/uptime',
    '$sharex/a', // not a shared form: first level is '$sharex'
    '$queuey',
    // shared subscriptions [MQTT-4.8.2-1], [MQTT-4.8.2-2]
    '$share/g/a',
    '$share/g/a/b',
    '$share/g/#',
    '$share/g/+/x',
    '$share/group-1/a/#',
    '$share/g//',
    '$share/g/$SYS/#',
    '$share/$g/a',
    // EMQX $queue
    '$queue/a',
    '$queue/a/+/#',
    '$queue/#',
    '$queue//',
  ])('accepts %j', (filter) => {
    expect(() => validateTopicFilter(filter)).not.toThrow();
  });

  it.each([
    ['', 'empty [MQTT-4.7.3-1]'],
    ['a/#/b', "'#' not last [MQTT-4.7.1-1]"],
    ['#/a', "'#' not last"],
    ['##', "'#' not alone"],
    ['a#', "'#' not alone in its level"],
    ['a/b#', "'#' not alone in its level"],
    ['#a', "'#' not last"],
    ['a+', "'+' not alone [MQTT-4.7.1-2]"],
    ['+a', "'+' not alone"],
    ['a/+b/c', "'+' not alone"],
    ['a/b+/c', "'+' not alone"],
    ['++', "'+' not alone"],
    ['+#', 'mixed wildcards'],
    ['a/\u0000', 'U+0000 [MQTT-4.7.3-2]'],
    ['a'.repeat(65536), 'too long'],
    ['$share', 'no group [MQTT-4.8.2-1]'],
    ['$share/', 'empty group'],
    ['$share//a', 'empty group'],
    ['$share/g', 'no filter after the group [MQTT-4.8.2-2]'],
    ['$share/g/', 'empty filter after the group'],
    ['$share/g+/a', "'+' in group [MQTT-4.8.2-2]"],
    ['$share/+/a', "'+' group"],
    ['$share/g#/a', "'#' in group"],
    ['$share/#', "'#' group without filter"],
    ['$share/g\u0000/a', 'U+0000 in group'],
    ['$share/g/a#', 'invalid inner filter'],
    ['$share/g/a/#/b', 'invalid inner filter'],
    ['$share/g/$share/h/a', 'nested shared form'],
    ['$share/g/$queue/a', 'nested shared form'],
    ['$queue', '$queue without filter'],
    ['$queue/', '$queue with empty filter'],
    ['$queue/a+', 'invalid inner filter'],
    ['$queue/$share/g/a', 'nested shared form'],
  ])('rejects %j (%s)', (filter) => {
    expect(() => validateTopicFilter(filter)).toThrow(TopicFilterInvalidError);
  });

  it('throws with the topic_filter_invalid code', () => {
    try {
      validateTopicFilter('a/#/b');
      expect.unreachable();
    } catch (e) {
      expect((e as TopicFilterInvalidError).code).toBe('topic_filter_invalid');
    }
  });

  it('applies maxLevels, to the inner filter of shared forms', () => {
    expect(() => validateTopicFilter('a/+/#', { maxLevels: 3 })).not.toThrow();
    expect(() => validateTopicFilter('a/+/b/#', { maxLevels: 3 })).toThrow(TopicFilterInvalidError);
    expect(() => validateTopicFilter('$share/g/a/+/#', { maxLevels: 3 })).not.toThrow();
    expect(() => validateTopicFilter('$share/g/a/b/c/d', { maxLevels: 3 })).toThrow(TopicFilterInvalidError);
    expect(() => validateTopicFilter('$queue/a/b/c', { maxLevels: 3 })).not.toThrow();
    expect(() => validateTopicFilter('$queue/a/b/c/d', { maxLevels: 3 })).toThrow(TopicFilterInvalidError);
  });

  it('applies maxLength in UTF-8 bytes to the whole filter', () => {
    expect(() => validateTopicFilter('a/é', { maxLength: 4 })).not.toThrow();
    expect(() => validateTopicFilter('a/éa', { maxLength: 4 })).toThrow(TopicFilterInvalidError);
    expect(() => validateTopicFilter('$share/g/a', { maxLength: 9 })).toThrow(TopicFilterInvalidError);
  });

  it('agrees with a reference validator on random strings (property)', () => {
    const reference = (f: string): boolean => {
      if (f === '' || f.includes('\u0000')) return false;
      const levels = f.split('/');
      return levels.every((l, i) => (l.includes('#') ? l === '#' && i === levels.length - 1 : !l.includes('+') || l === '+'));
    };
    const chars = fc.constantFrom('a', 'b', '/', '+', '#', '\u0000', '$');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 10 }).map((cs) => cs.join('')), (f) => {
        let ok = true;
        try {
          validateTopicFilter(f);
        } catch (e) {
          expect(e).toBeInstanceOf(TopicFilterInvalidError);
          ok = false;
        }
        expect(ok).toBe(reference(f));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseSubscriptionFilter', () => {
  it.each([
    ['$share/g/a/b', { group: 'g', filter: 'a/b' }],
    ['$share/g/#', { group: 'g', filter: '#' }],
    ['$share/group.1/$SYS/+', { group: 'group.1', filter: '$SYS/+' }],
    ['$share/g//', { group: 'g', filter: '/' }],
    ['$queue/a/b', { group: '$queue', filter: 'a/b' }],
    ['$queue/#', { group: '$queue', filter: '#' }],
    ['a/b', { filter: 'a/b' }],
    ['#', { filter: '#' }],
    ['$SYS/#', { filter: '$SYS/#' }],
    ['$sharex/a', { filter: '$sharex/a' }],
  ])('%j -> %j', (input, expected) => {
    expect(parseSubscriptionFilter(input)).toEqual(expected);
  });

  it('returns no group key for ordinary filters', () => {
    expect('group' in parseSubscriptionFilter('a/b')).toBe(false);
  });
});

describe('topicMatches', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
    ['a', 'ab', false],
    ['ab', 'a', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/+', 'a', false],
    ['a/+', 'a/', true], // '+' matches an empty level
    ['+', 'a', true],
    ['+', '/', false],
    ['+/+', '/', true],
    ['/+', '/a', true],
    ['+/a', '/a', true],
    ['a/+/b', 'a//b', true],
    ['a//b', 'a//b', true],
    ['a//b', 'a/b', false],
    ['#', 'a', true],
    ['#', 'a/b/c', true],
    ['#', '/', true],
    ['a/#', 'a', true], // '#' matches the parent level [MQTT-4.7.1-1]
    ['a/#', 'a/', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'ab', false],
    ['a/#', 'b/a', false],
    ['a/b/#', 'a', false],
    ['+/#', 'a', true],
    ['+/+/#', 'a', false],
    ['/#', '/', true],
    ['/#', 'a', false],
    // [MQTT-4.7.2-1]
    ['#', '$SYS/x', false],
    ['#', '$SYS', false],
    ['+/x', '$SYS/x', false],
    ['+', '$x', false],
    ['+/#', '$SYS/a/b', false],
    ['$SYS/#', '$SYS/x', true],
    ['$SYS/#', '$SYS', true],
    ['$SYS/+', '$SYS/x', true],
    ['$SYS/+/y', '$SYS/x/y', true],
    ['#', 'a/$SYS', true],
    ['a/+', 'a/$x', true],
    ['+/$x', 'a/$x', true],
    ['#', '/$SYS', true],
  ] as const)('%j vs %j -> %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  /** Level-by-level reference matcher. */
  function referenceMatches(filter: string, topic: string): boolean {
    const f = filter.split('/');
    const t = topic.split('/');
    if (t[0]!.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
    for (let i = 0; ; i++) {
      if (i === f.length) return i === t.length;
      if (f[i] === '#') return true;
      if (i === t.length) return false;
      if (f[i] !== '+' && f[i] !== t[i]) return false;
    }
  }

  const topicLevel = fc.constantFrom('a', 'b', '', '$x', 'ab');
  const arbTopic = fc
    .array(topicLevel, { minLength: 1, maxLength: 5 })
    .map((ls) => ls.join('/'))
    .filter((t) => t !== '');
  const arbFilter = fc
    .tuple(fc.array(fc.constantFrom('a', 'b', '', '$x', '+'), { minLength: 0, maxLength: 5 }), fc.boolean())
    .map(([ls, hash]) => (hash ? [...ls, '#'] : ls).join('/'))
    .filter((f) => f !== '');

  it('agrees with a reference matcher (property)', () => {
    fc.assert(
      fc.property(arbFilter, arbTopic, (filter, topic) => {
        expect(() => validateTopicFilter(filter)).not.toThrow();
        expect(() => validateTopicName(topic)).not.toThrow();
        expect(topicMatches(filter, topic)).toBe(referenceMatches(filter, topic));
      }),
      { numRuns: 5000 },
    );
  });

  it('every topic matches itself, and "#" unless it starts with "$" (property)', () => {
    fc.assert(
      fc.property(arbTopic, (topic) => {
        expect(topicMatches(topic, topic)).toBe(true);
        expect(topicMatches('#', topic)).toBe(!topic.startsWith('$'));
      }),
    );
  });

  it('handles deep topics without recursion', () => {
    const deep = 'a/'.repeat(30000) + 'b';
    expect(topicMatches(deep, deep)).toBe(true);
    expect(topicMatches('a/'.repeat(30000) + '+', deep)).toBe(true);
    expect(topicMatches('a/#', deep)).toBe(true);
    expect(topicMatches('+/'.repeat(30000) + 'c', deep)).toBe(false);
  });
});

describe('isSysTopic', () => {
  it.each([
    ['$SYS', true],
    ['$SYS/', true],
    ['$SYS/broker/uptime', true],
    ['$SYSX', false],
    ['$SYSX/a', false],
    ['$sys/a', false],
    ['a/$SYS', false],
    ['SYS/a', false],
    ['', false],
  ] as const)('%j -> %s', (topic, expected) => {
    expect(isSysTopic(topic)).toBe(expected);
  });
});
