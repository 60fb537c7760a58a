import { SubscriptionIndex } from '@junction/broker-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLevel, encodeLevel, filterToSubjects, subjectToTopic, SubjectDecodeError, topicToSubject } from '../src/index.js';

const P = 'junction';

/** NATS subject matching as the server does it: `*` one token, `>` one or more at the end. */
function natsMatch(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** MQTT matching by the core's own subscription index. */
function mqttMatch(filter: string, topic: string): boolean {
  const index = new SubscriptionIndex<string>();
  index.add(filter, 's', { qos: 0 });
  let hit = false;
  index.match(topic, { sub: () => (hit = true), shared: () => {} });
  return hit;
}

/** A NATS token is non-empty, without `.`, whitespace, or a bare wildcard. */
function validToken(t: string): boolean {
  return t.length > 0 && !/[.\s]/.test(t) && t !== '*' && t !== '>' && /^[\x21-\x7e]+$/.test(t);
}

// Levels drawn from a small alphabet so that random filters and topics often match, plus the
// characters NATS cares about and non-ASCII.
const level = fc.string({ unit: fc.constantFrom('a', 'b', '.', ' ', '$', '*', '>', '_', 'é', '😀', '-', '\t'), maxLength: 3 });
const topic = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join('/'));
const filter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant('+')), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([l, hash]) => (hash ? [...l, '#'] : l).join('/'))
  .filter((f) => f.length > 0);

describe('topic <-> subject encoding', () => {
  it.each([
    ['a/b', 'junction.t.a.b'],
    ['a.b/c d', 'junction.t.a_2Eb.c_20d'],
    ['/a//', 'junction.t._.a._._'],
    ['$SYS/x', 'junction.d._24SYS.x'],
    ['*/>', 'junction.t._2A._3E'],
    ['_', 'junction.t._5F'],
    ['ü', 'junction.t._C3_BC'],
  ])('%j is %s', (t, subject) => {
    expect(topicToSubject(P, t)).toBe(subject);
    expect(subjectToTopic(P, subject)).toBe(t);
  });

  it.each([
    ['a/+/c', ['junction.t.a.*.c']],
    ['#', ['junction.t.>']],
    ['a/#', ['junction.t.a.>', 'junction.t.a']],
    ['+/#', ['junction.t.*.>', 'junction.t.*']],
    ['$SYS/#', ['junction.d._24SYS.>', 'junction.d._24SYS']],
    ['/+', ['junction.t._.*']],
  ])('filter %j subscribes %j', (f, subjects) => {
    expect(filterToSubjects(P, f)).toEqual(subjects);
  });

  it('round-trips every topic, and every token is a valid NATS token (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 6 }), { minLength: 1, maxLength: 5 }), (levels) => {
        const t = levels.join('/');
        const subject = topicToSubject(P, t);
        expect(subjectToTopic(P, subject)).toBe(t);
        for (const token of subject.split('.')) expect(validToken(token), token).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('a filter subject matches exactly the topics the MQTT filter matches (property)', () => {
    fc.assert(
      fc.property(filter, topic, (f, t) => {
        const subject = topicToSubject(P, t);
        const nats = filterToSubjects(P, f).some((s) => natsMatch(s, subject));
        expect(nats, `${f} vs ${t}`).toBe(mqttMatch(f, t));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses subjects no topic encodes to', () => {
    expect(() => subjectToTopic(P, 'other.t.a')).toThrow(SubjectDecodeError);
    expect(() => subjectToTopic(P, 'junction.x.a')).toThrow(SubjectDecodeError);
    expect(() => subjectToTopic(P, 'junction.t._24a')).toThrow(SubjectDecodeError);
    expect(() => decodeLevel('a_zz')).toThrow(SubjectDecodeError);
    expect(encodeLevel('plain-Level9')).toBe('plain-Level9');
  });
});
