// TransmitLimitedQueue (memberlist queue.go): the updates waiting to be piggybacked on outgoing frames.
// Each is sent a bounded number of times, retransmitMult * ceil(log10(n + 1)), which is enough for an
// infection-style spread to reach all n members with high probability without sending it forever. Fresh
// updates go first: fewest transmissions, then most recently queued. A newer update about the same subject
// (a member id, a gossip key) replaces the older one, which is stale and must not be sent again.

/** memberlist's retransmitLimit: retransmitMult * ceil(log10(n + 1)). */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

interface Queued {
  readonly key: string;
  readonly message: Uint8Array;
  readonly id: number;
  transmits: number;
}

/** Bounded-retransmit queue of encoded updates, keyed by what they are about. */
export class TransmitLimitedQueue {
  private readonly byKey = new Map<string, Queued>();
  private nextId = 0;

  /**
   * @param retransmitMult see SwimConfig.retransmitMult
   * @param numNodes the current cluster size estimate, read at every `take` (the limit follows the cluster)
   */
  constructor(private readonly retransmitMult: number, private readonly numNodes: () => number) {}

  /** Updates waiting. */
  get size(): number {
    return this.byKey.size;
  }

  /** Queues `message` about `key`, replacing (invalidating) any queued update about the same key. */
  enqueue(key: string, message: Uint8Array): void {
    this.byKey.set(key, { key, message, id: this.nextId++, transmits: 0 });
  }

  /** True while an update about `key` waits to be sent (again). */
  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Drops the queued update about `key`, if any. */
  remove(key: string): void {
    this.byKey.delete(key);
  }

  /**
   * Takes updates for one frame: fewest transmissions first, then newest, skipping any that do not fit in
   * what is left of `limitBytes` (each costs its length plus `overheadBytes`). Each taken update counts one
   * transmission and leaves the queue when it reaches the retransmit limit.
   */
  take(overheadBytes: number, limitBytes: number): Uint8Array[] {
    if (this.byKey.size === 0) return [];
    const limit = retransmitLimit(this.retransmitMult, this.numNodes());
    const out: Uint8Array[] = [];
    let free = limitBytes;
    for (const item of this.ordered()) {
      if (free <= overheadBytes) break;
      const cost = item.message.length + overheadBytes;
      if (cost > free) continue;
      free -= cost;
      out.push(item.message);
      item.transmits++;
      if (item.transmits >= limit) this.byKey.delete(item.key);
    }
    return out;
  }

  /** Keeps only the `maxRetain` freshest updates (fewest transmissions, newest), so the queue stays bounded. */
  prune(maxRetain: number): void {
    if (this.byKey.size <= maxRetain) return;
    for (const item of this.ordered().slice(maxRetain)) this.byKey.delete(item.key);
  }

  /** The queued keys in the order `take` would consider them (for tests and diagnostics). */
  orderedKeys(): string[] {
    return this.ordered().map((i) => i.key);
  }

  private ordered(): Queued[] {
    return [...this.byKey.values()].sort((a, b) => a.transmits - b.transmits || b.id - a.id);
  }
}
