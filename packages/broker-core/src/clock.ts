/** Time, injected so tests can drive timers without sleeping. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The system clock. `now()` reads Date.now() once per task: the calls of one callback (a socket
 * read with its messages, a timer) share that reading, which is read again after the next
 * microtask checkpoint. The publish path asks for the time several times per message.
 */
export const systemClock: Clock = {
  now: () => {
    if (!nowValid) {
      cachedNow = Date.now();
      nowValid = true;
      queueMicrotask(invalidateNow);
    }
    return cachedNow;
  },
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

let cachedNow = 0;
let nowValid = false;
function invalidateNow(): void {
  nowValid = false;
}
