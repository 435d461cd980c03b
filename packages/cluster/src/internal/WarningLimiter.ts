// WarningLimiter: at most `perInterval` warnings per key in each `intervalMs`; the rest go to debug, and the
// next warning for that key says how many were logged at debug since. The transport and remote messaging use
// it wherever a peer (or an attacker) can make the same complaint thousands of times a second.

import type { Clock } from '@casty/core';
import type { Logger } from '@casty/core';

/** Most keys remembered; past it the memory starts over (a flood of keys cannot grow it without bound). */
const MAX_KEYS = 1024;

export class WarningLimiter {
  private readonly windows = new Map<string, { since: number; warned: number; quieted: number }>();

  constructor(private readonly clock: Clock, private readonly logger: Logger,
    private readonly intervalMs: number, private readonly perInterval = 1) {}

  /** Logs `message` as a warning if `key` has warnings left in this interval, else at debug. */
  warn(key: string, message: string, error?: unknown, what = 'more like it'): void {
    const now = this.clock.now();
    let window = this.windows.get(key);
    if (window === undefined || now - window.since >= this.intervalMs) {
      if (window === undefined && this.windows.size >= MAX_KEYS) this.windows.clear();
      window = { since: now, warned: 0, quieted: window?.quieted ?? 0 };
      this.windows.set(key, window);
    }
    if (window.warned >= this.perInterval) {
      window.quieted++;
      this.logger.debug(message, error);
      return;
    }
    window.warned++;
    const quieted = window.quieted;
    window.quieted = 0;
    this.logger.warn(quieted === 0 ? message : `${message} (and ${quieted} ${what} logged at debug level since the ` +
      'last warning)', error);
  }
}
