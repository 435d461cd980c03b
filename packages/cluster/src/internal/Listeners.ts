// The tiny listener list SWIM and gossip tell their events through. A listener that throws is reported to the
// logger and does not stop the protocol or the other listeners.

import type { Logger } from '@casty/core';
import type { Unsubscribe } from '../transport/Transport';

/** Listeners of one event type, each called in the order added. */
export class Listeners<TEvent> {
  private readonly listeners = new Set<(event: TEvent) => void>();

  constructor(private readonly logger: Logger, private readonly what: string) {}

  add(listener: (event: TEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: TEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error(`A ${this.what} listener threw; the protocol goes on`, err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
}
