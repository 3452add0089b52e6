/**
 * Time for the login core: `now` for the state machine and `setTimer` for the expiry a waiting
 * page is told about. Injected, so unit tests run in milliseconds and e2e tests move time on
 * instead of sleeping through a QR's life.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once, `ms` from now by this clock. Returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
};

export interface TestClock extends Clock {
  /** Moves time forward and fires every timer that is now due. */
  advance(ms: number): void;
}

/**
 * A clock tests control. `frozen`: time moves only on `advance` (unit tests). Otherwise it is
 * real time plus whatever was advanced, and timers also fire on their own (a running provider).
 */
export function createTestClock(opts: { frozen?: boolean; start?: number } = {}): TestClock {
  const start = opts.start ?? Date.now();
  let offset = 0;
  const now = () => (opts.frozen ? start : Date.now()) + offset;
  const timers = new Set<{ due: number; fn: () => void; real?: NodeJS.Timeout }>();

  function fire(timer: { due: number; fn: () => void; real?: NodeJS.Timeout }) {
    if (!timers.delete(timer)) return;
    clearTimeout(timer.real);
    timer.fn();
  }
  function arm(timer: { due: number; fn: () => void; real?: NodeJS.Timeout }) {
    if (opts.frozen) return;
    // Real time may reach `due` before an advance does; re-arm if an advance has not moved it.
    timer.real = setTimeout(() => (now() >= timer.due ? fire(timer) : arm(timer)), Math.max(0, timer.due - now()));
  }

  return {
    now,
    setTimer(fn, ms) {
      const timer = { due: now() + Math.max(0, ms), fn };
      timers.add(timer);
      arm(timer);
      return () => {
        timers.delete(timer);
        clearTimeout((timer as { real?: NodeJS.Timeout }).real);
      };
    },
    advance(ms) {
      offset += ms;
      const t = now();
      for (const timer of [...timers].sort((a, b) => a.due - b.due)) if (timer.due <= t) fire(timer);
    },
  };
}
