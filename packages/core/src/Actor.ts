// The base class users extend. Lifecycle hooks have Akka's defaults, and `receive` dispatches to @handle
// methods when a subclass does not override it.

import type { Context } from './Context';
import { handlerFor } from './internal/metadata';

/**
 * An actor handling messages of type `TMessage`, one at a time (also when `receive` awaits).
 *
 * ```ts
 * class Greeter extends Actor<Greet | GetCount> {
 *   count = 0;
 *   async receive(msg: Greet | GetCount, ctx: Context<Greet | GetCount>) {
 *     if (msg instanceof Greet) this.count++;
 *     else ctx.reply(this.count);
 *   }
 * }
 * ```
 */
export abstract class Actor<TMessage = unknown> {
  /**
   * Handles one message. The default dispatches to the method decorated with `@handle(msg's class)` and
   * replies with its return value; a message with no handler is reported with `ctx.unhandled`.
   */
  receive(msg: TMessage, ctx: Context<TMessage>): void | Promise<void> {
    const key = handlerFor(this.constructor, (msg as { constructor?: unknown } | null | undefined)?.constructor);
    if (key === undefined) {
      ctx.unhandled(msg);
      return;
    }
    const result = (this as unknown as Record<string | symbol, (m: TMessage, c: Context<TMessage>) => unknown>)[key]!(msg, ctx);
    // the compiler checked the handler's return type against the message's Request<TReply> (see handle.ts)
    const untyped = ctx as Context<unknown>;
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      return Promise.resolve(result).then((value) => untyped.reply(value));
    }
    untyped.reply(result);
  }

  /** Called once before the first message (and, by default, after a restart). */
  onStart(): void | Promise<void> {}

  /** Called once when the actor stops, after its children have stopped (and, by default, before a restart). */
  onStop(): void | Promise<void> {}

  /** Called on the failed instance before it is replaced. Default: `onStop()`. */
  preRestart(_error: unknown, _msg: TMessage | undefined): void | Promise<void> {
    return this.onStop();
  }

  /** Called on the new instance after a restart, before its first message. Default: `onStart()`. */
  postRestart(_error: unknown): void | Promise<void> {
    return this.onStart();
  }

  /**
   * Called when `receive` throws. Return true to keep this instance and go on with the next message
   * (the error is handled here); false (the default) hands the failure to the supervisor, which restarts,
   * stops or escalates as @supervised says. Either way an ask of the failed message rejects with the error.
   */
  onError(_error: unknown): boolean {
    return false;
  }
}
