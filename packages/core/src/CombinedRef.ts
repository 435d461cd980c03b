// `a.or(b)`: one ref in front of several actors, routing each message by its class to the actor that
// declared it handles that class (or a superclass of it).

import { ActorRef, setRefCombiner, type AskOptions } from './ActorRef';
import { CombinedRefError } from './errors';
import { classNameOf, type AskableOf, type MessageClass, type ReplyOf } from './message';

/** A ref that routes by message class to one of several refs. Made by `ActorRef.or`. */
export class CombinedRef<TMessage> extends ActorRef<TMessage> {
  private readonly routes = new Map<unknown, ActorRef<TMessage>>();
  private readonly classes: MessageClass[] = [];
  readonly path: string;

  constructor(private readonly refs: readonly ActorRef<TMessage>[]) {
    super();
    for (const ref of refs) {
      const handled = ref.handledClasses();
      if (handled === undefined) {
        throw new CombinedRefError(
          `Cannot combine ${ref.path}: the classes it handles are unknown. Give the actor @handle(...) methods ` +
          `or a static list, e.g. static readonly handles = [LogMessage]`);
      }
      for (const cls of handled) {
        const owner = this.routes.get(cls);
        if (owner !== undefined && owner !== ref) {
          throw new CombinedRefError(
            `Cannot combine ${owner.path} and ${ref.path}: both handle ${cls.name}, so a ${cls.name} could go to either`);
        }
        this.routes.set(cls, ref);
        this.classes.push(cls);
      }
    }
    this.path = refs.map((r) => r.path).join(' | ');
  }

  send(msg: TMessage): Promise<void> {
    const target = this.route(msg);
    return target === undefined ? Promise.reject(this.unroutable(msg)) : target.send(msg);
  }

  ask<TAsk extends AskableOf<TMessage>>(msg: TAsk, options?: AskOptions): Promise<ReplyOf<TAsk>> {
    const target = this.route(msg);
    return target === undefined ? Promise.reject(this.unroutable(msg)) : target.ask(msg, options);
  }

  handledClasses(): readonly MessageClass[] {
    return this.classes;
  }

  private route(msg: unknown): ActorRef<TMessage> | undefined {
    for (let c = (msg as { constructor?: unknown } | null | undefined)?.constructor; typeof c === 'function'; c = Object.getPrototypeOf(c) as unknown) {
      const ref = this.routes.get(c);
      if (ref !== undefined) return ref;
    }
    return undefined;
  }

  private unroutable(msg: unknown): CombinedRefError {
    return new CombinedRefError(
      `No actor behind ${this.path} handles ${classNameOf(msg)}; they handle ${this.classes.map((c) => c.name).join(', ')}`);
  }
}

setRefCombiner(<T>(refs: ActorRef<T>[]) => {
  const flat: ActorRef<T>[] = [];
  for (const ref of refs) {
    if (ref instanceof CombinedRef) flat.push(...(ref as unknown as { refs: ActorRef<T>[] }).refs);
    else flat.push(ref);
  }
  return new CombinedRef<T>(flat);
});
