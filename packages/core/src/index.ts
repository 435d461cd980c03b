// @casty/core: the local actor runtime. This file lists the public API by name; internals are not exported.
export {
  CastyError, AskTimeoutError, ActorStoppedError, ActorNotFoundError, ActorNameTakenError, MailboxFullError,
  UnhandledMessageError, SystemShutdownError, ActorInitializationError, InvalidArgumentError, CombinedRefError,
  MessageRegistrationError, registerErrorClass, errorClassForCode, describe,
} from './errors';
export { message, registerMessageClass, messageNameOf, messageClassOf, classNameOf, Request } from './message';
export type { MessageClass, ReplyOf } from './message';
export { SystemClock } from './Clock';
export type { Clock, TimerHandle } from './Clock';
