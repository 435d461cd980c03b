// The one source of time for the runtime. Everything that waits (ask timeouts, restart backoff, timers,
// restart windows) asks a Clock, so tests and simulations advance time with a ManualClock instead of sleeping.

/** An opaque handle for a scheduled callback. */
export type TimerHandle = unknown;

/** Time and timers. `now()` is in milliseconds; delays are in milliseconds. */
export interface Clock {
  /** Milliseconds on a monotonic scale (not wall-clock time). */
  now(): number;
  /** Runs `fn` once after `delayMs` milliseconds. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  /** Cancels a callback scheduled with `setTimeout`; unknown or spent handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Whether a pending timer keeps the process alive (timers start not keeping it alive). Pending asks use
   * this so `await ref.ask(...)` in a script waits for its reply or timeout instead of the process exiting.
   */
  setKeepAlive?(handle: TimerHandle, keepAlive: boolean): void;
}

/**
 * The longest delay one Node timer takes (2^31 - 1 ms, about 24.8 days): Node runs a longer one after 1 ms,
 * with a TimeoutOverflowWarning. Ask timeouts are bounded by it; SystemClock chains timers to go past it.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** A SystemClock timer longer than MAX_TIMER_DELAY_MS: a chain of Node timers, each at most that long. */
class LongTimer {
  current: NodeJS.Timeout;
  keepAlive = false;

  constructor(private readonly fn: () => void, private readonly dueAt: number) {
    this.current = this.arm();
  }

  private arm(): NodeJS.Timeout {
    const remaining = this.dueAt - performance.now();
    const handle = remaining > MAX_TIMER_DELAY_MS
      ? setTimeout(() => (this.current = this.arm()), MAX_TIMER_DELAY_MS)
      : setTimeout(this.fn, Math.max(0, remaining));
    if (!this.keepAlive) handle.unref();
    return handle;
  }
}

/**
 * Real time: `performance.now()` and Node's timers. Timers do not keep the process alive on their own. A delay
 * over MAX_TIMER_DELAY_MS (which Node would run after 1 ms) is kept by chaining timers; an infinite one never fires.
 */
export class SystemClock implements Clock {
  static readonly instance = new SystemClock();

  now(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    if (delayMs > MAX_TIMER_DELAY_MS) return new LongTimer(fn, performance.now() + delayMs);
    const handle = setTimeout(fn, delayMs > 0 ? delayMs : 0); // NaN as 0, like a negative delay
    handle.unref();
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle instanceof LongTimer ? handle.current : handle as NodeJS.Timeout);
  }

  setKeepAlive(handle: TimerHandle, keepAlive: boolean): void {
    let timer = handle as NodeJS.Timeout;
    if (handle instanceof LongTimer) {
      handle.keepAlive = keepAlive;
      timer = handle.current;
    }
    if (keepAlive) timer.ref();
    else timer.unref();
  }
}
