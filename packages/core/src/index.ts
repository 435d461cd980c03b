// @casty/core: the local actor runtime. This file lists the public API by name; internals are not exported.
import { noteModuleFormat } from './internal/formatGuard';

noteModuleFormat();
export {
  CastyError, AskTimeoutError, ActorStoppedError, ActorNotFoundError, ActorNameTakenError, MailboxFullError,
  UnhandledMessageError, SystemShutdownError, ActorInitializationError, InvalidArgumentError, CombinedRefError,
  MessageRegistrationError, ExtensionNotFoundError, DecoratorModeError, registerErrorClass, errorClassForCode, describe,
} from './errors';
export { message, registerMessageClass, messageNameOf, messageClassOf, classNameOf, Request } from './message';
export type { AskableOf, MessageClass, RepliesOf, ReplyOf } from './message';
export { SystemClock } from './Clock';
export type { Clock, TimerHandle } from './Clock';
export { Actor } from './Actor';
export { ActorRef } from './ActorRef';
export type { AskOptions } from './ActorRef';
export { CombinedRef } from './CombinedRef';
export type { Context, Behavior, BecomeOptions } from './Context';
export type { Timers } from './Timers';
export { handle } from './handle';
export type { HandlerResult } from './handle';
export { ActorSystem, ExtensionKey } from './ActorSystem';
export type { ActorSystemOptions, SystemExtension } from './ActorSystem';
export { DEFAULT_SHUTDOWN_PHASE_TIMEOUT_MS, SHUTDOWN_PHASES, ShutdownPhases } from './ShutdownPhases';
export type { ShutdownPhase, ShutdownTask } from './ShutdownPhases';
export { MailboxOverflow } from './spawn';
export type { SpawnOptions, MailboxOptions, ActorClass, AnyActor, MessageOf, SpawnParams, Spawner } from './spawn';
export { supervised, SupervisionStrategy, MultiChildStrategy, defaultSupervisorConfig, supervisorConfigOf } from './supervision';
export type { SupervisorConfig } from './supervision';
export {
  ActorEvent, ActorStarted, ActorStopped, ActorFailed, ActorRestarted, DeadLetter, UnhandledMessage, Terminated,
} from './events';
export type { StopReason, DeadLetterReason } from './events';
export { EventStream } from './EventStream';
export { consoleLogger, silentLogger } from './Logger';
export type { Logger } from './Logger';
export { createConsoleLogger, jsonLogger, pinoLogger, serializeError, winstonLogger, withLevel } from './loggers';
export type { JsonLoggerOptions, LogLevel, PinoLike, WinstonLike } from './loggers';
export * from './codec';
export { StateCaptureError } from './state/StateCaptureError';
export { persistent } from './state/persistent';
export { stateOf, applyState, captureState, restoreState, stateUnchanged } from './state/ActorState';
export type { StateHooks } from './state/stateRules';
