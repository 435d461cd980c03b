// Turns the encoder's internal `Unencodable` signal into the error a user reads: what the value was, where in
// the message it sits, and what to do about it.

import { classNameOf } from '../message';
import { MessageEncodingError } from './errors';
import type { Unencodable } from './Unencodable';
import { pathTo } from './valuePath';

const SUPPORTED = 'primitives, arrays, plain objects, Map, Set, Date, Uint8Array, bigint, Error, ' +
  '@message classes and actor refs';

/** The `MessageEncodingError` for `problem`, found while encoding `root` (at most `maxDepth` levels deep). */
export function describeUnencodable(problem: Unencodable, root: unknown, maxDepth: number,
  isRef?: (value: unknown) => boolean): MessageEncodingError {
  const rootName = classNameOf(root);
  if (problem.reason === 'depth') {
    return new MessageEncodingError(
      `Message ${rootName} is nested deeper than ${maxDepth} levels or contains a cycle; flatten it or break ` +
      `the cycle (if it really is that deep, raise the codec's maxDepth on every node)`, '', rootName);
  }
  const { value } = problem;
  const path = pathTo(root, value, isRef) ?? '';
  const where = path === '' ? ' (it is the message itself)' : ` (found at ${path} in ${rootName})`;
  if (typeof value === 'function') {
    return new MessageEncodingError(`Cannot send a function (${value.name || 'anonymous'}) in a message${where}; ` +
      'send data instead, for example a message the receiver handles', path, 'function');
  }
  if (typeof value === 'symbol') {
    return new MessageEncodingError(`Cannot send a symbol (${String(value)}) in a message${where}; ` +
      'use a string instead', path, 'symbol');
  }
  const className = classNameOf(value);
  if (isBuiltIn(value)) {
    return new MessageEncodingError(`Cannot send a ${className} in a message${where}; the wire carries ` +
      `${SUPPORTED}, so convert it to one of those`, path, className);
  }
  return new MessageEncodingError(`Message class ${className} is not registered for the wire; decorate it with ` +
    `@message('my.app.${className}') (nested classes need it too)${where}`, path, className);
}

/** Whether `value` is an instance of a global built-in class (RegExp, Float64Array, WeakMap, ...), not a user's. */
function isBuiltIn(value: unknown): boolean {
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  const name = ctor?.name;
  return name !== undefined && name !== '' && (globalThis as Record<string, unknown>)[name] === ctor;
}
