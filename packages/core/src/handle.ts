// `@handle(MessageClass)`: method decorators as sugar over `receive`, with the return value as the reply.

import type { Actor } from './Actor';
import type { Context } from './Context';
import { addHandler } from './internal/metadata';
import { InvalidArgumentError } from './errors';
import type { MessageClass, Request } from './message';
import { rejectStandardDecorator } from './internal/decoratorMode';

/** What a handler for `TMessage` may return: the reply type of a Request (or a promise of it), anything otherwise. */
export type HandlerResult<TMessage> = TMessage extends Request<infer TReply>
  ? (unknown extends TReply ? unknown : TReply | Promise<TReply>)
  : unknown;

/**
 * Marks a method as the handler of `messageClass` (and its subclasses). The method's return value (or
 * resolved promise) answers an ask; the compiler checks it against the message's `Request<TReply>`.
 *
 * ```ts
 * class Calculator extends Actor<Add | Multiply> {
 *   @handle(Add) add(m: Add): number { return m.a + m.b; }
 * }
 * ```
 */
export function handle<TMessage>(messageClass: MessageClass<TMessage>) {
  if (typeof messageClass !== 'function') {
    throw new InvalidArgumentError(`@handle() needs a message class, got ${String(messageClass)}`);
  }
  return function <TActor extends Actor<never>>(
    target: TActor,
    key: string | symbol,
    // only `value` is checked: TypedPropertyDescriptor's `set` would make the check invariant and refuse
    // handlers that omit the ctx parameter
    _descriptor: { readonly value?: (msg: TMessage, ctx: Context<never>) => HandlerResult<TMessage> },
  ): void {
    rejectStandardDecorator(`@handle(${messageClass.name})`, [target, key]);
    addHandler(target, messageClass, key);
  };
}
