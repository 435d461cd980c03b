// Counters of the local runtime, for Casty's own monitoring (casty's management endpoint and its /metrics,
// OpenTelemetry metrics): plain numbers kept where the work happens (one addition per batch of messages, one
// per ask), read here as a snapshot. Not public API: users read them through the management endpoint.

import type { ActorSystem } from '../ActorSystem';
import type { AskObserver } from './AskRegistry';

/** The key of ActorSystem's accessor for its counters (a symbol, so it is not in the public API). */
export const RUNTIME_STATS: unique symbol = Symbol('casty.runtimeStats');

/** A snapshot of a system's runtime counters; the totals count since the system started. */
export interface RuntimeStats {
  /** Messages actors processed (tells, asks, timers, system messages), every one counted once. */
  readonly messagesProcessed: number;
  /**
   * Asks registered in this system: those its callers and actors make, and those it serves for other nodes (a
   * remote ask is delivered as a local one), so one ask across nodes counts on both.
   */
  readonly asksStarted: number;
  /** Asks that failed with AskTimeoutError. */
  readonly asksTimedOut: number;
  /** Asks waiting for their reply now. */
  readonly asksPending: number;
}

/** The key of ActorSystem's method that sets the AskObserver of its asks (casty's telemetry). */
export const OBSERVE_ASKS: unique symbol = Symbol('casty.observeAsks');
/** The key of ActorSystem's accessor for its mailbox depths. */
export const MAILBOX_DEPTHS: unique symbol = Symbol('casty.mailboxDepths');

/** Messages waiting in the mailboxes of a system's actors, now. */
export interface MailboxDepths {
  /** Messages queued in all mailboxes. */
  readonly queued: number;
  /** Messages queued in the fullest mailbox. */
  readonly deepest: number;
}

/** The runtime counters of `system`, now. */
export function runtimeStats(system: ActorSystem): RuntimeStats {
  return system[RUNTIME_STATS]();
}

/**
 * Tells `observer` of every ask `system` registers from now on (the asks its callers and actors make, and those
 * it serves for other nodes); undefined stops observing.
 */
export function observeAsks(system: ActorSystem, observer: AskObserver | undefined): void {
  system[OBSERVE_ASKS](observer);
}

/** The depths of `system`'s mailboxes, now: a walk over its actors, for a metrics reader's collection, not a hot path. */
export function mailboxDepths(system: ActorSystem): MailboxDepths {
  return system[MAILBOX_DEPTHS]();
}
