// Timers an actor sets on itself (Akka's TimerScheduler): keyed, cancellable, delivered through the
// mailbox, and all cancelled when the actor stops or restarts.

/** `ctx.timers`. Delays are in milliseconds. Starting a timer with a key in use replaces that timer. */
export interface Timers<TMessage> {
  /** Sends `msg` to self once, after `delayMs`. */
  startSingleTimer(key: unknown, msg: TMessage, delayMs: number): void;
  /** Sends `msg` to self every `intervalMs`, first after `intervalMs`, until cancelled. */
  startPeriodicTimer(key: unknown, msg: TMessage, intervalMs: number): void;
  /** True while the timer under `key` may still deliver a message. */
  isActive(key: unknown): boolean;
  /** Cancels the timer; a message it already queued is not delivered either. */
  cancel(key: unknown): void;
  /** Cancels every timer of this actor. */
  cancelAll(): void;
}
