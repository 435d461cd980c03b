// Lifeguard's local health awareness (memberlist awareness.go; Lifeguard paper section 4.1, "LHA-Probe").
// A node that misses acks or nacks, or has to refute a suspicion about itself, is more likely slow itself
// (CPU starved, GC, saturated network) than surrounded by failed peers; so it raises its score and probes
// more slowly and patiently, instead of spreading false suspicions.

/** A health score from 0 (healthy) to max - 1; timeouts are multiplied by (score + 1). */
export class Awareness {
  private current = 0;

  /** @param max awarenessMaxMultiplier: the largest factor a timeout is stretched by. */
  constructor(private readonly max: number) {}

  /** The current score, 0 when healthy. */
  get score(): number {
    return this.current;
  }

  /**
   * Adds `delta` (negative after a successful probe), clamped to [0, max - 1].
   * Per probe: -1 for an ack; +1 for a failed probe without indirect helpers; +1 per expected nack that
   * never came; +1 for each refutation of a suspicion about this node.
   */
  applyDelta(delta: number): void {
    this.current = Math.min(this.max - 1, Math.max(0, this.current + delta));
  }

  /** `timeoutMs` multiplied by (score + 1). */
  scale(timeoutMs: number): number {
    return timeoutMs * (this.current + 1);
  }
}
