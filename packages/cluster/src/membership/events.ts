// What the SWIM engine tells its listeners, and the tiny listener list it (and Gossip) tell them through.
// A listener that throws is reported to the logger and does not stop the protocol or the other listeners.

import type { TransportLogger } from '../transport/logger';
import type { Unsubscribe } from '../transport/Transport';
import type { MemberIdConflictError } from './errors';
import type { Member } from './MemberState';

/** A change in this node's view of the cluster. */
export type MembershipEvent =
  /** A member became known, or came back from dead or left (a rejoin). */
  | { readonly type: 'up'; readonly member: Member }
  /** A member missed its probes and is suspected. */
  | { readonly type: 'suspect'; readonly member: Member }
  /** A suspected member refuted the suspicion and is alive again. */
  | { readonly type: 'alive'; readonly member: Member }
  /** A member did not refute a suspicion in time: detected as failed. */
  | { readonly type: 'down'; readonly member: Member }
  /** A member announced that it left gracefully. */
  | { readonly type: 'left'; readonly member: Member }
  /** This node got an answer from the cluster (or has no seeds to join through). */
  | { readonly type: 'joined' }
  /** Two addresses claim one node id; the claim was not accepted. */
  | { readonly type: 'conflict'; readonly error: MemberIdConflictError };

/** Listeners of one event type, each called in the order added. */
export class Listeners<TEvent> {
  private readonly listeners = new Set<(event: TEvent) => void>();

  constructor(private readonly logger: TransportLogger, private readonly what: string) {}

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
