// A FIFO of callbacks run on a later turn of the event loop, in order. Used where a frame must be delivered
// asynchronously (a node sending to itself, the in-memory network) so a handler never runs inside `send`.
// The turn is the event loop's (setImmediate) unless another scheduler is given, such as a zero-delay timer
// on a ManualClock, which lets a simulation deliver frames without yielding to the event loop.

export class AsyncFifo {
  private items: Array<() => void> = [];
  private scheduled = false;

  /** @param schedule runs its argument on a later turn; default setImmediate. */
  constructor(private readonly schedule: (fn: () => void) => void = setImmediate) {}

  /** Number of callbacks waiting. */
  get size(): number {
    return this.items.length;
  }

  /** Runs `fn` after the current tick, after every callback pushed before it. */
  push(fn: () => void): void {
    this.items.push(fn);
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.drain());
  }

  /** Forgets every waiting callback. */
  clear(): void {
    this.items = [];
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.items;
    this.items = [];
    for (const fn of batch) fn();
  }
}
