// What an actor sees of the world while it handles a message: its own ref, its parent and children,
// the system, replies, behaviour switching, death watch and timers.

import type { ActorRef } from './ActorRef';
import type { RepliesOf, ReplyOf, Request } from './message';
import type { Spawner } from './spawn';
import type { Timers } from './Timers';
import type { ActorSystem } from './ActorSystem';

/** A message handler other than `receive`, installed with `ctx.become`. Called with `this` = the actor. */
export type Behavior<TMessage> = (msg: TMessage, ctx: Context<TMessage>) => void | Promise<void>;

/** Options of `ctx.become`. */
export interface BecomeOptions {
  /** Replace the current behaviour instead of pushing onto the stack. Default false. */
  readonly discardOld?: boolean;
}

/** The actor's environment, passed to `receive` and handlers. Valid only while the actor is alive. */
export interface Context<TMessage = unknown> extends Spawner {
  /** This actor's own ref. */
  readonly selfRef: ActorRef<TMessage>;
  /** The parent's ref, or undefined for a top-level actor. */
  readonly parent: ActorRef<unknown> | undefined;
  /** Live children, in spawn order. */
  readonly children: readonly ActorRef<unknown>[];
  /** The system this actor runs in. */
  readonly system: ActorSystem;
  /** Keyed, cancellable timers that send messages to this actor; all cancelled when it stops or restarts. */
  readonly timers: Timers<TMessage>;

  // Generic, so that the conditional RepliesOf sits in a constraint: as the parameter's type it would make
  // Context invariant in TMessage, and an actor class would no longer be an Actor<never> that spawn takes.
  /**
   * Answers the ask that delivered the current message; a no-op for a message that was sent, not asked.
   * `value` must be a reply type of one of the actor's `Request<R>` messages (with one request type, exactly
   * its R); `ctx.reply(msg, value)` checks it against the request being handled.
   */
  reply<TValue extends RepliesOf<TMessage>>(value: TValue): void;
  /**
   * Answers the ask of `request`, the message being handled, with `value`, checked against its
   * `Request<TReply>`. Throws InvalidArgumentError when `request` is not the current message.
   */
  reply<TRequest extends Request<unknown>>(request: TRequest, value: ReplyOf<TRequest>): void;
  /**
   * Passes `msg` on to `target` on behalf of whoever sent the current message (Akka's `forward`): when the
   * current message came by an ask, `target`'s reply (or failure) answers that ask, within what is left of its
   * timeout; otherwise it is a plain send. This actor does not reply to it itself.
   */
  forward<TTarget>(target: ActorRef<TTarget>, msg: TTarget): void;
  /**
   * Stops `ref` (a child, or any local actor) or, with no argument, this actor. Stopping self takes effect
   * after the current message; the returned promise then resolves at once (awaiting your own stop would deadlock).
   */
  stop(ref?: ActorRef<never>): Promise<void>;
  /** Handles the following messages with `behavior` (pushed onto a stack, or replacing the top with discardOld). */
  become(behavior: Behavior<TMessage>, options?: BecomeOptions): void;
  /** Pops the behaviour stack; with an empty stack, messages go to `receive` again. */
  unbecome(): void;
  /** Delivers a `Terminated` message to this actor when `ref` stops (at once if it already has). */
  watch(ref: ActorRef<never>): void;
  /** Stops watching `ref`; no Terminated for it is delivered afterwards. */
  unwatch(ref: ActorRef<never>): void;
  /** Reports `msg` as unhandled: publishes UnhandledMessage, and rejects the ask (if any) with UnhandledMessageError. */
  unhandled(msg: unknown): void;
}
