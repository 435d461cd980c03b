// Counters of the local runtime, for Casty's own monitoring (casty's management endpoint and its /metrics,
// OpenTelemetry metrics): plain numbers kept where the work happens (one addition per batch of messages, one
// per ask), read here as a snapshot. Not public API: users read them through the management endpoint.

import type { ActorSystem } from '../ActorSystem';

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

/** The runtime counters of `system`, now. */
export function runtimeStats(system: ActorSystem): RuntimeStats {
  return system[RUNTIME_STATS]();
}
