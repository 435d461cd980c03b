// Casty's errors: one base class with a stable `code`, and a subclass for each failure a user catches.
// The codes are part of the wire contract (a remote ask rejects with an error rebuilt from its code),
// so they are only ever added, never renamed.

/** Base of every error Casty raises. `code` is stable across versions and across the wire. */
export class CastyError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

type ErrorClass = new (...args: never[]) => CastyError;
const errorClassesByCode = new Map<string, ErrorClass>();

/** Makes an error class known by its code, so an error that crossed the wire is rebuilt as that class. */
export function registerErrorClass(code: string, cls: ErrorClass): void {
  errorClassesByCode.set(code, cls);
}

/** The error class registered for `code`, if any. */
export function errorClassForCode(code: string): ErrorClass | undefined {
  return errorClassesByCode.get(code);
}

/** An `ask` got no reply within its timeout. */
export class AskTimeoutError extends CastyError {
  static readonly code = 'ASK_TIMEOUT';
  constructor(readonly actor: string, readonly messageClass: string, readonly timeoutMs: number) {
    super(AskTimeoutError.code,
      `Ask to ${actor} with ${messageClass} got no reply within ${timeoutMs} ms; ` +
      `check that the actor calls ctx.reply() (or returns a value from its @handle method) for ${messageClass}, ` +
      `or pass a longer { timeout }`);
  }
}

/** A message was sent to an actor that has stopped (an ask rejects with this at once instead of timing out). */
export class ActorStoppedError extends CastyError {
  static readonly code = 'ACTOR_STOPPED';
  constructor(readonly actor: string, readonly messageClass: string) {
    super(ActorStoppedError.code,
      `Actor ${actor} is stopped, so ${messageClass} was not delivered (it went to dead letters); ` +
      `look the actor up again or watch it to learn when it stops`);
  }
}

/** No actor is known under a name or path. */
export class ActorNotFoundError extends CastyError {
  static readonly code = 'ACTOR_NOT_FOUND';
  constructor(readonly actor: string) {
    super(ActorNotFoundError.code, `No actor named '${actor}' exists; spawn it first or check the name`);
  }
}

/** A name is already taken among an actor's siblings. */
export class ActorNameTakenError extends CastyError {
  static readonly code = 'ACTOR_NAME_TAKEN';
  constructor(readonly actorName: string, readonly parentPath: string) {
    super(ActorNameTakenError.code,
      `Actor name '${actorName}' is already taken under ${parentPath}; pick another name or stop the first`);
  }
}

/** A bounded mailbox with the `reject` overflow policy is full. */
export class MailboxFullError extends CastyError {
  static readonly code = 'MAILBOX_FULL';
  constructor(readonly actor: string, readonly capacity: number, readonly messageClass: string) {
    super(MailboxFullError.code,
      `Mailbox of ${actor} is full (capacity ${capacity}); ${messageClass} was rejected. ` +
      `Slow the sender down, raise the capacity, or choose the drop-oldest/drop-newest overflow policy`);
  }
}

/** The actor's receive did not handle a message it was asked with. */
export class UnhandledMessageError extends CastyError {
  static readonly code = 'UNHANDLED_MESSAGE';
  constructor(readonly actor: string, readonly messageClass: string) {
    super(UnhandledMessageError.code,
      `Actor ${actor} has no handler for ${messageClass}; add a @handle(${messageClass}) method or handle it in receive()`);
  }
}

/** The actor system has shut down; nothing can be spawned on it. */
export class SystemShutdownError extends CastyError {
  static readonly code = 'SYSTEM_SHUTDOWN';
  constructor(readonly systemName: string, readonly attempted: string) {
    super(SystemShutdownError.code, `Actor system '${systemName}' has shut down; cannot ${attempted}. Create a new system`);
  }
}

/** An actor's onStart threw, so it never started. */
export class ActorInitializationError extends CastyError {
  static readonly code = 'ACTOR_INITIALIZATION';
  constructor(readonly actor: string, cause: unknown) {
    super(ActorInitializationError.code,
      `Actor ${actor} failed in onStart: ${describe(cause)}; it was stopped`, { cause });
  }
}

/** An argument or option given to a Casty call is wrong. */
export class InvalidArgumentError extends CastyError {
  static readonly code = 'INVALID_ARGUMENT';
  constructor(message: string) {
    super(InvalidArgumentError.code, message);
  }
}

/** Two refs could not be combined with `or()`, or a combined ref got a message none of its actors handles. */
export class CombinedRefError extends CastyError {
  static readonly code = 'COMBINED_REF';
  constructor(message: string) {
    super(CombinedRefError.code, message);
  }
}

/** A message class is missing from, or clashes in, the `@message` registry. */
export class MessageRegistrationError extends CastyError {
  static readonly code = 'MESSAGE_REGISTRATION';
  constructor(message: string) {
    super(MessageRegistrationError.code, message);
  }
}

/**
 * A feature was asked of a system that does not have it: `ClusterMembership.of(system)` on a local system, say.
 * The message names the system, the extension, and how to make a system that has it.
 */
export class ExtensionNotFoundError extends CastyError {
  static readonly code = 'EXTENSION_NOT_FOUND';
  constructor(message: string) {
    super(ExtensionNotFoundError.code, message);
  }
}

/**
 * A Casty decorator was compiled as a TC39 standard decorator (TypeScript 5+ and esbuild/tsx emit those when
 * `experimentalDecorators` is off, tsx whenever it finds no tsconfig), so it would register nothing: thrown when the
 * class is defined, not at the first message.
 */
export class DecoratorModeError extends CastyError {
  static readonly code = 'DECORATOR_MODE';
  constructor(readonly decorator: string, readonly target: string) {
    super(DecoratorModeError.code,
      `${decorator} on ${target} was compiled as a standard (TC39) decorator, but Casty's decorators are ` +
      `TypeScript's experimental decorators: set "experimentalDecorators": true in the tsconfig.json that compiles ` +
      `this file. tsx reads the tsconfig.json of the directory it runs in; run it from the project's directory or ` +
      `point it at the file with TSX_TSCONFIG_PATH=path/to/tsconfig.json (or tsx --tsconfig path/to/tsconfig.json)`);
  }
}

/** A short, safe description of any thrown value, for error messages. */
export function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

for (const cls of [AskTimeoutError, ActorStoppedError, ActorNotFoundError, ActorNameTakenError, MailboxFullError,
  UnhandledMessageError, SystemShutdownError, ActorInitializationError, InvalidArgumentError, CombinedRefError,
  MessageRegistrationError, ExtensionNotFoundError, DecoratorModeError]) {
  registerErrorClass(cls.code, cls as unknown as ErrorClass);
}
