// How an Error crosses the wire: its name, message, code and extra own fields (never its stack, which is
// large and exposes the sender's file layout), and how it is rebuilt: as the class registered for its code
// when there is one, so `instanceof AskTimeoutError` holds on the asking node, else as a plain Error (or the
// built-in subclass its name names) that still carries name, message and code.

import { errorClassForCode } from '../errors';
import { MalformedMessageError } from './errors';

/** The wire form of an error: `[name, message, code | null, extras]`, plus `cause` when the error has one. */
export type ErrorParts = [string, string, string | null, Record<string, unknown>] |
  [string, string, string | null, Record<string, unknown>, unknown];

// Own fields written in their own slot (or never), not among the extras.
const NOT_EXTRA = new Set(['name', 'message', 'stack', 'code', 'cause']);

const BUILT_IN_ERRORS: ReadonlyMap<string, ErrorConstructor> = new Map<string, ErrorConstructor>([
  ['Error', Error], ['TypeError', TypeError], ['RangeError', RangeError], ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError], ['EvalError', EvalError], ['URIError', URIError],
]);

/** The wire parts of `error`; `keepExtra` can drop extra fields (and the cause) that would not encode. */
export function errorToParts(error: Error, keepExtra: (value: unknown) => boolean = () => true): ErrorParts {
  const fields = error as unknown as Record<string, unknown>;
  const extras: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    if (!NOT_EXTRA.has(key) && keepExtra(fields[key])) extras[key] = fields[key];
  }
  const rawCode = fields['code'];
  const code = typeof rawCode === 'string' ? rawCode : null;
  const name = String(error.name);
  const message = String(error.message);
  return error.cause !== undefined && keepExtra(error.cause)
    ? [name, message, code, extras, error.cause]
    : [name, message, code, extras];
}

/** Rebuilds an error from its wire parts without running any constructor. */
export function errorFromParts(parts: unknown): Error {
  if (!Array.isArray(parts) || parts.length < 4 || typeof parts[0] !== 'string' || typeof parts[1] !== 'string' ||
    (parts[2] !== null && typeof parts[2] !== 'string') || typeof parts[3] !== 'object' || parts[3] === null) {
    throw new MalformedMessageError('an error payload is not [name, message, code, fields]');
  }
  const [name, message, code, extras] = parts as [string, string, string | null, Record<string, unknown>];
  const cls = code === null ? undefined : errorClassForCode(code);
  const prototype = (cls ?? BUILT_IN_ERRORS.get(name) ?? Error).prototype as Error;
  const error = Object.create(prototype) as Error & Record<string, unknown>;
  // Like the Error constructor: message and stack are own but not enumerable.
  Object.defineProperty(error, 'message', { value: message, writable: true, configurable: true });
  Object.defineProperty(error, 'stack', {
    value: `${name}: ${message}\n    at <remote node> (the stack does not cross the wire)`,
    writable: true, configurable: true,
  });
  if (prototype.name !== name) error.name = name;
  if (code !== null) error['code'] = code;
  Object.assign(error, extras);
  if (parts.length > 4) {
    Object.defineProperty(error, 'cause', { value: parts[4], writable: true, configurable: true });
  }
  return error;
}
