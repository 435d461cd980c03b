// Capturing an actor's state and putting it back: the one place where sharding (an entity handed off with its
// state) and replication (snapshots to backups) turn an actor into bytes and bytes into an actor again.
// Which fields are state is decided in stateRules.ts; the bytes are the wire codec's.

import { Codec } from '../codec/Codec';
import { MessageEncodingError } from '../codec/errors';
import { describe } from '../errors';
import { StateCaptureError } from './StateCaptureError';
import { classNameOfClass, ENTITY_ID_FIELD, fieldRulesOf, stateHooksOf } from './stateRules';

let defaultCodec: Codec | undefined;

/** A Codec without a refs hook, made on first use; a node passes its own so that actor refs encode too. */
function codecOr(codec: Codec | undefined): Codec {
  return codec ?? (defaultCodec ??= new Codec());
}

/**
 * The state of `actor` as a record, by the rules, without encoding it:
 * - `getState()` and `setState()` on the actor: what `getState()` returns (it must be an object);
 * - else a `@persistent(...)` whitelist: exactly the fields it names;
 * - else every own enumerable string-keyed field whose name does not start with `_`, apart from those in
 *   `static excludeFields` and apart from `entityId` (the entity's identity, given to its constructor).
 *
 * The values are the actor's own (not copies): encode them before the actor handles another message.
 * @throws {StateCaptureError} naming the class (and the field) if a `@persistent` field is missing, the class
 *   has only one of getState/setState, chooses its state two ways, or getState() returns no object.
 */
export function stateOf(actor: object): Record<string, unknown> {
  const hooks = stateHooksOf(actor);
  if (hooks !== undefined) {
    const state: unknown = hooks.getState();
    if (typeof state !== 'object' || state === null) {
      const name = classNameOfClass(actor.constructor);
      throw new StateCaptureError(name, undefined,
        `getState() of actor class ${name} returned ${state === null ? 'null' : typeof state}; return an object ` +
        `(a record of its state) that setState() can take back`);
    }
    return state as Record<string, unknown>;
  }
  const fields = actor as Record<string, unknown>;
  const rules = fieldRulesOf(actor.constructor);
  const state: Record<string, unknown> = {};
  if (rules.kind === 'whitelist') {
    for (const field of rules.fields) {
      if (!Object.prototype.hasOwnProperty.call(actor, field)) throw missingField(actor, rules.fields, field);
      state[field] = fields[field];
    }
    return state;
  }
  const exclude = rules.exclude;
  for (const field of Object.keys(actor)) {
    if (field.charCodeAt(0) === 95 /* _ */ || field === ENTITY_ID_FIELD || exclude.has(field)) continue;
    if (field === '__proto__') throw protoField(actor);
    state[field] = fields[field];
  }
  return state;
}

/**
 * Puts a state taken by {@link stateOf} (on this node or another) onto `actor`, normally an instance just
 * constructed (an entity with its id): with `setState(state)` when the actor has the hooks, else by assigning
 * each field of `state` in turn. Every field of `state` is assigned, also one the class no longer declares or
 * now excludes (so a snapshot from an older version of the class is not cut down silently); `entityId` never
 * is, so a snapshot cannot change which entity an instance is.
 * @throws {StateCaptureError} naming the class and field if a field cannot be assigned (a frozen or
 *   non-writable field, a field named `__proto__`), or for the class errors of `stateOf`.
 */
export function applyState(actor: object, state: object): void {
  const name = classNameOfClass(actor.constructor);
  if (typeof state !== 'object' || state === null) {
    throw new StateCaptureError(name, undefined,
      `The state given for actor class ${name} is ${state === null ? 'null' : typeof state}, not an object`);
  }
  const hooks = stateHooksOf(actor);
  if (hooks !== undefined) {
    hooks.setState(state);
    return;
  }
  fieldRulesOf(actor.constructor); // the same class checks as at capture
  const fields = actor as Record<string, unknown>;
  const values = state as Record<string, unknown>;
  for (const field of Object.keys(values)) {
    if (field === ENTITY_ID_FIELD) continue;
    if (field === '__proto__') throw protoField(actor);
    try {
      fields[field] = values[field];
    } catch (error) {
      throw new StateCaptureError(name, field, `Could not restore field '${field}' of actor class ${name}: ` +
        `${describe(error)}; keep state fields plain, writable properties`, { cause: error });
    }
  }
}

