// A suspicion timer whose timeout shrinks with independent confirmations (memberlist suspicion.go; Lifeguard
// section 4.2, "LHA-Suspicion"). It starts at its maximum, so a lone and possibly wrong suspicion gives the
// member ample time to refute; each further member that independently suspects it pulls the deadline in,
// down to the minimum after k confirmations, so a really failed member is declared dead quickly.

import type { Clock, TimerHandle } from '@casty/core';
import type { NodeId } from '../transport/Transport';

/**
 * memberlist's suspicionTimeout (util.go): the minimum suspicion timeout for a cluster of `n` members,
 * suspicionMult * max(1, log10(max(1, n))) * probeIntervalMs, rounded down to a whole millisecond.
 */
export function suspicionTimeout(suspicionMult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.floor(suspicionMult * Math.floor(nodeScale * 1000) * probeIntervalMs / 1000);
}

/**
 * memberlist's remainingSuspicionTime: with `n` of `k` wanted confirmations, the total timeout is
 * max - (max - min) * log(n + 1) / log(k + 1), floored to a millisecond and never below min; returns what
 * is left of it after `elapsedMs` (may be negative: fire at once).
 */
export function remainingSuspicionTime(n: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  const fraction = k < 1 ? 1 : Math.log(n + 1) / Math.log(k + 1);
  const timeout = Math.max(minMs, Math.floor(maxMs - fraction * (maxMs - minMs)));
  return timeout - elapsedMs;
}

/** The suspicion of one member: a timer on the Clock that confirmations from distinct nodes bring forward. */
export class Suspicion {
  private confirmations = 0;
  private readonly confirmedBy = new Set<NodeId>();
  private readonly start: number;
  private timer: TimerHandle | undefined;
  /** When the timer is due, on the clock. */
  private deadline: number;
  /** True once a late firing was given its grace period. */
  private graced = false;

  /**
   * Starts the timer: at `maxMs`, or `minMs` when no confirmations are expected (k < 1, a small cluster).
   * @param from who raised the suspicion; its own re-gossip never counts as a confirmation
   * @param k confirmations that drive the timeout down to `minMs`
   * @param onTimeout called once when the timer fires, with the number of confirmations seen
   * @param stallGraceMs a timer that fires later than this past its deadline means this process was stalled
   *   (a blocked event loop, a SIGSTOP, a long GC): the member's refutation may be waiting, unread, in a socket
   *   buffer, so the timer waits this much more once, letting that I/O be read first
   */
  constructor(private readonly clock: Clock, from: NodeId, private readonly k: number, private readonly minMs: number,
    private readonly maxMs: number, private readonly onTimeout: (confirmations: number) => void,
    private readonly stallGraceMs = Number.POSITIVE_INFINITY) {
    this.confirmedBy.add(from);
    this.start = clock.now();
    this.deadline = this.start + (k < 1 ? minMs : maxMs);
    this.timer = clock.setTimeout(() => this.fire(), k < 1 ? minMs : maxMs);
  }

  /** Independent confirmations counted so far. */
  get confirmationCount(): number {
    return this.confirmations;
  }

  /**
   * Counts a confirmation from `from`. Returns true when it was new information (worth re-gossiping), false
   * for a node already counted or once k confirmations are in.
   */
  confirm(from: NodeId): boolean {
    if (this.confirmedBy.has(from)) return false;
    this.confirmedBy.add(from); // kept past k (and after the timer): who suspects it (see confirmers)
    if (this.timer === undefined || this.confirmations >= this.k) return false;
    this.confirmations++;
    const remaining = remainingSuspicionTime(this.confirmations, this.k, this.clock.now() - this.start, this.minMs, this.maxMs);
    this.clock.clearTimeout(this.timer);
    this.deadline = this.clock.now() + Math.max(0, remaining);
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, remaining));
    return true;
  }

  /** Every member that suspected it: who raised the suspicion, and each confirmation seen (past k too). */
  get confirmers(): ReadonlySet<NodeId> {
    return this.confirmedBy;
  }

  /** Counts `ids` among the confirmers (not toward the timeout): a suspicion started again keeps who suspected it. */
  absorb(ids: Iterable<NodeId>): void {
    for (const id of ids) this.confirmedBy.add(id);
  }

  /** Stops the timer (the member refuted, or was declared dead or left by other means). */
  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    if (this.timer === undefined) return;
    if (!this.graced && this.clock.now() - this.deadline > this.stallGraceMs) {
      this.graced = true;
      this.timer = this.clock.setTimeout(() => this.fire(), this.stallGraceMs);
      return;
    }
    this.timer = undefined;
    this.onTimeout(this.confirmations);
  }
}
