import { describe, expect, it } from 'vitest';
import { ConnectionRateGate, parseRate, TokenBucket, type HeldConnection } from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';

describe('parseRate', () => {
  it.each([
    ['1000/s', { amount: 1000, periodMs: 1000 }],
    ['10/m', { amount: 10, periodMs: 60_000 }],
    ['100/10s', { amount: 100, periodMs: 10_000 }],
    [' 5 / 500ms ', { amount: 5, periodMs: 500 }],
    ['1MB/s', { amount: 1024 * 1024, periodMs: 1000 }],
    ['64KB/s', { amount: 64 * 1024, periodMs: 1000 }],
    ['2h/h', undefined],
    [250, { amount: 250, periodMs: 1000 }],
  ] as const)('%j', (text, expected) => {
    if (expected === undefined) expect(() => parseRate(text)).toThrow(/expected a rate/);
    else expect(parseRate(text)).toEqual(expected);
  });

  it('infinity, 0 and absent mean no limit', () => {
    expect(parseRate('infinity')).toBeUndefined();
    expect(parseRate(0)).toBeUndefined();
    expect(parseRate('0/s')).toBeUndefined();
    expect(parseRate(undefined)).toBeUndefined();
  });

  it('refuses nonsense', () => {
    for (const bad of ['', 'fast', '10', '10/', '/s', '-1/s', '10/0s', '1/y']) expect(() => parseRate(bad), bad).toThrow();
    expect(() => parseRate(-1)).toThrow();
    expect(() => parseRate(Number.NaN)).toThrow();
  });
});

describe('TokenBucket', () => {
  it('starts full, refills continuously, never above one period', () => {
    const clock = new ManualClock();
    const b = new TokenBucket({ amount: 10, periodMs: 1000 }, () => clock.now());
    for (let i = 0; i < 10; i++) expect(b.tryTake()).toBe(true);
    expect(b.tryTake()).toBe(false);
    expect(b.msUntil(1)).toBe(100);
    clock.advance(250);
    expect(b.tryTake(2)).toBe(true);
    expect(b.tryTake(1)).toBe(false);
    clock.advance(60_000);
    expect(b.msUntil(10)).toBe(0);
    expect(b.msUntil(11)).toBe(100);
  });

  it('take() runs into debt and says how long it takes to pay', () => {
    const clock = new ManualClock();
    const b = new TokenBucket({ amount: 1000, periodMs: 1000 }, () => clock.now());
    expect(b.take(400)).toBe(0);
    expect(b.take(1600)).toBe(1000);
    clock.advance(1000);
    expect(b.take(0)).toBe(0);
    expect(b.tryTake()).toBe(false);
  });
});

describe('ConnectionRateGate', () => {
  function conn(log: string[], name: string): HeldConnection & { gone: boolean } {
    return { gone: false, admit: () => log.push(`admit ${name}`), drop: () => log.push(`drop ${name}`) };
  }

  it('admits within the rate, holds the rest in order, releases them as tokens come back', () => {
    const clock = new ManualClock();
    const gate = new ConnectionRateGate({ amount: 2, periodMs: 1000 }, 10, clock);
    const log: string[] = [];
    expect(['a', 'b', 'c', 'd'].map((n) => gate.offer(conn(log, n)))).toEqual(['admitted', 'admitted', 'held', 'held']);
    expect(log).toEqual(['admit a', 'admit b']);
    expect(gate.waiting).toBe(2);
    clock.advance(499);
    expect(log).toEqual(['admit a', 'admit b']);
    clock.advance(1);
    expect(log).toEqual(['admit a', 'admit b', 'admit c']);
    // A newcomer never overtakes the ones waiting.
    expect(gate.offer(conn(log, 'e'))).toBe('held');
    clock.advance(1000);
    expect(log).toEqual(['admit a', 'admit b', 'admit c', 'admit d', 'admit e']);
    expect(gate.waiting).toBe(0);
  });

  it('skips connections that went away, drops beyond maxHeld, drops all held on close', () => {
    const clock = new ManualClock();
    const gate = new ConnectionRateGate({ amount: 1, periodMs: 1000 }, 2, clock);
    const log: string[] = [];
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => conn(log, n)) as [ReturnType<typeof conn>, ReturnType<typeof conn>, ReturnType<typeof conn>, ReturnType<typeof conn>];
    expect([gate.offer(a), gate.offer(b), gate.offer(c), gate.offer(d)]).toEqual(['admitted', 'held', 'held', 'dropped']);
    b.gone = true;
    clock.advance(1000);
    expect(log).toEqual(['admit a', 'drop d', 'admit c']);
    const e = conn(log, 'e');
    expect(gate.offer(e)).toBe('held');
    gate.close();
    expect(log.at(-1)).toBe('drop e');
    expect(gate.offer(conn(log, 'f'))).toBe('dropped');
    clock.advance(10_000);
    expect(log).toEqual(['admit a', 'drop d', 'admit c', 'drop e', 'drop f']);
  });

  it('without a rate admits everything', () => {
    const gate = new ConnectionRateGate(undefined);
    const log: string[] = [];
    for (let i = 0; i < 1000; i++) expect(gate.offer(conn(log, String(i)))).toBe('admitted');
  });
});