/**
 * The state of `actor` ({@link stateOf}) as bytes of the wire codec: Map, Set, Date, bigint, Uint8Array,
 * `@message` class instances at any depth, and actor refs when `codec` has a refs hook (pass the node's codec;
 * the default one has none). The bytes are fresh and the caller's; equal bytes mean an equal state, so a
 * replicator skips an unchanged state with {@link stateUnchanged}.
 *
 * `previous`, the bytes of an earlier capture: when the state encodes to the same bytes, `previous` itself is
 * returned and no new bytes are made (what a replicator does after every message, most of them reads, and a
 * hand-off for every entity it stops: the copy out of the codec's buffer was most of a capture's cost).
 * @throws {StateCaptureError} naming the class and the field whose value the wire cannot carry (a function, a
 *   symbol, an instance of a class not registered with `@message`, a cycle...), at this capture.
 */
export function captureState(actor: object, codec?: Codec, previous?: Uint8Array): Uint8Array {
  const state = stateOf(actor);
  const wire = codecOr(codec);
  try {
    if (previous === undefined) return wire.encode(state);
    const shared = wire.encodeShared(state);
    return stateUnchanged(previous, shared) ? previous : shared.slice();
  } catch (error) {
    throw encodeFailure(actor, state, wire, error);
  }
}

/**
 * Decodes `bytes` from {@link captureState} and puts the state onto `actor` ({@link applyState}).
 * @throws the codec's `MalformedMessageError` or `UnknownMessageClassError` if the bytes do not decode on
 *   this node, or {@link StateCaptureError} as `applyState`.
 */
export function restoreState(actor: object, bytes: Uint8Array, codec?: Codec): void {
  applyState(actor, codecOr(codec).decode(bytes) as object);
}

/**
 * Whether `next` holds the same state as `previous` (both from {@link captureState}): a byte comparison, so
 * exact (a hash could collide and skip a real change); undefined `previous` (nothing sent yet) is a change.
 * The same state written in another field or Map order compares as changed, which only costs a resend.
 */
export function stateUnchanged(previous: Uint8Array | undefined, next: Uint8Array): boolean {
  return previous !== undefined && (previous === next || (previous.byteLength === next.byteLength &&
    Buffer.compare(previous, next) === 0));
}

/** The StateCaptureError for a state that failed to encode: encodes field by field to find the culprit. */
function encodeFailure(actor: object, state: Record<string, unknown>, codec: Codec, error: unknown): unknown {
  if (!(error instanceof MessageEncodingError)) return error;
  const name = classNameOfClass(actor.constructor);
  for (const field of Object.keys(state)) {
    try {
      codec.encode({ [field]: state[field] }); // same depth as in the whole state
    } catch (fieldError) {
      const at = fieldError instanceof MessageEncodingError && fieldError.path !== '' && fieldError.path !== field
        ? ` at ${fieldError.path}` : '';
      return new StateCaptureError(name, field,
        `Cannot capture the state of actor class ${name}: field '${field}' cannot be encoded${at}: ` +
        `${codecReason(fieldError)}. ` +
        `Keep it out of the state (start its name with _, list it in static excludeFields, or name the state ` +
        `fields with @persistent) or hold data the wire carries`, { cause: fieldError });
    }
  }
  return new StateCaptureError(name, undefined,
    `Cannot capture the state of actor class ${name}: ${error.message}`, { cause: error });
}

/** The codec's reason, without its own notes on where in its root (here a one-field record) the value sits. */
function codecReason(error: unknown): string {
  if (!(error instanceof MessageEncodingError)) return describe(error);
  return error.message.replace(/ \((found at .* in Object|it is the message itself)\)/, '').replace(/^Message Object /, 'It ');
}

function missingField(actor: object, fields: readonly string[], field: string): StateCaptureError {
  const name = classNameOfClass(actor.constructor);
  return new StateCaptureError(name, field, `Actor class ${name} is @persistent(${fields.map((f) => `'${f}'`)
    .join(', ')}) but the instance has no own field '${field}'; give it a value in the class body or the ` +
    `constructor (${field} = ...), or remove it from @persistent`);
}

function protoField(actor: object): StateCaptureError {
  const name = classNameOfClass(actor.constructor);
  return new StateCaptureError(name, '__proto__',
    `Actor class ${name} has a state field named '__proto__', which cannot be restored safely; rename it`);
}
