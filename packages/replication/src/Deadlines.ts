// Timeouts that all last the same: one timer for all of them instead of one each. A replicated write that waits
// for its backups gets a timeout; creating and cancelling a timer per write was a visible part of its cost (and, at
// one write at a time, of its latency). With one duration, deadlines come in the order they are added, so a queue
// holds them and one timer, armed for the earliest, serves it; a cancelled one stays until it reaches the head.

import type { Clock, TimerHandle } from '@casty/core';

/** A pending deadline: `cancel` it (Deadlines.cancel) when what it guards is done. */
export interface Deadline {
  readonly at: number;
  readonly expire: () => void;
  done: boolean;
}

export class Deadlines {
  private readonly queue: Deadline[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;

  constructor(private readonly clock: Clock, private readonly delayMs: number) {}

  /** `expire` runs once `delayMs` from now, unless cancelled before. */
  add(expire: () => void): Deadline {
    const deadline: Deadline = { at: this.clock.now() + this.delayMs, expire, done: false };
    this.queue.push(deadline);
    // a timer already armed fires no later than this deadline (all last the same): it re-arms for what is left
    this.timer ??= this.clock.setTimeout(() => this.run(), this.delayMs);
    return deadline;
  }

  cancel(deadline: Deadline): void {
    deadline.done = true;
    this.skipDone();
  }

  /** Deadlines not yet expired nor cancelled, and cancelled ones still queued behind a pending one. */
  get size(): number {
    return this.queue.length - this.head;
  }

  private run(): void {
    this.timer = undefined;
    const now = this.clock.now();
    while (this.head < this.queue.length && this.queue[this.head]!.at <= now) {
      const deadline = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Deadline;
      if (deadline.done) continue;
      deadline.done = true;
      deadline.expire();
    }
    this.skipDone();
    if (this.head < this.queue.length) this.timer = this.clock.setTimeout(() => this.run(), this.queue[this.head]!.at - now);
  }

  /** Drops the cancelled deadlines at the head, and compacts the queue once most of it is behind the head. */
  private skipDone(): void {
    while (this.head < this.queue.length && this.queue[this.head]!.done) this.queue[this.head++] = undefined as unknown as Deadline;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
