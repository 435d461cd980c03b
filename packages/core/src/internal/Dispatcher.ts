// Runs ready actors. Actors with queued messages wait in one run queue, drained in a microtask; each gets
// up to `throughput` messages per turn (fairness), and after `turnBudget` messages the dispatcher yields to
// the event loop with setImmediate so I/O and timers are never starved by a busy actor.

/** Something with messages to process. */
export interface Runnable {
  /** Processes up to `max` messages; returns how many it took. Re-schedules itself if more remain. */
  runBatch(max: number): number;
}

export class Dispatcher {
  private ready: Runnable[] = [];
  private head = 0;
  private scheduled = false;
  private readonly runFn = (): void => this.run();

  constructor(
    /** Messages one actor may process before the next ready actor gets a turn. */
    readonly throughput: number,
    /** Messages processed in one microtask turn before yielding to the event loop. */
    private readonly turnBudget: number,
  ) {}

  schedule(actor: Runnable): void {
    this.ready.push(actor);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.runFn);
    }
  }

  private run(): void {
    let budget = this.turnBudget;
    const ready = this.ready;
    while (this.head < ready.length) {
      const actor = ready[this.head]!;
      ready[this.head] = undefined as unknown as Runnable;
      this.head++;
      budget -= actor.runBatch(this.throughput);
      if (budget <= 0 && this.head < ready.length) {
        this.ready = ready.slice(this.head);
        this.head = 0;
        setImmediate(this.runFn);
        return;
      }
    }
    ready.length = 0;
    this.head = 0;
    this.scheduled = false;
  }
}
