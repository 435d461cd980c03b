// Messages that reached this node for an entity type it has not registered yet (every node runs the same
// program, but not in step): held for a while, bounded, then delivered in order once the type is registered,
// or failed with EntityTypeNotRegisteredError naming the type and the node. Nothing is dropped without a trace.

import { ActorRef, DeadLetter } from '@casty/core';
import type { ActorSystem, AskOptions, Clock, MessageClass, TimerHandle } from '@casty/core';
import { asEnvelope } from './envelopes';
import { EntityTypeNotRegisteredError } from './errors';

interface Held {
  readonly msg: unknown;
  readonly options: AskOptions | undefined;
  readonly settle: ((value: unknown) => void) | undefined;
  readonly fail: ((error: unknown) => void) | undefined;
}

/** The stand-in for the region of a type not registered here yet. */
export class HeldMessages extends ActorRef<unknown> {
  private held: Held[] = [];
  private timer: TimerHandle | undefined;

  constructor(
    readonly path: string,
    private readonly typeName: string,
    private readonly nodeId: string,
    private readonly system: ActorSystem,
    private readonly clock: Clock,
    private readonly holdMs: number,
    private readonly capacity: number,
  ) {
    super();
  }

  get size(): number {
    return this.held.length;
  }

  send(msg: unknown): Promise<void> {
    this.hold({ msg, options: undefined, settle: undefined, fail: undefined });
    return Promise.resolve();
  }

  ask(msg: unknown, options?: AskOptions): Promise<never> {
    return new Promise((settle, fail) => this.hold({ msg, options, settle: settle as (value: unknown) => void, fail }));
  }

  handledClasses(): readonly MessageClass[] | undefined {
    return undefined;
  }

  /** The type was registered: everything held goes to its region, in the order it came. */
  release(region: ActorRef<unknown>): void {
    this.stopTimer();
    const held = this.held;
    this.held = [];
    for (const h of held) {
      if (h.settle === undefined) void region.send(h.msg);
      else region.ask(h.msg, h.options).then(h.settle, h.fail ?? ((): void => undefined));
    }
  }

  private hold(h: Held): void {
    if (this.held.length >= this.capacity) {
      this.failOne(h, `${this.capacity} messages are held for it already`);
      return;
    }
    this.held.push(h);
    this.timer ??= this.clock.setTimeout(() => this.expire(), this.holdMs);
  }

  private expire(): void {
    this.timer = undefined;
    const held = this.held;
    this.held = [];
    for (const h of held) this.failOne(h, `it was not registered within ${this.holdMs} ms`);
  }

  private failOne(h: Held, why: string): void {
    this.system.events.publish(new DeadLetter(asEnvelope(h.msg)?.message ?? h.msg, this.path, 'unroutable'));
    h.fail?.(new EntityTypeNotRegisteredError(`The entity type '${this.typeName}' is not registered on node '${this.nodeId}' ` +
      `(${why}): every node must spawn it with { name: '${this.typeName}', sharded: true } at start`));
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Fails everything held (the node shuts down). */
  close(): void {
    this.stopTimer();
    this.expire();
  }
}
