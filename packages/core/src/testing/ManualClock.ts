// A clock that moves only when told to, so tests and simulations control time exactly
// (xstate's SimulatedClock, pekko's ManualTime).

import type { Clock, TimerHandle } from '../Clock';

interface Scheduled {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A Clock whose time advances only through `advance()` / `runAll()`; timers fire in time order, then in the
 * order they were set. Timers live in a binary heap (cancelled ones are skipped when they surface), so a
 * simulation of a thousand nodes with a timer each stays cheap.
 */
export class ManualClock implements Clock {
  private time: number;
  private nextId = 1;
  private readonly heap: Scheduled[] = [];
  private readonly live = new Set<number>();

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.push({ id, at: this.time + Math.max(0, delayMs), fn });
    this.live.add(id);
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.live.delete(handle as number);
  }

  /** Number of timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.live.size;
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
      this.fire(next);
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
      this.fire(next);
    }
    throw new Error(`ManualClock.runAll fired ${limit} timers and more remain; a timer reschedules itself forever`);
  }

  /**
   * Fires, without yielding between them, every timer due within `ms` (for simulations whose timer callbacks
   * do not need promise callbacks to run in between); far faster than `advance` with many timers.
   */
  advanceSync(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.at > target) break;
      this.fire(next);
    }
    this.time = target;
  }

  private fire(next: Scheduled): void {
    this.pop();
    this.live.delete(next.id);
    this.time = Math.max(this.time, next.at);
    next.fn();
  }

  /** The earliest live timer, dropping cancelled ones from the top of the heap. */
  private earliest(): Scheduled | undefined {
    while (this.heap.length > 0 && !this.live.has(this.heap[0]!.id)) this.pop();
    return this.heap[0];
  }

  private push(item: Scheduled): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}

/** Lets every promise callback queued so far (and those they queue) run, by yielding to the macrotask queue. */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
