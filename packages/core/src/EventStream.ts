// A publish/subscribe bus for runtime events, keyed by event class (a subscription to a base class sees
// its subclasses). Publishing with no subscriber costs one map lookup, so hot paths can always publish.

import type { Logger } from './Logger';

type EventClass<TEvent> = abstract new (...args: never[]) => TEvent;

/** `system.events`: subscribe to event classes (ActorStarted, DeadLetter, MemberUp...). */
export class EventStream {
  private readonly subscribers = new Map<unknown, Set<(event: never) => void>>();

  constructor(private readonly logger: Logger) {}

  /** Calls `listener` for every published event that is an instance of `eventClass`; returns an unsubscribe function. */
  subscribe<TEvent>(eventClass: EventClass<TEvent>, listener: (event: TEvent) => void): () => void {
    let set = this.subscribers.get(eventClass);
    if (set === undefined) {
      set = new Set();
      this.subscribers.set(eventClass, set);
    }
    set.add(listener as (event: never) => void);
    return () => {
      set.delete(listener as (event: never) => void);
      if (set.size === 0 && this.subscribers.get(eventClass) === set) this.subscribers.delete(eventClass);
    };
  }

  /** Resolves with the next published event of `eventClass` that satisfies `predicate`. */
  next<TEvent>(eventClass: EventClass<TEvent>, predicate: (event: TEvent) => boolean = () => true): Promise<TEvent> {
    return new Promise((resolve) => {
      const unsubscribe = this.subscribe(eventClass, (event) => {
        if (predicate(event)) {
          unsubscribe();
          resolve(event);
        }
      });
    });
  }

  /** True when someone listens to `eventClass` or one of its superclasses (lets callers skip building the event). */
  hasSubscribers(eventClass: object): boolean {
    if (this.subscribers.size === 0) return false;
    for (let c: object | null = eventClass; typeof c === 'function'; c = Object.getPrototypeOf(c) as object | null) {
      if (this.subscribers.has(c)) return true;
    }
    return false;
  }

  /** Delivers `event` to the subscribers of its class and superclasses; a throwing listener is logged, not propagated. */
  publish(event: object): void {
    if (this.subscribers.size === 0) return;
    for (let c: object | null = event.constructor; typeof c === 'function'; c = Object.getPrototypeOf(c) as object | null) {
      const set = this.subscribers.get(c);
      if (set === undefined) continue;
      for (const listener of [...set]) {
        try {
          (listener as (e: object) => void)(event);
        } catch (error) {
          this.logger.error(`an event listener for ${event.constructor.name} threw`, error);
        }
      }
    }
  }
}
