// An actor's queue: an array with a moving head (amortised O(1) push and shift, compacted as it drains).
// Bounded mailboxes apply their overflow policy in ActorCell, which reports what was dropped.

/** A FIFO of queued messages or envelopes. */
export class Mailbox {
  private items: unknown[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: unknown): void {
    this.items.push(item);
  }

  /** Removes and returns the oldest item; call only when size > 0. */
  shift(): unknown {
    const items = this.items;
    const item = items[this.head];
    items[this.head] = undefined;
    this.head++;
    if (this.head === items.length) {
      // drained: a fresh array (an idle actor keeps no capacity; `length = 0` would cost a V8 trim call)
      this.items = [];
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns every queued item, oldest first. */
  takeAll(): unknown[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}
