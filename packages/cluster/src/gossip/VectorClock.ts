// A vector clock (pekko VectorClock.scala): one counter per node that wrote, so two versions of a value can
// be ordered (one saw the other) or found concurrent (written without seeing each other). A value: every
// operation returns a new clock, and merge is commutative, associative and idempotent.

import type { NodeId } from '../transport/Transport';

/** How clock `a` relates to clock `b`. */
export type ClockOrdering = 'before' | 'after' | 'equal' | 'concurrent';

export class VectorClock {
  /** The clock of nothing written yet. */
  static readonly EMPTY = new VectorClock(new Map());

  private constructor(private readonly counters: ReadonlyMap<NodeId, number>) {}

  /** A clock from `[node, counter]` pairs; zero counters are dropped (a node that never wrote). */
  static from(entries: Iterable<readonly [NodeId, number]>): VectorClock {
    const counters = new Map<NodeId, number>();
    for (const [node, counter] of entries) if (counter > 0) counters.set(node, Math.max(counter, counters.get(node) ?? 0));
    return new VectorClock(counters);
  }

  /** The counter of `node` (0 if it never wrote). */
  get(node: NodeId): number {
    return this.counters.get(node) ?? 0;
  }

  /** This clock with `node`'s counter one higher: the clock of a write by `node` that saw this one. */
  increment(node: NodeId): VectorClock {
    const next = new Map(this.counters);
    next.set(node, this.get(node) + 1);
    return new VectorClock(next);
  }

  /** The pointwise maximum: the clock of a version that has seen both. */
  merge(other: VectorClock): VectorClock {
    const next = new Map(this.counters);
    for (const [node, counter] of other.counters) if (counter > (next.get(node) ?? 0)) next.set(node, counter);
    return new VectorClock(next);
  }

  /** Whether this clock is before, after, equal to or concurrent with `other`. */
  compare(other: VectorClock): ClockOrdering {
    let less = false;
    let greater = false;
    for (const node of new Set([...this.counters.keys(), ...other.counters.keys()])) {
      const a = this.get(node);
      const b = other.get(node);
      if (a < b) less = true;
      else if (a > b) greater = true;
      if (less && greater) return 'concurrent';
    }
    if (less) return 'before';
    return greater ? 'after' : 'equal';
  }

  /** The counters, sorted by node id (a stable order for encoding and hashing). */
  entries(): Array<[NodeId, number]> {
    return [...this.counters].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  toString(): string {
    return `{${this.entries().map(([n, c]) => `${n}:${c}`).join(', ')}}`;
  }
}
