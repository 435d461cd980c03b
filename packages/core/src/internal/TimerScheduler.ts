// The implementation of `ctx.timers`. A fired timer queues a TimerEnvelope stamped with the timer's
// generation; on dequeue the envelope is delivered only if that generation is still current, so a
// cancelled or replaced timer never delivers, even when its message was already in the mailbox.

import { MailboxEnvelope } from './MailboxEnvelope';
import type { Clock, TimerHandle } from '../Clock';
import { InvalidArgumentError } from '../errors';
import type { Timers } from '../Timers';

interface TimerEntry {
  readonly generation: number;
  readonly periodic: boolean;
  handle: TimerHandle;
}

/** A timer's message on its way through the mailbox. */
export class TimerEnvelope extends MailboxEnvelope {
  constructor(readonly key: unknown, readonly generation: number, readonly message: unknown) {
    super();
  }
}

export class TimerScheduler<TMessage> implements Timers<TMessage> {
  private readonly entries = new Map<unknown, TimerEntry>();
  private generation = 0;

  constructor(
    private readonly clock: Clock,
    private readonly enqueue: (envelope: TimerEnvelope) => void,
    private readonly owner: string,
  ) {}

  startSingleTimer(key: unknown, msg: TMessage, delayMs: number): void {
    this.start(key, msg, delayMs, false);
  }

  startPeriodicTimer(key: unknown, msg: TMessage, intervalMs: number): void {
    if (!(intervalMs > 0)) {
      throw new InvalidArgumentError(`Periodic timer ${String(key)} of ${this.owner} needs an interval > 0 ms, got ${intervalMs}`);
    }
    this.start(key, msg, intervalMs, true);
  }

  isActive(key: unknown): boolean {
    return this.entries.has(key);
  }

  cancel(key: unknown): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.clock.clearTimeout(entry.handle);
    this.entries.delete(key);
  }

  cancelAll(): void {
    for (const entry of this.entries.values()) this.clock.clearTimeout(entry.handle);
    this.entries.clear();
  }

  /** Whether a dequeued envelope is still current; a single timer is spent once it delivers. */
  accept(envelope: TimerEnvelope): boolean {
    const entry = this.entries.get(envelope.key);
    if (entry === undefined || entry.generation !== envelope.generation) return false;
    if (!entry.periodic) this.entries.delete(envelope.key);
    return true;
  }

  private start(key: unknown, msg: TMessage, delayMs: number, periodic: boolean): void {
    if (!(delayMs >= 0) || !Number.isFinite(delayMs)) {
      throw new InvalidArgumentError(`Timer ${String(key)} of ${this.owner} needs a finite delay >= 0 ms, got ${delayMs}`);
    }
    this.cancel(key);
    const generation = ++this.generation;
    const fire = (): void => {
      const entry = this.entries.get(key);
      if (entry === undefined || entry.generation !== generation) return;
      if (periodic) entry.handle = this.clock.setTimeout(fire, delayMs);
      this.enqueue(new TimerEnvelope(key, generation, msg));
    };
    this.entries.set(key, { generation, periodic, handle: this.clock.setTimeout(fire, delayMs) });
  }
}
