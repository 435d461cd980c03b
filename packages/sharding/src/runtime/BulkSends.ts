// Big messages to other nodes' regions (a hand-off's states, replica batches, the answers of a restore), sent in
// order per node, each when that node's outbound queue has room for it (RemoteMessaging.roomFor: half the queue).
// A node joining a cluster whose shards hold gigabytes of state gets it as fast as its connection takes it, and
// the other half of the queue stays free for the messages around it (a HandOffDone, acks, users' messages): sent
// at once, bulk transfers filled the queue and those failed with TransportBackpressureError.

import type { ActorRef, Clock, TimerHandle } from '@casty/core';
import type { NodeId } from '@casty/cluster';

interface Waiting {
  readonly ref: ActorRef<unknown>;
  readonly bytes: number;
  readonly run: () => void;
}

/** How often a node's waiting bulk messages look again for room, in milliseconds. */
const RETRY_MS = 1;
/**
 * About the most bytes sent in one turn of the event loop (at least one message goes): the rest waits for the next
 * look (RETRY_MS). Each send encodes and copies its message now; a join's fills and hand-offs sent as much as half
 * the outbound queue (16 MiB) in one turn, a node's loop then stalled for up to 0.6 s on 2 cores, its members'
 * pings went unanswered and they lost quorum (split-brain protection) in the middle of the transfer.
 */
const TURN_BYTES = 2 * 1024 * 1024;

/** Bytes sent before the turn's count needs a timer to set it back (see spend). */
const COUNTED_BYTES = 64 * 1024;

export class BulkSends {
  /** Per node, what waits for room, in order (a node without waiting messages has no entry). */
  private readonly waiting = new Map<NodeId, Waiting[]>();
  private timer: TimerHandle | undefined;
  private waitingBytes = 0;
  /** Bytes sent in this turn (see TURN_BYTES); set back to 0 by a timer once the turn is over. */
  private turnBytes = 0;
  private turnTimer: TimerHandle | undefined;

  constructor(private readonly clock: Clock, private readonly roomFor: (ref: ActorRef<unknown>, bytes: number) => boolean) {}

  /**
   * Sends `msg` (about `bytes` long) to `ref`, a region on `nodeId`: now when nothing waits for that node and its
   * queue has room, else after what waits. `failed` gets an error of the send (it is not thrown).
   */
  send(nodeId: NodeId, ref: ActorRef<unknown>, msg: unknown, bytes: number, failed: (error: unknown) => void): void {
    const run = (): void => {
      try {
        ref.send(msg).catch(failed);
      } catch (error) {
        failed(error);
      }
    };
    const queue = this.waiting.get(nodeId);
    if (queue === undefined && this.turnBytes < TURN_BYTES && this.roomFor(ref, bytes)) {
      this.spend(bytes);
      run();
      return;
    }
    this.wait(nodeId, { ref, bytes, run });
  }

  /**
   * Counts `bytes` sent in this turn. The timer that sets the count back is armed once it reaches COUNTED_BYTES:
   * armed per turn, it cost a timer, and a wake-up of the process 1 ms later, for every replicated write sent alone.
   * Below that, the count carries over (at most COUNTED_BYTES of TURN_BYTES).
   */
  private spend(bytes: number): void {
    this.turnBytes += bytes;
    if (this.turnBytes < COUNTED_BYTES) return;
    this.turnTimer ??= this.clock.setTimeout(() => {
      this.turnTimer = undefined;
      this.turnBytes = 0;
    }, 0);
  }

  /** True while messages wait for room to `nodeId`. */
  pending(nodeId: NodeId): boolean {
    return this.waiting.has(nodeId);
  }

  /** Runs `then` once everything that waits for `nodeId` now is sent (at once when nothing waits). */
  after(nodeId: NodeId, ref: ActorRef<unknown>, then: () => void): void {
    if (!this.waiting.has(nodeId)) then();
    else this.wait(nodeId, { ref, bytes: 0, run: then });
  }

  /** Bytes of messages waiting for room, for statistics. */
  get bytesWaiting(): number {
    return this.waitingBytes;
  }

  private wait(nodeId: NodeId, item: Waiting): void {
    let queue = this.waiting.get(nodeId);
    if (queue === undefined) this.waiting.set(nodeId, (queue = []));
    queue.push(item);
    this.waitingBytes += item.bytes;
    this.timer ??= this.clock.setTimeout(() => this.pump(), RETRY_MS);
  }

  private pump(): void {
    this.timer = undefined;
    // a new turn (the timer that sets turnBytes back may come after this one)
    if (this.turnTimer !== undefined) this.clock.clearTimeout(this.turnTimer);
    this.turnTimer = undefined;
    this.turnBytes = 0;
    for (const nodeId of [...this.waiting.keys()]) {
      const queue = this.waiting.get(nodeId)!;
      let sent = 0;
      // a 0-byte item (a continuation) always goes: the queue's order alone holds it back
      while (sent < queue.length && (queue[sent]!.bytes === 0 ||
        (this.turnBytes < TURN_BYTES && this.roomFor(queue[sent]!.ref, queue[sent]!.bytes)))) {
        const item = queue[sent++]!;
        this.waitingBytes -= item.bytes;
        this.spend(item.bytes);
        item.run();
      }
      if (sent === queue.length) this.waiting.delete(nodeId);
      else {
        queue.splice(0, sent);
        if (this.turnBytes >= TURN_BYTES) {
          // the turn's bytes are spent: this node goes last next time, so that it does not hold the others up
          this.waiting.delete(nodeId);
          this.waiting.set(nodeId, queue);
        }
      }
    }
    if (this.waiting.size > 0) this.timer = this.clock.setTimeout(() => this.pump(), RETRY_MS);
  }
}
