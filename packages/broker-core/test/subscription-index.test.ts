import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SubscriptionIndex, topicMatches } from '../src/index.js';

const level = fc.constantFrom('a', 'b', '', '$x');
const topicArb = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join('/'));
const filterArb = fc
  .array(fc.constantFrom('a', 'b', '', '$x', '+'), { minLength: 1, maxLength: 4 })
  .chain((l) => fc.boolean().map((hash) => (hash ? [...l.slice(0, -1), '#'] : l).join('/')));

function collect(index: SubscriptionIndex<string>, topic: string): string[] {
  const out: string[] = [];
  index.match(topic, { sub: (s) => out.push(s), shared: (g) => out.push(`${g.name}:${g.members.join(',')}`) });
  return out.sort();
}

describe('SubscriptionIndex', () => {
  it('matches exactly the filters topicMatches accepts', () => {
    fc.assert(
      fc.property(fc.uniqueArray(filterArb, { maxLength: 12 }), topicArb, (filters, topic) => {
        const index = new SubscriptionIndex<string>();
        for (const f of filters) index.add(f, f, { qos: 0 });
        expect(collect(index, topic)).toEqual(filters.filter((f) => topicMatches(f, topic)).sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('removes subscriptions and prunes, reporting existence', () => {
    fc.assert(
      fc.property(fc.uniqueArray(filterArb, { maxLength: 12 }), topicArb, (filters, topic) => {
        const index = new SubscriptionIndex<string>();
        for (const f of filters) expect(index.add(f, f, { qos: 0 })).toBe(true);
        for (const f of filters) expect(index.add(f, f, { qos: 1 })).toBe(false);
        for (const f of filters) expect(index.remove(f, f)).toBe(true);
        for (const f of filters) expect(index.remove(f, f)).toBe(false);
        expect(index.size).toBe(0);
        expect(collect(index, topic)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('answers repeated matches (its match cache) as a fresh index would, across random adds and removes', () => {
    const op = fc.record({ add: fc.boolean(), filter: filterArb, who: fc.constantFrom('s1', 's2', 's3'), group: fc.constantFrom(undefined, 'g', 'h') });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.uniqueArray(topicArb, { minLength: 1, maxLength: 6 }), (ops, topics) => {
        const index = new SubscriptionIndex<string>();
        const model = new Map<string, { filter: string; who: string; group?: string }>();
        for (const o of ops) {
          const key = `${o.filter}\u0000${o.who}\u0000${o.group ?? ''}`;
          if (o.add) {
            index.add(o.filter, o.who, { qos: 0 }, o.group);
            model.set(key, o);
          } else {
            expect(index.remove(o.filter, o.who, o.group)).toBe(model.delete(key));
          }
          // Every topic matched after every change: stale cached matches would show here.
          for (const topic of topics) {
            const fresh = new SubscriptionIndex<string>();
            for (const m of model.values()) fresh.add(m.filter, m.who, { qos: 0 }, m.group);
            expect(collect(index, topic)).toEqual(collect(fresh, topic));
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('matches long topic names (not cached) after changes as well', () => {
    const index = new SubscriptionIndex<string>();
    const long = `${'x'.repeat(300)}/y`;
    index.add('+/y', 'a', { qos: 0 });
    expect(collect(index, long)).toEqual(['a']);
    index.add('#', 'b', { qos: 0 });
    expect(collect(index, long)).toEqual(['a', 'b']);
    index.remove('+/y', 'a');
    expect(collect(index, long)).toEqual(['b']);
  });

  it('keeps shared groups per filter and drops empty groups', () => {
    const index = new SubscriptionIndex<string>();
    index.add('t/+', 'a', { qos: 0 }, 'g');
    index.add('t/+', 'b', { qos: 0 }, 'g');
    index.add('t/+', 'c', { qos: 0 }, 'h');
    expect(collect(index, 't/1')).toEqual(['g:a,b', 'h:c']);
    index.remove('t/+', 'c', 'h');
    index.remove('t/+', 'a', 'g');
    expect(collect(index, 't/1')).toEqual(['g:b']);
    expect(index.size).toBe(1);
  });
});
