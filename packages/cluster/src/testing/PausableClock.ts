// PausableClock: one node's view of a shared clock that can be paused, as a process is by SIGSTOP. While paused,
// the node's timers that fall due wait; `resume` runs them then, overdue, in the order they fell due (as Node runs
// overdue timers when a stopped process continues). Time itself goes on: `now()` is the shared clock's.

import type { Clock, TimerHandle } from '@casty/core';

interface PausableTimer {
  inner: TimerHandle | undefined;
  cancelled: boolean;
  keepAlive: boolean;
}

export class PausableClock implements Clock {
  private paused = false;
  private readonly overdue: Array<{ readonly timer: PausableTimer; readonly fn: () => void }> = [];

  constructor(private readonly shared: Clock) {}

  now(): number {
    return this.shared.now();
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer: PausableTimer = { inner: undefined, cancelled: false, keepAlive: false };
    timer.inner = this.shared.setTimeout(() => {
      timer.inner = undefined;
      if (timer.cancelled) return;
      if (this.paused) this.overdue.push({ timer, fn });
      else fn();
    }, delayMs);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as PausableTimer;
    if (timer === undefined || timer === null || typeof timer !== 'object') return;
    timer.cancelled = true;
    if (timer.inner !== undefined) this.shared.clearTimeout(timer.inner);
  }

  setKeepAlive(handle: TimerHandle, keepAlive: boolean): void {
    const timer = handle as PausableTimer;
    timer.keepAlive = keepAlive;
    if (timer.inner !== undefined) this.shared.setKeepAlive?.(timer.inner, keepAlive);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** From now on, timers that fall due wait for `resume`. */
  pause(): void {
    this.paused = true;
  }

  /** Runs the timers that fell due while paused, in order (each sees the time now: late), then runs normally. */
  resume(): void {
    this.paused = false;
    const due = this.overdue.splice(0);
    for (const { timer, fn } of due) if (!timer.cancelled) fn();
  }
}
