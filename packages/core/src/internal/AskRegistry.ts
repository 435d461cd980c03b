// Pending asks and their timeouts. A Node timer per ask costs about 0.5 us to set and clear, which would
// double the cost of a local ask; instead asks wait in FIFO queues, one per timeout value (so deadlines in a
// queue only grow), and ONE clock timer is armed for the earliest deadline. Settled asks leave the front
// of their queue at once, and a queue holding many settled asks is compacted, so memory follows live asks.

import { MailboxEnvelope } from './MailboxEnvelope';
import type { Clock, TimerHandle } from '../Clock';
import { AskTimeoutError } from '../errors';
import { classNameOf } from '../message';

/**
 * What an AskObserver keeps for one ask (casty's OpenTelemetry support): told when the ask settles, and, when
 * `traced`, runs the target's handling of the ask inside the asker's trace context.
 */
export interface AskTrace {
  /** True when the ask carries a trace context that its handling must run in (see `run`). */
  readonly traced: boolean;
  /** Runs `handle` (the target actor's receive) inside the ask's trace context; returns what it returns. */
  run<T>(handle: () => T): T;
  /** The ask settled: with its reply (`error` undefined, `failed` false) or its error. Called once. */
  settled(failed: boolean, error: unknown): void;
}

/** Watches the asks of a registry as they start (set by casty's telemetry; absent otherwise, costing a null check). */
export interface AskObserver {
  /** An ask to `ask.target` started (the caller's context is the active one): what to keep for it, or undefined. */
  started(ask: PendingAsk): AskTrace | undefined;
}

/** An ask waiting for its reply; also the envelope that carries the message through the mailbox. */
export class PendingAsk extends MailboxEnvelope {
  settled = false;
  /** Its AskObserver's record, when the registry has an observer (telemetry on). */
  trace: AskTrace | undefined = undefined;
  /** Where another node may deliver its reply instead of this one (see ReplyGate); opaque to the runtime. */
  relay: unknown = undefined;

  constructor(
    readonly message: unknown,
    readonly target: { readonly path: string },
    readonly timeoutMs: number,
    readonly deadline: number,
    private readonly resolveFn: (value: never) => void,
    private readonly rejectFn: (error: unknown) => void,
    private readonly registry: AskRegistry,
  ) {
    super();
  }

  resolve(value: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveFn(value as never);
    this.registry.settled(this);
    if (this.trace !== undefined) this.trace.settled(false, undefined);
  }

  reject(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectFn(error);
    this.registry.settled(this);
    if (this.trace !== undefined) this.trace.settled(true, error);
  }

  /** Ends it without a reply from here: another node delivered it (see ReplyGate's REPLY_RELAYED). */
  relayed(): void {
    if (this.settled) return;
    this.settled = true;
    this.registry.settled(this);
    if (this.trace !== undefined) this.trace.settled(false, undefined);
  }

  /** Rejects without telling the registry (the registry is the caller, and has already dropped this ask). */
  expire(error: unknown): void {
    this.settled = true;
    this.rejectFn(error);
    if (this.trace !== undefined) this.trace.settled(true, error);
  }
}

class DeadlineQueue {
  items: PendingAsk[] = [];
  head = 0;
  settledInside = 0;
}

/** Tracks every pending ask of one system and rejects those whose deadline passes. */
export class AskRegistry {
  private readonly queues = new Map<number, DeadlineQueue>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  /** Asks not yet settled; while > 0 the timer keeps the process alive. */
  private live = 0;
  private keepAliveSyncPending = false;
  private timerKeptAlive = false;
  /** Asks created since the system started (read by runtimeStats: management, metrics). */
  createdTotal = 0;
  /** Asks that timed out since the system started. */
  timedOutTotal = 0;
  /** Told of every ask created here (telemetry); undefined by default. */
  observer: AskObserver | undefined = undefined;

  constructor(private readonly clock: Clock) {}

