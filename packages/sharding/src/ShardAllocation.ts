// ShardAllocation: who owns each shard, as a table (HashRing.assignment computes it), and the moves between two
// tables (diff). Routing reads it once per message; the hand-off walks the diff when the ring changes.

import type { NodeId } from '@casty/cluster';
import { InvalidArgumentError } from '@casty/core';
import { describe } from './internal/describe';

/** One shard whose owner differs between two allocations. `undefined`: no owner (an empty ring). */
export interface ShardMove {
  readonly shard: number;
  readonly from: NodeId | undefined;
  readonly to: NodeId | undefined;
}

/** The owner of each of `shardCount` shards. Immutable. */
export class ShardAllocation {
  /** The node ids that `ownerIndexOf` indexes into. */
  readonly members: readonly NodeId[];
  private readonly owners: Int32Array;

  /**
   * An allocation from owner indexes: `ownerIndexes[shard]` indexes `members`, or is -1 for no owner.
   * Both are copied.
   * @throws {InvalidArgumentError} when the table is empty or an index is outside `members`.
   */
  constructor(members: readonly NodeId[], ownerIndexes: ArrayLike<number>) {
    if (ownerIndexes.length === 0) {
      throw new InvalidArgumentError('ShardAllocation: ownerIndexes is empty; give an owner index (or -1) for every shard');
    }
    const owners = Int32Array.from(ownerIndexes);
    owners.forEach((m, shard) => {
      if (m !== ownerIndexes[shard] || m < -1 || m >= members.length) {
        throw new InvalidArgumentError(`ShardAllocation: the owner of shard ${shard} must be -1 or an index into the ` +
          `${members.length} members, got ${describe(ownerIndexes[shard])}`);
      }
    });
    this.members = Object.freeze([...members]);
    this.owners = owners;
  }

  /** Number of shards. */
  get shardCount(): number {
    return this.owners.length;
  }

  /** The owner of `shard`; undefined when it has none (or the shard is out of range). */
  ownerOf(shard: number): NodeId | undefined {
    const m = this.owners[shard];
    return m === undefined || m < 0 ? undefined : this.members[m];
  }

  /** Index into `members` of the owner of `shard`; -1 when it has none (or the shard is out of range). */
  ownerIndexOf(shard: number): number {
    return this.owners[shard] ?? -1;
  }

  /** The shards `nodeId` owns, ascending. */
  shardsOf(nodeId: NodeId): number[] {
    const m = this.members.indexOf(nodeId);
    const shards: number[] = [];
    if (m < 0) return shards;
    this.owners.forEach((owner, shard) => {
      if (owner === m) shards.push(shard);
    });
    return shards;
  }

  /** Shards per member (every member listed, 0 included), in `members` order. */
  counts(): Map<NodeId, number> {
    const perIndex = new Array<number>(this.members.length).fill(0);
    for (const m of this.owners) if (m >= 0) perIndex[m]!++;
    return new Map(this.members.map((id, i) => [id, perIndex[i]!]));
  }

  /**
   * The shards whose owner differs from `before` to `after`, ascending by shard, with the old and the new
   * owner: what a hand-off has to move when the ring changes.
   * @throws {InvalidArgumentError} when the two have different shard counts.
   */
  static diff(before: ShardAllocation, after: ShardAllocation): ShardMove[] {
    if (before.shardCount !== after.shardCount) {
      throw new InvalidArgumentError(`ShardAllocation.diff: the allocations have ${before.shardCount} and ` +
        `${after.shardCount} shards; compare allocations of the same shard count`);
    }
    const moves: ShardMove[] = [];
    for (let shard = 0; shard < before.shardCount; shard++) {
      const from = before.ownerOf(shard), to = after.ownerOf(shard);
      if (from !== to) moves.push({ shard, from, to });
    }
    return moves;
  }
}
