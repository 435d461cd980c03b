// The handle users hold: the only way to talk to an actor, wherever it lives. Local refs, remote refs
// (the cluster's) and combined refs are all ActorRefs.

import type { AskableOf, MessageClass, ReplyOf } from './message';

/** Options of `ask`. */
export interface AskOptions {
  /**
   * Milliseconds to wait for the reply before rejecting with AskTimeoutError, > 0 and at most 2^31 - 1 (about
   * 24.8 days; else InvalidArgumentError). Default: the system's askTimeoutMs.
   */
  readonly timeout?: number;
}

/**
 * A typed reference to an actor that accepts `TMessage`. `send` is fire-and-forget; `ask` resolves with
 * the reply, typed by the message's `Request<TReply>`.
 */
export abstract class ActorRef<TMessage = unknown> {
  /** Where the actor lives, e.g. `/user/greeter` (a remote ref adds its node). */
  abstract readonly path: string;

  /**
   * Delivers `msg` to the actor's mailbox. Messages from one sender to one actor arrive in the order sent.
   * Resolves once the message is accepted (locally at once); a message to a stopped actor becomes a dead letter.
   */
  abstract send(msg: TMessage): Promise<void>;

  /**
   * Sends `msg` and resolves with the actor's reply (`ctx.reply(value)` or a @handle method's return value).
   * Rejects with AskTimeoutError after the timeout, with the actor's own error when its receive throws,
   * and with ActorStoppedError at once when the actor is stopped.
   * Only a `Request<TReply>` of the actor's message type can be asked (a compile error otherwise); the
   * promise resolves with that `TReply`.
   */
  abstract ask<TAsk extends AskableOf<TMessage>>(msg: TAsk, options?: AskOptions): Promise<ReplyOf<TAsk>>;

  /**
   * The message classes this actor is known to handle (from @handle methods or a static `handles` list),
   * or undefined when unknown. Used to route messages of a combined ref.
   */
  abstract handledClasses(): readonly MessageClass[] | undefined;

  /**
   * @internal How death watch reaches an actor that is not in this process (a remote ref implements it):
   * calls `terminated` once, when the actor stops or its node is gone, and returns the function that cancels
   * the watch. Absent on refs that cannot be watched.
   */
  watchFrom?(terminated: () => void): () => void;

  /** True when both refs point at the same actor. */
  equals(other: ActorRef<never>): boolean {
    return other === (this as ActorRef<never>) || other.path === this.path;
  }

  /**
   * One ref that routes each message, by its class, to whichever of the two actors handles it
   * (seed 000's `logger | metrics`). Both actors must declare what they handle (@handle or `static handles`).
   */
  or<TOther>(other: ActorRef<TOther>): ActorRef<TMessage | TOther> {
    return combineRefs<TMessage | TOther>([this as ActorRef<TMessage | TOther>, other as ActorRef<TMessage | TOther>]);
  }

  toString(): string {
    return `ActorRef(${this.path})`;
  }
}

// Set by CombinedRef.ts; breaks the import cycle between the base class and its subclass.
let combineRefs: <T>(refs: ActorRef<T>[]) => ActorRef<T> = () => {
  throw new Error('CombinedRef module not loaded');
};

/** @internal */
export function setRefCombiner(fn: <T>(refs: ActorRef<T>[]) => ActorRef<T>): void {
  combineRefs = fn;
}