  /** Creates a pending ask for `message` to `target`, timing out after `timeoutMs`. */
  create(message: unknown, target: { readonly path: string }, timeoutMs: number,
    resolve: (value: never) => void, reject: (error: unknown) => void): PendingAsk {
    const deadline = this.clock.now() + timeoutMs;
    const ask = new PendingAsk(message, target, timeoutMs, deadline, resolve, reject, this);
    let queue = this.queues.get(timeoutMs);
    if (queue === undefined) {
      queue = new DeadlineQueue();
      this.queues.set(timeoutMs, queue);
    }
    queue.items.push(ask);
    if (deadline < this.timerAt) this.arm(deadline);
    else if (this.live === 0) this.syncKeepAliveSoon();
    this.live++;
    this.createdTotal++;
    if (this.observer !== undefined) ask.trace = this.observer.started(ask);
    return ask;
  }

  /** Number of asks not yet settled (for tests and diagnostics). */
  get pending(): number {
    return this.live;
  }

  /** Called by PendingAsk when it settles: drop it from its queue's front, or count it for compaction. */
  settled(ask: PendingAsk): void {
    this.release();
    const queue = this.queues.get(ask.timeoutMs);
    if (queue === undefined) return;
    if (queue.items[queue.head] === ask) {
      this.popSettled(queue);
    } else if (++queue.settledInside > 1024 && queue.settledInside * 2 > queue.items.length - queue.head) {
      queue.items = queue.items.slice(queue.head).filter((a) => !a.settled);
      queue.head = 0;
      queue.settledInside = 0;
    }
  }

  private popSettled(queue: DeadlineQueue): void {
    const items = queue.items;
    // the front item settled just now; the settled ones behind it were counted in settledInside when they settled
    items[queue.head] = undefined as unknown as PendingAsk;
    queue.head++;
    while (queue.head < items.length && items[queue.head]!.settled) {
      items[queue.head] = undefined as unknown as PendingAsk;
      queue.head++;
      queue.settledInside--;
    }
    this.compact(queue);
  }

  private compact(queue: DeadlineQueue): void {
    const items = queue.items;
    if (queue.head === items.length) {
      queue.items = [];
      queue.head = 0;
      queue.settledInside = 0;
    } else if (queue.head >= 1024 && queue.head * 2 >= items.length) {
      queue.items = items.slice(queue.head);
      queue.head = 0;
    }
  }

  private release(): void {
    if (--this.live === 0 && this.timer !== undefined) this.syncKeepAliveSoon();
  }

  /**
   * Brings the timer's keep-alive in line with `live` once per event-loop turn rather than once per ask
   * (sequential asks would toggle it twice each); the pending immediate keeps the process up meanwhile.
   */
  private syncKeepAliveSoon(): void {
    if (this.keepAliveSyncPending) return;
    this.keepAliveSyncPending = true;
    setImmediate(this.syncKeepAlive);
  }

  private readonly syncKeepAlive = (): void => {
    this.keepAliveSyncPending = false;
    const want = this.live > 0 && this.timer !== undefined;
    if (want !== this.timerKeptAlive && this.timer !== undefined) this.clock.setKeepAlive?.(this.timer, want);
    this.timerKeptAlive = want;
  };

  private arm(at: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => this.expire(), at - this.clock.now());
    // only armed for a live ask (at creation, or re-armed for the next unsettled one)
    this.clock.setKeepAlive?.(this.timer, true);
    this.timerKeptAlive = true;
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    let next = Infinity;
    for (const queue of this.queues.values()) {
      const items = queue.items;
      while (queue.head < items.length) {
        const ask = items[queue.head]!;
        if (!ask.settled && ask.deadline > now) {
          next = Math.min(next, ask.deadline);
          break;
        }
        items[queue.head] = undefined as unknown as PendingAsk;
        queue.head++;
        if (ask.settled) {
          queue.settledInside--;
        } else {
          this.release();
          this.timedOutTotal++;
          ask.expire(new AskTimeoutError(ask.target.path, classNameOf(ask.message), ask.timeoutMs));
        }
      }
      this.compact(queue);
    }
    if (next !== Infinity) this.arm(next);
  }

  /** Rejects every pending ask with `makeError(ask)` (used at shutdown). */
  rejectAll(makeError: (ask: PendingAsk) => unknown): void {
    for (const queue of this.queues.values()) {
      for (let i = queue.head; i < queue.items.length; i++) {
        const ask = queue.items[i];
        if (ask !== undefined && !ask.settled) {
          this.release();
          ask.expire(makeError(ask));
        }
      }
    }
    this.queues.clear();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}
