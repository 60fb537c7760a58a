import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RetainedIndex } from '../src/topic/retained-index.js';
import { topicMatches, validateTopicFilter } from '../src/topic/validate.js';

function matchTopics<V>(index: RetainedIndex<V>, filter: string): string[] {
  const out: string[] = [];
  index.match(filter, (topic) => out.push(topic));
  return out.sort();
}

const topicLevel = fc.constantFrom('a', 'b', '', '$x', 'ab', 'c');
const arbTopic = fc.array(topicLevel, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('/'));
const arbFilter = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '', '$x', '+'), { minLength: 0, maxLength: 5 }), fc.boolean())
  .map(([ls, hash]) => (hash ? [...ls, '#'] : ls).join('/'))
  .filter((f) => f !== '');

describe('RetainedIndex', () => {
  it('set/get/delete/size', () => {
    const index = new RetainedIndex<number>();
    expect(index.set('a/b', 1)).toBe(true);
    expect(index.set('a/b', 2)).toBe(false);
    expect(index.set('a', 3)).toBe(true);
    expect(index.size).toBe(2);
    expect(index.get('a/b')).toBe(2);
    expect(index.get('a')).toBe(3);
    expect(index.get('a/b/c')).toBeUndefined();
    expect(index.get('b')).toBeUndefined();
    expect(index.has('a')).toBe(true);
    expect(index.delete('a/b/c')).toBe(false);
    expect(index.delete('a')).toBe(true);
    expect(index.delete('a')).toBe(false);
    expect(index.get('a/b')).toBe(2);
    expect(index.size).toBe(1);
  });

  it('stores undefined and falsy values as present', () => {
    const index = new RetainedIndex<number | undefined>();
    expect(index.set('x', undefined)).toBe(true);
    expect(index.set('y', 0)).toBe(true);
    expect(index.has('x')).toBe(true);
    expect(index.size).toBe(2);
    expect(matchTopics(index, '#')).toEqual(['x', 'y']);
    expect(index.delete('x')).toBe(true);
  });

  it('keeps empty levels distinct', () => {
    const index = new RetainedIndex<string>();
    for (const t of ['a//b', '/a', 'a/', '/', 'a/b', 'a', '']) index.set(t, t);
    expect(index.size).toBe(7);
    for (const t of ['a//b', '/a', 'a/', '/', 'a/b', 'a', '']) expect(index.get(t)).toBe(t);
    expect(index.get('//')).toBeUndefined();
    expect(matchTopics(index, 'a/+/b')).toEqual(['a//b']);
    expect(matchTopics(index, 'a/+')).toEqual(['a/', 'a/b']);
    // '' is the parent level of '/#' (the topic '' is invalid on the wire but the index allows it).
    expect(matchTopics(index, '/#')).toEqual(['', '/', '/a']);
    expect(matchTopics(index, 'a/#')).toEqual(['a', 'a/', 'a//b', 'a/b']);
  });

  it('match: wildcards and the $ rule', () => {
    const index = new RetainedIndex<number>();
    const topics = ['a', 'a/b', 'a/b/c', 'a/c', 'b/b', '$SYS/x', '$SYS', '$x/b', 'x/$SYS'];
    topics.forEach((t, i) => index.set(t, i));
    expect(matchTopics(index, '#')).toEqual(['a', 'a/b', 'a/b/c', 'a/c', 'b/b', 'x/$SYS']);
    expect(matchTopics(index, '+')).toEqual(['a']);
    expect(matchTopics(index, '+/b')).toEqual(['a/b', 'b/b']);
    expect(matchTopics(index, '+/#')).toEqual(['a', 'a/b', 'a/b/c', 'a/c', 'b/b', 'x/$SYS']);
    expect(matchTopics(index, 'a/#')).toEqual(['a', 'a/b', 'a/b/c', 'a/c']);
    expect(matchTopics(index, '$SYS/#')).toEqual(['$SYS', '$SYS/x']);
    expect(matchTopics(index, '$SYS/+')).toEqual(['$SYS/x']);
    expect(matchTopics(index, '$x/+')).toEqual(['$x/b']);
    expect(matchTopics(index, 'x/+')).toEqual(['x/$SYS']);
    const values: number[] = [];
    index.match('a/b', (_t, v) => values.push(v));
    expect(values).toEqual([1]);
  });

  it('match only descends into matching branches', () => {
    // A wide subtree that a narrow filter must not walk: every Map lookup on its nodes is counted.
    const index = new RetainedIndex<number>();
    for (let i = 0; i < 2000; i++) index.set(`wide/${i}/leaf`, i);
    index.set('narrow/x/leaf', -1);
    let visits = 0;
    const out: number[] = [];
    const origValues = Map.prototype.values;
    const origIter = Map.prototype[Symbol.iterator];
    const origGet = Map.prototype.get;
    try {
      Map.prototype.values = function (this: Map<unknown, unknown>) {
        visits += this.size;
        return origValues.call(this);
      } as typeof origValues;
      Map.prototype[Symbol.iterator] = function (this: Map<unknown, unknown>) {
        visits += this.size;
        return origIter.call(this);
      } as typeof origIter;
      Map.prototype.get = function (this: Map<unknown, unknown>, k: unknown) {
        visits++;
        return origGet.call(this, k);
      };
      index.match('narrow/+/leaf', (_t, v) => out.push(v));
      index.match('narrow/#', (_t, v) => out.push(v));
    } finally {
      Map.prototype.values = origValues;
      Map.prototype[Symbol.iterator] = origIter;
      Map.prototype.get = origGet;
    }
    expect(out).toEqual([-1, -1]);
    expect(visits).toBeLessThan(20);
  });

  it('entries() yields every pair once', () => {
    const index = new RetainedIndex<number>();
    const topics = ['a', 'a/b', '/', '', '$SYS/x'];
    topics.forEach((t, i) => index.set(t, i));
    const entries = [...index.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    expect(entries).toEqual(topics.map((t, i) => [t, i] as [string, number]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    expect([...index].length).toBe(5);
  });

  it('delete prunes nodes left empty', () => {
    const index = new RetainedIndex<number>();
    index.set('a/b/c/d', 1);
    expect(index.nodeCount()).toBe(4);
    index.set('a/b', 2);
    expect(index.nodeCount()).toBe(4);
    expect(index.delete('a/b/c/d')).toBe(true);
    expect(index.nodeCount()).toBe(2); // a, a/b still holds a value
    expect(index.delete('a/b/c')).toBe(false);
    expect(index.nodeCount()).toBe(2);
    expect(index.delete('a/b')).toBe(true);
    expect(index.nodeCount()).toBe(0);
    expect(index.size).toBe(0);
    expect(index.get('a')).toBeUndefined();
    expect(matchTopics(index, '#')).toEqual([]);
  });

  it('handles very deep topics without recursion', () => {
    const index = new RetainedIndex<number>();
    const deep = 'a/'.repeat(30000) + 'b';
    index.set(deep, 1);
    index.set('a', 2);
    expect(index.get(deep)).toBe(1);
    expect(matchTopics(index, 'a/#')).toHaveLength(2);
    expect(matchTopics(index, '+/'.repeat(30000) + 'b')).toEqual([deep]);
    expect([...index.entries()]).toHaveLength(2);
    expect(index.delete(deep)).toBe(true);
    expect(index.nodeCount()).toBe(1);
  });

  it('match returns exactly the topics topicMatches accepts (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(arbTopic, { maxLength: 30 }), arbFilter, (topics, filter) => {
        validateTopicFilter(filter);
        const index = new RetainedIndex<string>();
        for (const t of topics) index.set(t, t);
        const got: string[] = [];
        index.match(filter, (topic, value) => {
          expect(value).toBe(topic);
          got.push(topic);
        });
        expect(got.sort()).toEqual(topics.filter((t) => topicMatches(filter, t)).sort());
      }),
      { numRuns: 3000 },
    );
  });

  it('behaves like a Map under random set/delete sequences and prunes to zero nodes (property)', () => {
    const arbOp = fc.record({ op: fc.constantFrom('set', 'delete'), topic: arbTopic, value: fc.integer() });
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 60 }), arbFilter, (ops, filter) => {
        const index = new RetainedIndex<number>();
        const model = new Map<string, number>();
        for (const { op, topic, value } of ops) {
          if (op === 'set') {
            expect(index.set(topic, value)).toBe(!model.has(topic));
            model.set(topic, value);
          } else {
            expect(index.delete(topic)).toBe(model.delete(topic));
          }
          expect(index.size).toBe(model.size);
        }
        for (const [t, v] of model) expect(index.get(t)).toBe(v);
        expect(new Map(index.entries())).toEqual(model);
        expect(matchTopics(index, filter)).toEqual([...model.keys()].filter((t) => topicMatches(filter, t)).sort());
        for (const t of [...model.keys()]) expect(index.delete(t)).toBe(true);
        expect(index.size).toBe(0);
        expect(index.nodeCount()).toBe(0);
        expect([...index.entries()]).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });
});
