import { expect, it } from 'vitest';
import { systemClock } from '../src/index.js';

it('systemClock.now() reads the time once per task and again after a microtask checkpoint', async () => {
  const first = systemClock.now();
  // Busy for a few milliseconds in one task: the same reading.
  const until = Date.now() + 5;
  while (Date.now() < until);
  expect(systemClock.now()).toBe(first);
  await new Promise((r) => setTimeout(r, 5));
  const later = systemClock.now();
  expect(later).toBeGreaterThanOrEqual(first + 5);
  // A microtask checkpoint alone refreshes it too.
  const spin = Date.now() + 3;
  while (Date.now() < spin);
  await Promise.resolve();
  expect(systemClock.now()).toBeGreaterThan(later);
});
