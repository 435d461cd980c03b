// The `@persistent(...)` class decorator: names exactly the fields that make up an actor's state.

import { InvalidArgumentError } from '../errors';
import { StateCaptureError } from './StateCaptureError';
import { checkNoFieldRules, classNameOfClass, ENTITY_ID_FIELD, fieldRulesOf, setPersistentFields } from './stateRules';
import { rejectStandardDecorator } from '../internal/decoratorMode';

/** Any class (the decorator reads nothing of its constructor's parameters). */
type AnyClass = abstract new (...args: never[]) => object;

/**
 * Makes the named fields, and only those, the state of the decorated actor class (and of its subclasses, unless
 * one has its own `@persistent`): what `captureState` sends to backups and what a shard hand-off carries. A
 * named field may start with `_` (naming it is explicit). A named field the instance does not have is a
 * {@link StateCaptureError} at capture.
 *
 * A class chooses its state one way: `@persistent` together with `static excludeFields` (non-empty), or with
 * `getState()`/`setState()`, is a `StateCaptureError`, here when the class already shows both, else at capture.
 *
 * ```ts
 * @persistent('balance', 'transactionCount')
 * class Account extends Actor<Deposit | GetBalance> {
 *   balance = 0;
 *   transactionCount = 0;
 *   lastSeen = new Map<string, number>();   // not state
 *   constructor(readonly entityId: string) { super(); }
 * }
 * ```
 * @throws {InvalidArgumentError} if no field is named, or a name is not a non-empty string.
 * @throws {StateCaptureError} if a name is `entityId` (the entity's identity, not its state), or the class
 *   already chooses its state another way.
 */
export function persistent(...fields: string[]): <TClass extends AnyClass>(actorClass: TClass) => TClass {
  return function <TClass extends AnyClass>(actorClass: TClass, context?: unknown): TClass {
    rejectStandardDecorator('@persistent()', [actorClass, context]);
    const name = classNameOfClass(actorClass);
    if (fields.length === 0) {
      throw new InvalidArgumentError(`@persistent() on ${name} names no field; name the fields that make up ` +
        `its state, @persistent('balance'), or remove it to keep every field not starting with _`);
    }
    for (const field of fields) {
      if (typeof field !== 'string' || field === '') {
        throw new InvalidArgumentError(`@persistent on ${name} takes field names, got ${String(field)}`);
      }
      if (field === ENTITY_ID_FIELD) {
        throw new StateCaptureError(name, field, `@persistent on ${name} names '${ENTITY_ID_FIELD}', the ` +
          `entity's identity: it is given to the constructor when the entity is created or restored and is never ` +
          `part of its state; remove it from @persistent`);
      }
    }
    setPersistentFields(actorClass, [...new Set(fields)]);
    fieldRulesOf(actorClass); // @persistent with excludeFields: fail at decoration when both are visible
    const proto = actorClass.prototype as Partial<Record<'getState' | 'setState', unknown>>;
    if (typeof proto.getState === 'function' || typeof proto.setState === 'function') checkNoFieldRules(actorClass);
    return actorClass;
  };
}
