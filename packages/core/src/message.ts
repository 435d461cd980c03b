// Message classes: the `@message` decorator that gives a class a stable wire name, the registry of those
// names, and `Request<TReply>`, the base class that declares what an ask of a message replies with.

import { MessageRegistrationError } from './errors';
import { rejectStandardDecorator } from './internal/decoratorMode';

/** Any class whose instances can be sent as messages. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MessageClass<T = unknown> = abstract new (...args: any[]) => T;

declare const replyType: unique symbol;

/**
 * Base class of a message that is asked and answered. `ref.ask(msg)` resolves with a `TReply`,
 * and a `@handle` method for it must return a `TReply` (or a promise of one).
 *
 * ```ts
 * @message() class GetCount extends Request<number> {}
 * const n: number = await counter.ask(new GetCount());
 * ```
 */
export abstract class Request<TReply> {
  /**
   * Type-level only: carries the reply type; never set at runtime. Required (not optional), so that only a
   * subclass of Request is a request: a class that merely lacks the property is not one.
   */
  declare readonly [replyType]: TReply;
}

/** The reply type of a message: `R` for a `Request<R>`, `unknown` for any other message. */
export type ReplyOf<TMessage> = TMessage extends Request<infer TReply> ? TReply : unknown;

/**
 * The messages of `TMessage` that can be asked: its `Request<R>` members (`never` when it has none).
 * For `unknown` (an explicitly untyped ref) any value.
 */
export type AskableOf<TMessage> = unknown extends TMessage ? unknown : Extract<TMessage, Request<unknown>>;

/**
 * What an actor handling `TMessage` may reply: the union of its requests' reply types (`never` when it
 * handles no request). For `unknown` (an untyped context) any value.
 */
export type RepliesOf<TMessage> = unknown extends TMessage ? unknown : ReplyOf<Extract<TMessage, Request<unknown>>>;

const nameByClass = new Map<MessageClass, string>();
const classByName = new Map<string, MessageClass>();

/**
 * Registers a message class under a stable wire name (default: the class name), which the cluster's
 * codec writes instead of the class itself. Use an explicit, versioned name (`'shop.OrderPlaced'`) for
 * classes that cross the network, so renaming the class does not break nodes running the old code.
 */
export function message(name?: string): <TClass extends MessageClass>(cls: TClass) => TClass {
  return function <TClass extends MessageClass>(cls: TClass, context?: unknown): TClass {
    rejectStandardDecorator('@message()', [cls, context]);
    registerMessageClass(cls, name ?? cls.name);
    return cls;
  };
}

/** Registers `cls` under `name`; the function form of `@message(name)`. */
export function registerMessageClass(cls: MessageClass, name: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new MessageRegistrationError(`@message() on ${cls.name || 'an anonymous class'} needs a non-empty name`);
  }
  const existing = classByName.get(name);
  if (existing !== undefined && existing !== cls) {
    throw new MessageRegistrationError(
      `Message name '${name}' is already used by class ${existing.name}, so ${cls.name} cannot take it; ` +
      `give one of them an explicit name: @message('my.app.${cls.name}')`);
  }
  const previous = nameByClass.get(cls);
  if (previous !== undefined && previous !== name) classByName.delete(previous);
  nameByClass.set(cls, name);
  classByName.set(name, cls);
}

/** The wire name registered for exactly this class (a subclass needs its own `@message`), or undefined. */
export function messageNameOf(cls: MessageClass): string | undefined {
  return nameByClass.get(cls);
}

/** The class registered under a wire name, or undefined. */
export function messageClassOf(name: string): MessageClass | undefined {
  return classByName.get(name);
}

/** The class name of any value, for error messages and events. */
export function classNameOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  return ctor?.name || 'Object';
}
