// Runs ready actors. Actors with queued messages wait in one run queue, drained in a microtask; each gets
// up to `throughput` messages per turn (fairness). Every message processed, by this loop or by an actor
// resuming after an async receive, is charged to a budget that resets once the event loop turns; when it
// runs out, work continues from setImmediate, so I/O and timers are never starved by busy actors. The budget
// is also one of time: actors look at the clock every few messages, and a turn that has run TURN_TIME_MS is
// over, so an actor that spends milliseconds of CPU on each message (whose count budget would last seconds)
// still lets the event loop answer its network peers (failure-detector probes among them) in time.

/** Something with messages to process. */
export interface Runnable {
  /** Processes up to `max` messages; returns how many it took. Re-schedules itself if more remain. */
  runBatch(max: number): number;
}

/** Milliseconds of message processing after which the event loop gets a turn, whatever the count. */
export const TURN_TIME_MS = 10;
/** Messages an actor processes between two looks at the time (a power of two, used as a mask). */
export const MESSAGES_PER_TIME_CHECK = 8;

// `Promise.then` costs about a third of `queueMicrotask`, which Node wraps in an async resource per call.
const RESOLVED_TURN: Promise<void> = Promise.resolve();

export class Dispatcher {
  private ready: Runnable[] = [];
  private head = 0;
  private tail = 0;
  private scheduled = false;
  /** Messages processed since the event loop last turned. */
  private spent = 0;
  /** Messages processed since the system started (read by runtimeStats: management, metrics). */
  processedTotal = 0;
  private resetPending = false;
  /** Messages processed by run() since it last looked at the time. */
  private sinceTimeCheck = 0;
  /** performance.now() when this turn's work began, or -1 before it did. */
  private turnStartedAt = -1;
  private readonly runFn = (): void => this.run();
  private readonly resetFn = (): void => {
    this.spent = 0;
    this.resetPending = false;
    this.turnStartedAt = -1;
  };

  constructor(
    /** Messages one actor may process before the next ready actor gets a turn. */
    readonly throughput: number,
    /** Messages processed before the event loop must get a turn. */
    private readonly turnBudget: number,
  ) {}

  schedule(actor: Runnable): void {
    this.ready[this.tail++] = actor;
    if (!this.scheduled) {
      this.scheduled = true;
      if (this.spent < this.turnBudget) void RESOLVED_TURN.then(this.runFn);
      else setImmediate(this.runFn);
    }
  }

  /** True while the current event-loop turn still has budget for an actor to go on inline. */
  get hasBudget(): boolean {
    return this.spent < this.turnBudget;
  }

  /** Marks the start of work in this turn (once per turn), so `outOfTime` can tell how long it has run. */
  beginWork(): void {
    if (this.turnStartedAt >= 0) return;
    this.turnStartedAt = performance.now();
    if (!this.resetPending) {
      this.resetPending = true;
      setImmediate(this.resetFn);
    }
  }

  /** True once this turn has run TURN_TIME_MS; it then ends the turn's budget, so the rest waits for setImmediate. */
  outOfTime(): boolean {
    if (performance.now() - this.turnStartedAt < TURN_TIME_MS) return false;
    this.spent = this.turnBudget;
    return true;
  }

  /** Counts `processed` messages against the current turn's budget. */
  charge(processed: number): void {
    this.spent += processed;
    this.processedTotal += processed;
    if (!this.resetPending) {
      this.resetPending = true;
      setImmediate(this.resetFn);
    }
  }

  private run(): void {
    const ready = this.ready;
    while (this.head < this.tail) {
      const actor = ready[this.head]!;
      ready[this.head] = undefined as unknown as Runnable;
      this.head++;
      const processed = actor.runBatch(this.throughput);
      this.charge(processed);
      // Every few messages over all actors, a look at the time too: each actor looks every MESSAGES_PER_TIME_CHECK of
      // its own, so many actors with a message each (a region stopping its entities for a hand-off, each capturing its
      // state) never did, and a node's loop stalled 100-150 ms with its quorum pings unanswered.
      this.sinceTimeCheck += processed;
      if (this.sinceTimeCheck >= MESSAGES_PER_TIME_CHECK) {
        this.sinceTimeCheck = 0;
        if (this.turnStartedAt >= 0) this.outOfTime();
      }
      if (this.spent >= this.turnBudget && this.head < this.tail) {
        this.ready = ready.slice(this.head, this.tail);
        this.tail -= this.head;
        this.head = 0;
        setImmediate(this.runFn);
        return;
      }
    }
    // a fresh array rather than `length = 0`, which makes V8 trim the backing store in a slow runtime call
    if (ready.length > 1024) this.ready = [];
    this.head = 0;
    this.tail = 0;
    this.scheduled = false;
  }
}
