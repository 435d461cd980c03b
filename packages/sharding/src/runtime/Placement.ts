// Where a type's shards live, as a region sees it: the consistent-hash ring for sharded types, the oldest member
// for a singleton. Both are pure values computed from the membership view; the hand-off between holders is the
// same for both.

import type { NodeId } from '@casty/cluster';

export interface Placement {
  /** The members it places on. */
  readonly members: readonly NodeId[];
  /** The node that should hold `shard`; undefined when no member may. */
  ownerOf(shard: number): NodeId | undefined;
  /** The shards `nodeId` should hold. */
  shardsOf(nodeId: NodeId): number[];
  /** The first `n` distinct members for `shard`, its owner first (replication's backups follow it). */
  preferenceList(shard: number, n: number): NodeId[];
  /** The same placement without `nodeId` (who held before it joined; where a leaving node's shards go). */
  without(nodeId: NodeId): Placement;
  equals(other: Placement): boolean;
}

/**
 * A singleton's placement (one shard, 0): the oldest member, by the time each member says it joined (gossiped),
 * ties by node id. A member whose join time is not known yet counts as the youngest: a join never moves it (Akka's
 * oldest-member rule). A node does not take the singleton itself before it has once known every member's time
 * (`settled`), so a node that has just joined does not start a second one before it has heard of the others; once
 * it has, a member whose time it does not know yet is one that joined after it. (Leaving itself out whenever a time
 * was unknown made the two oldest hand the singleton to each other at every join, until the joiner's time came.)
 */
export class SingletonPlacement implements Placement {
  private readonly owner: NodeId | undefined;

  constructor(readonly members: readonly NodeId[], private readonly since: ReadonlyMap<NodeId, number>,
    private readonly selfId: NodeId, private readonly settled: boolean) {
    const known = members.filter((m) => since.has(m));
    const candidates = known.filter((m) => m !== selfId || settled || known.length === members.length);
    candidates.sort((a, b) => (since.get(a)! - since.get(b)!) || (a < b ? -1 : a > b ? 1 : 0));
    this.owner = candidates[0];
  }

  ownerOf(shard: number): NodeId | undefined {
    return shard === 0 ? this.owner : undefined;
  }

  shardsOf(nodeId: NodeId): number[] {
    return this.owner === nodeId ? [0] : [];
  }

  /** The owner, then the other members from the oldest (who would hold the singleton after it). */
  preferenceList(shard: number, n: number): NodeId[] {
    if (shard !== 0 || this.owner === undefined) return [];
    const rest = this.members.filter((m) => m !== this.owner);
    rest.sort((a, b) => ((this.since.get(a) ?? Infinity) - (this.since.get(b) ?? Infinity)) || (a < b ? -1 : a > b ? 1 : 0));
    return [this.owner, ...rest].slice(0, n);
  }

  without(nodeId: NodeId): SingletonPlacement {
    return new SingletonPlacement(this.members.filter((m) => m !== nodeId), this.since, this.selfId, this.settled);
  }

  equals(other: Placement): boolean {
    return other instanceof SingletonPlacement && other.owner === this.owner &&
      other.members.length === this.members.length && other.members.every((m, i) => m === this.members[i]);
  }
}
