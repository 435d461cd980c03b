// Which fields of an actor make up its state: the `@persistent` whitelists (kept here, in WeakMaps keyed by
// class, like the other decorator metadata: nothing relies on emitDecoratorMetadata), `static excludeFields`,
// and the `getState()`/`setState()` hooks, with the checks that a class chooses its state one way only.

import { StateCaptureError } from './StateCaptureError';

/** The field that holds an entity's id: identity given to the constructor, never state. */
export const ENTITY_ID_FIELD = 'entityId';

/** How an actor class's fields become its state (when it has no getState/setState hooks). */
export type FieldRules =
  | { readonly kind: 'fields'; readonly exclude: ReadonlySet<string> }
  | { readonly kind: 'whitelist'; readonly fields: readonly string[] };

/** An actor's own state hooks, when it has both. */
export interface StateHooks {
  getState(): object;
  setState(state: object): void;
}

const whitelists = new WeakMap<object, readonly string[]>();
const resolved = new WeakMap<object, FieldRules>();
const NO_EXCLUDES: ReadonlySet<string> = new Set();

/** Records the `@persistent` fields of `actorClass`. */
export function setPersistentFields(actorClass: object, fields: readonly string[]): void {
  whitelists.set(actorClass, fields);
  resolved.delete(actorClass);
}

/** The `@persistent` fields of `actorClass` or of its nearest decorated superclass. */
export function persistentFieldsOf(actorClass: object): readonly string[] | undefined {
  for (let c: unknown = actorClass; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
    const fields = whitelists.get(c);
    if (fields !== undefined) return fields;
  }
  return undefined;
}

/**
 * The `static excludeFields` of `actorClass`, looked up as JavaScript looks up any static: a subclass without
 * its own list has its superclass's, and one with its own list has only that one.
 */
export function excludeFieldsOf(actorClass: object): ReadonlySet<string> {
  const raw = (actorClass as { excludeFields?: unknown }).excludeFields;
  if (raw === undefined || raw === null) return NO_EXCLUDES;
  const items: unknown[] | undefined = Array.isArray(raw) ? raw : raw instanceof Set ? [...raw] : undefined;
  if (items === undefined || !items.every((item) => typeof item === 'string')) {
    throw new StateCaptureError(classNameOfClass(actorClass), 'excludeFields',
      `static excludeFields of actor class ${classNameOfClass(actorClass)} must be an array (or Set) of field names ` +
      `(static excludeFields = ['cache']), got ${describeValue(raw)}`);
  }
  return items.length === 0 ? NO_EXCLUDES : new Set(items as string[]);
}

/**
 * The field rules of `actorClass`, resolved once per class.
 * @throws {StateCaptureError} if the class has both a `@persistent` whitelist and `excludeFields`.
 */
export function fieldRulesOf(actorClass: object): FieldRules {
  const cached = resolved.get(actorClass);
  if (cached !== undefined) return cached;
  const whitelist = persistentFieldsOf(actorClass);
  const exclude = excludeFieldsOf(actorClass);
  if (whitelist !== undefined && exclude.size > 0) throw chosenTwice(actorClass, whitelist, exclude);
  const rules: FieldRules = whitelist !== undefined
    ? { kind: 'whitelist', fields: whitelist }
    : { kind: 'fields', exclude };
  resolved.set(actorClass, rules);
  return rules;
}

/**
 * The actor's `getState`/`setState` when it has both, undefined when it has neither.
 * @throws {StateCaptureError} if it has only one of them, or has them and also `@persistent` or `excludeFields`.
 */
export function stateHooksOf(actor: object): StateHooks | undefined {
  const { getState, setState } = actor as Partial<Record<'getState' | 'setState', unknown>>;
  const hasGet = typeof getState === 'function';
  const hasSet = typeof setState === 'function';
  if (!hasGet && !hasSet) return undefined;
  const actorClass = actor.constructor;
  const name = classNameOfClass(actorClass);
  if (!hasGet || !hasSet) {
    const [present, missing] = hasGet ? ['getState', 'setState'] : ['setState', 'getState'];
    throw new StateCaptureError(name, missing,
      `Actor class ${name} has ${present}() but no ${missing}(); define both (the state is captured with ` +
      `getState() and restored with setState()) or neither (then its fields are its state)`);
  }
  checkNoFieldRules(actorClass);
  return actor as StateHooks;
}

/** Throws if `actorClass` has `@persistent` or `excludeFields`, which getState/setState would make moot. */
export function checkNoFieldRules(actorClass: object): void {
  const rules = fieldRulesOf(actorClass);
  const name = classNameOfClass(actorClass);
  const other = rules.kind === 'whitelist' ? `@persistent(${quoteAll(rules.fields)})`
    : rules.exclude.size > 0 ? `static excludeFields (${quoteAll([...rules.exclude])})` : undefined;
  if (other === undefined) return;
  throw new StateCaptureError(name, undefined,
    `Actor class ${name} has getState()/setState(), which choose its whole state, and also ${other}, which ` +
    `would be ignored; remove ${other} or the two methods`);
}

function chosenTwice(actorClass: object, whitelist: readonly string[], exclude: ReadonlySet<string>): StateCaptureError {
  const name = classNameOfClass(actorClass);
  return new StateCaptureError(name, undefined,
    `Actor class ${name} chooses its state twice: @persistent(${quoteAll(whitelist)}) names the fields to keep ` +
    `and static excludeFields (${quoteAll([...exclude])}) names fields to leave out; keep only one (the ` +
    `whitelist alone already leaves out every field it does not name)`);
}

/** The name of a class for error messages. */
export function classNameOfClass(actorClass: unknown): string {
  const name = (actorClass as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && name !== '' ? name : '(anonymous class)';
}

function quoteAll(fields: readonly string[]): string {
  return fields.map((field) => `'${field}'`).join(', ');
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string '${value}'`;
  if (typeof value !== 'object' || value === null) return String(value);
  return `a ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'value'}` +
    (Array.isArray(value) || value instanceof Set ? ' with items that are not strings' : '');
}
