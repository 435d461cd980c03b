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

/** Real time: `performance.now()` and Node's timers. Timers do not keep the process alive on their own. */
export class SystemClock implements Clock {
  static readonly instance = new SystemClock();

  now(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    handle.unref();
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  }

  setKeepAlive(handle: TimerHandle, keepAlive: boolean): void {
    if (keepAlive) (handle as NodeJS.Timeout).ref();
    else (handle as NodeJS.Timeout).unref();
  }
}
