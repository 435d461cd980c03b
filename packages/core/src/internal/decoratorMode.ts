// Casty's decorators are TypeScript's experimental ones. A TC39 standard decorator is called differently,
// `(value, context)` with `context.kind`, and would quietly register nothing (a @handle method stored on the
// method itself, never found): tsx without a tsconfig compiles every decorator that way. Each decorator calls
// this first so the program stops where the class is defined, with the fix in the error.

import { DecoratorModeError } from '../errors';

/** Throws DecoratorModeError when `args` (a decorator's arguments) are those of a standard decorator. */
export function rejectStandardDecorator(decorator: string, args: readonly unknown[]): void {
  const context = args[1];
  if (typeof context !== 'object' || context === null) return;
  const { kind, name } = context as { kind?: unknown; name?: unknown };
  if (typeof kind !== 'string') return;
  const value = args[0] as { name?: unknown } | undefined;
  const className = typeof value === 'function' && typeof value.name === 'string' && value.name !== '' ? value.name : undefined;
  const target = kind === 'class'
    ? `class ${className ?? String(name ?? '(anonymous)')}`
    : `${kind} ${String(name)}`;
  throw new DecoratorModeError(decorator, target);
}
