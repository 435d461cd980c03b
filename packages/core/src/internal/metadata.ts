// All decorator metadata lives here, behind functions: which method handles which message class
// (@handle) and how an actor class is supervised (@supervised). Plain WeakMaps keyed by class:
// nothing depends on emitDecoratorMetadata, which tsx/esbuild do not emit.

import type { MessageClass } from '../message';

type HandlerKey = string | symbol;

const ownHandlers = new WeakMap<object, Map<MessageClass, HandlerKey>>();
const resolvedHandlers = new WeakMap<object, Map<unknown, HandlerKey | null>>();
const ownSupervision = new WeakMap<object, object>();

/** Records that method `key` of the class whose prototype is `proto` handles `messageClass`. */
export function addHandler(proto: object, messageClass: MessageClass, key: HandlerKey): void {
  let table = ownHandlers.get(proto);
  if (table === undefined) {
    table = new Map();
    ownHandlers.set(proto, table);
  }
  table.set(messageClass, key);
}

/** Every message class handled by @handle methods of `actorClass` and its superclasses (undefined if none). */
export function handledClassesOf(actorClass: object): MessageClass[] | undefined {
  const classes: MessageClass[] = [];
  for (let proto = (actorClass as { prototype?: object }).prototype; proto; proto = Object.getPrototypeOf(proto) as object) {
    const table = ownHandlers.get(proto);
    if (table) for (const cls of table.keys()) if (!classes.includes(cls)) classes.push(cls);
  }
  return classes.length > 0 ? classes : undefined;
}

/**
 * The message classes an actor class declares it handles: its `static handles` list, else its @handle methods'
 * classes; undefined when it declares none (what a combined ref routes by).
 */
export function declaredHandledClasses(actorClass: object): readonly MessageClass[] | undefined {
  const declared = (actorClass as { handles?: readonly MessageClass[] }).handles;
  if (Array.isArray(declared) && declared.length > 0) return declared;
  return handledClassesOf(actorClass);
}

/**
 * The method that handles a message of class `messageClass` on instances of `actorClass`: a handler for the
 * class itself or its nearest superclass, declared on the actor class or inherited. Cached per pair.
 */
export function handlerFor(actorClass: object, messageClass: unknown): HandlerKey | undefined {
  let cache = resolvedHandlers.get(actorClass);
  if (cache === undefined) {
    cache = new Map();
    resolvedHandlers.set(actorClass, cache);
  }
  const cached = cache.get(messageClass);
  if (cached !== undefined) return cached ?? undefined;
  const found = resolveHandler(actorClass, messageClass);
  cache.set(messageClass, found ?? null);
  return found;
}

function resolveHandler(actorClass: object, messageClass: unknown): HandlerKey | undefined {
  for (let m = messageClass as { prototype?: object } | null; typeof m === 'function'; m = Object.getPrototypeOf(m) as typeof m) {
    for (let proto = (actorClass as { prototype?: object }).prototype; proto; proto = Object.getPrototypeOf(proto) as object) {
      const key = ownHandlers.get(proto)?.get(m as unknown as MessageClass);
      if (key !== undefined) return key;
    }
  }
  return undefined;
}

/** Stores the @supervised options given on `actorClass`. */
export function setSupervision(actorClass: object, options: object): void {
  ownSupervision.set(actorClass, options);
}

/** The @supervised options of `actorClass` or its nearest decorated superclass. */
export function supervisionOf(actorClass: object): object | undefined {
  for (let c: object | null = actorClass; typeof c === 'function'; c = Object.getPrototypeOf(c) as object | null) {
    const options = ownSupervision.get(c);
    if (options !== undefined) return options;
  }
  return undefined;
}
