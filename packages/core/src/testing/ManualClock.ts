// A clock that moves only when told to, so tests and simulations control time exactly
// (xstate's SimulatedClock, pekko's ManualTime).

import type { Clock, TimerHandle } from '../Clock';

interface Scheduled {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** A Clock whose time advances only through `advance()` / `runAll()`; timers fire in time order, then id order. */
export class ManualClock implements Clock {
  private time: number;
  private nextId = 1;
  private readonly pending = new Map<number, Scheduled>();

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { id, at: this.time + Math.max(0, delayMs), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }

  /** Number of timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.pending.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order, each at its own time.
   * Between timers it lets queued promise callbacks run, so actors react before the next timer fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.earliest();
      if (next === undefined || next.at > target) break;
      this.pending.delete(next.id);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = target;
    await flushMicrotasks();
  }

  /** Fires timers until none is left, moving time to each; stops after `limit` firings (a runaway guard). */
  async runAll(limit = 10_000): Promise<void> {
    for (let fired = 0; fired < limit; fired++) {
      await flushMicrotasks();
      const next = this.earliest();
      if (next === undefined) return;
      this.pending.delete(next.id);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    throw new Error(`ManualClock.runAll fired ${limit} timers and more remain; a timer reschedules itself forever`);
  }

  private earliest(): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const s of this.pending.values()) {
      if (best === undefined || s.at < best.at || (s.at === best.at && s.id < best.id)) best = s;
    }
    return best;
  }
}

/** Lets every promise callback queued so far (and those they queue) run, by yielding to the macrotask queue. */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
