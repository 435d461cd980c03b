// Reconnect backoff: exponential growth with a cap and random jitter, as a pure function so it is tested
// without sockets or time.

import type { ReconnectConfig } from '../transport/TransportConfig';

/**
 * Milliseconds to wait before reconnect attempt `attempt` (0 for the first retry):
 * min(maxDelayMs, initialDelayMs * multiplier^attempt), less a random part of up to `jitter` of it,
 * so that many nodes that lost the same peer do not redial it in step. Never below 1.
 */
export function backoffDelay(attempt: number, config: Required<ReconnectConfig>, random: () => number): number {
  const base = Math.min(config.maxDelayMs, config.initialDelayMs * config.multiplier ** attempt);
  return Math.max(1, Math.round(base * (1 - config.jitter * random())));
}
