// The error of actor state capture and restore, in its own file so the state feature stays apart from the
// runtime's errors; it registers its code like every other Casty error, so it survives the wire.

import { CastyError, registerErrorClass } from '../errors';

/**
 * An actor's state could not be captured or restored: a field holds a value the wire cannot carry (a function,
 * a symbol, an instance of a class not registered with `@message`, a cycle...), a `@persistent` field is
 * missing, the class chooses its state in two ways at once, or it has `getState()` without `setState()` (or the
 * reverse). Raised by `stateOf`, `captureState`, `applyState`, `restoreState` and `@persistent`; the message
 * names the actor class and, when one is to blame, the field.
 */
export class StateCaptureError extends CastyError {
  static readonly code = 'STATE_CAPTURE';

  /**
   * @param actorClass the name of the actor's class.
   * @param field the field at fault, or undefined when the class as a whole is (two ways of choosing its state).
   */
  constructor(readonly actorClass: string, readonly field: string | undefined, message: string,
    options?: { cause?: unknown }) {
    super(StateCaptureError.code, message, options);
  }
}

registerErrorClass(StateCaptureError.code, StateCaptureError);
