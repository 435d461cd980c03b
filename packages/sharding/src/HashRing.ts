// HashRing: the second level of placement, shard -> node. A pure, immutable value built from member ids:
// each member puts `virtualNodes` tokens on a 64-bit ring (XXH64 of `${nodeId}#${i}`), and a shard belongs to
// the first token at or after its own position, clockwise. Equal tokens are ordered by node id, so every node
// that sees the same members computes the same ring, whatever order it learned them in. Lookups are a binary
// search over the sorted tokens.
//
// Shard s of S sits at s * 2^64 / S: the shards are spread evenly, not hashed onto the ring. Shard ids are
// already uniform (entity ids were hashed to get them), and hashing them again would add the noise of the
// shards' random points to the noise of the tokens: measured over 50 random 10-member sets with 150 tokens each,
// the busiest member's share of 1,024 shards was median 1.19x the mean (1.41x at worst) with hashed positions,
// and 1.13x (1.28x at worst) with even ones.

import type { NodeId } from '@casty/cluster';
import { InvalidArgumentError } from '@casty/core';
import { describe } from './internal/describe';
import { hashHi, hashLo, xxh64StringInto } from './internal/xxhash64';
import { ShardAllocation } from './ShardAllocation';
import { DEFAULT_SHARD_COUNT, validateShardCount } from './shardOf';

/**
 * Tokens per member unless configured otherwise: 300. Seed 000 (and Casty for Python) uses 150, with which a
 * member's share of the ring deviates from 1/N by about 1/sqrt(150) = 8% (one standard deviation): the busiest
 * of 10 members then has more than 1.2x the mean in about one cluster in twenty, even with 4,096 shards.
 * With 300 (6%), none of 200 random clusters. A ring of 1,000 members (300,000 tokens) builds in about 0.2 s,
 * a member's tokens being hashed once per process.
 */
export const DEFAULT_VIRTUAL_NODES = 300;

/** The most tokens per member accepted: 10,000 (a ring of 100 members is then a million tokens). */
export const MAX_VIRTUAL_NODES = 10_000;

/** Settings of a HashRing. */
export interface HashRingOptions {
  /** Tokens each member puts on the ring; an integer from 1 to MAX_VIRTUAL_NODES. Default DEFAULT_VIRTUAL_NODES (150). */
  readonly virtualNodes?: number;
  /**
   * Shards the ring places (shard ids 0 to shardCount - 1, from shardOf with the same count); an integer
   * from 1 to MAX_SHARD_COUNT. Default DEFAULT_SHARD_COUNT (4,096). Every node must use the same count.
   */
  readonly shardCount?: number;
}

// ---- building a ring fast: a ring is rebuilt on every node at every membership change ----

/** A member's tokens, by tokens per member and node id: hashed once per process, not at every rebuild. */
const tokenCache = new Map<string, { readonly hi: Uint32Array; readonly lo: Uint32Array }>();
/** At most this many tokens are kept (16 MiB): past it the cache starts again (node ids churn in tests, restarts). */
const MAX_CACHED_TOKENS = 2_000_000;
let cachedTokens = 0;

function tokensOf(nodeId: NodeId, virtualNodes: number): { readonly hi: Uint32Array; readonly lo: Uint32Array } {
  const key = `${virtualNodes}/${nodeId}`;
  let tokens = tokenCache.get(key);
  if (tokens === undefined) {
    const hi = new Uint32Array(virtualNodes), lo = new Uint32Array(virtualNodes);
    for (let v = 0; v < virtualNodes; v++) {
      xxh64StringInto(`${nodeId}#${v}`);
      hi[v] = hashHi();
      lo[v] = hashLo();
    }
    if (cachedTokens + virtualNodes > MAX_CACHED_TOKENS) {
      tokenCache.clear();
      cachedTokens = 0;
    }
    tokens = { hi, lo };
    tokenCache.set(key, tokens);
    cachedTokens += virtualNodes;
  }
  return tokens;
}

const INDEX_BITS = 21;

/**
 * The token indexes in ring order: by (hi, lo, owner). Members are sorted, so ordering equal tokens by member
 * index orders them by node id. A native sort of numbers packing hi and the index (exact below 2^53), then the
 * rare runs of equal hi put in order by lo and owner: four times faster than a sort with a comparator.
 */
function sortedTokens(hi: Uint32Array, lo: Uint32Array, owner: Int32Array): Uint32Array {
  const count = hi.length;
  const byTuple = (a: number, b: number) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || owner[a]! - owner[b]!;
  if (count >= 2 ** INDEX_BITS) return new Uint32Array(count).map((_, i) => i).sort(byTuple);
  const packed = new Float64Array(count);
  for (let i = 0; i < count; i++) packed[i] = hi[i]! * 2 ** INDEX_BITS + i;
  packed.sort();
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = packed[i]! % 2 ** INDEX_BITS;
  for (let start = 0; start < count;) {
    let end = start + 1;
    while (end < count && hi[order[end]!] === hi[order[start]!]) end++;
    if (end - start > 1) order.subarray(start, end).sort(byTuple);
    start = end;
  }
  return order;
}

/** A consistent-hash ring over member node ids, mapping shards to their owner and preference list. */
export class HashRing {
  /** An empty ring: no member owns anything. */
  static readonly EMPTY = HashRing.of([]);

  /** The member ids, distinct, sorted (by UTF-16 code units, the same order on every node). */
  readonly members: readonly NodeId[];
  /** Tokens per member. */
  readonly virtualNodes: number;
  /** Shards placed: shard ids are 0 to shardCount - 1. */
  readonly shardCount: number;
  // The ring, sorted by (hi, lo, owner): token i is (tokenHi[i], tokenLo[i]) and belongs to members[owner[i]].
  private readonly tokenHi: Uint32Array;
  private readonly tokenLo: Uint32Array;
  private readonly owner: Int32Array;
  private allocation: ShardAllocation | undefined;

  private constructor(members: readonly NodeId[], virtualNodes: number, shardCount: number) {
    this.members = members;
    this.virtualNodes = virtualNodes;
    this.shardCount = shardCount;
    const count = members.length * virtualNodes;
    const hi = new Uint32Array(count), lo = new Uint32Array(count), owner = new Int32Array(count);
    for (let m = 0; m < members.length; m++) {
      const tokens = tokensOf(members[m]!, virtualNodes);
      hi.set(tokens.hi, m * virtualNodes);
      lo.set(tokens.lo, m * virtualNodes);
      owner.fill(m, m * virtualNodes, (m + 1) * virtualNodes);
    }
    const order = sortedTokens(hi, lo, owner);
    this.tokenHi = new Uint32Array(count);
    this.tokenLo = new Uint32Array(count);
    this.owner = new Int32Array(count);
    for (let t = 0; t < count; t++) {
      const i = order[t]!;
      this.tokenHi[t] = hi[i]!;
      this.tokenLo[t] = lo[i]!;
      this.owner[t] = owner[i]!;
    }
  }

  /**
   * The ring of `members` (node ids; duplicates count once, order does not matter).
   * @throws {InvalidArgumentError} when a member id is not a non-empty string, `virtualNodes` is not an
   *   integer from 1 to MAX_VIRTUAL_NODES, or `shardCount` not one from 1 to MAX_SHARD_COUNT.
   */
  static of(members: Iterable<NodeId>, options: HashRingOptions = {}): HashRing {
    const virtualNodes = options.virtualNodes ?? DEFAULT_VIRTUAL_NODES;
    const shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
    validateShardCount('HashRing.of', shardCount);
    if (!Number.isInteger(virtualNodes) || virtualNodes < 1 || virtualNodes > MAX_VIRTUAL_NODES) {
      throw new InvalidArgumentError(`HashRing.of: virtualNodes must be an integer from 1 to ${MAX_VIRTUAL_NODES}, ` +
        `got ${describe(virtualNodes)}; leave it out for the default (${DEFAULT_VIRTUAL_NODES})`);
    }
    if (members === null || typeof (members as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function') {
      throw new InvalidArgumentError(`HashRing.of: members must be an iterable of node ids, got ${describe(members)}`);
    }
    const ids = new Set<NodeId>();
    for (const id of members) {
      if (typeof id !== 'string' || id.length === 0) {
        throw new InvalidArgumentError(`HashRing.of: every member must be a non-empty node id string, got ` +
          `${describe(id)}; pass the members' ids (see ringMembers)`);
      }
      ids.add(id);
    }
    return new HashRing([...ids].sort(compareIds), virtualNodes, shardCount);
  }

  /** The same ring without `nodeId` (who held a shard before this node joined; where a leaving node's shards go). */
  without(nodeId: NodeId): HashRing {
    if (!this.members.includes(nodeId)) return this;
    // kept: a region asks this for every shard it claims (thousands after it regained quorum), and a ring costs a
    // sort of its tokens to make (2 s of CPU in a join's transfer)
    let ring = this.withoutCache?.get(nodeId);
    if (ring === undefined) {
      ring = HashRing.of(this.members.filter((m) => m !== nodeId), { virtualNodes: this.virtualNodes, shardCount: this.shardCount });
      (this.withoutCache ??= new Map()).set(nodeId, ring);
    }
    return ring;
  }

  private withoutCache: Map<NodeId, HashRing> | undefined;

  /** The shards `nodeId` owns (see assignment). */
  shardsOf(nodeId: NodeId): number[] {
    return this.assignment().shardsOf(nodeId);
  }

  /** Number of members. */
  get size(): number {
    return this.members.length;
  }

  /** True when `nodeId` is a member. */
  has(nodeId: NodeId): boolean {
    return this.indexOf(nodeId) >= 0;
  }

  /**
   * The node that owns `shard`: the owner of the first token at or after the shard's position, wrapping
   * around. Undefined only when the ring is empty.
   * @throws {InvalidArgumentError} when `shard` is not an integer from 0 to shardCount - 1.
   */
  ownerOf(shard: number): NodeId | undefined {
    this.validateShard('HashRing.ownerOf', shard);
    // Routing asks this for every entity message: the assignment table once made, a binary search before.
    if (this.allocation !== undefined) return this.allocation.ownerOf(shard);
    if (this.owner.length === 0) return undefined;
    return this.members[this.owner[this.firstTokenOf(shard)]!];
  }

  /**
   * The first `n` distinct members clockwise from the shard's position, the owner first: where the shard's
   * replicas go. Fewer than `n` when the ring has fewer members (all of them, then); empty for an empty ring.
   * @throws {InvalidArgumentError} when `shard` is out of range or `n` is not a positive integer.
   */
  preferenceList(shard: number, n: number): NodeId[] {
    this.validateShard('HashRing.preferenceList', shard);
    if (!Number.isInteger(n) || n < 1) {
      throw new InvalidArgumentError(`HashRing.preferenceList: n must be a positive integer (how many nodes), got ${describe(n)}`);
    }
    const want = Math.min(n, this.members.length);
    const result: NodeId[] = [];
    if (want === 0) return result;
    const taken = new Uint8Array(this.members.length);
    const tokens = this.owner.length;
    for (let i = this.firstTokenOf(shard), seen = 0; result.length < want && seen < tokens; i = (i + 1) % tokens, seen++) {
      const m = this.owner[i]!;
      if (taken[m] === 1) continue;
      taken[m] = 1;
      result.push(this.members[m]!);
    }
    return result;
  }

  /**
   * The owner of every shard, as a table: what routing reads per message and what ShardAllocation.diff
   * compares when the ring changes. Computed on first use, then kept (the ring is immutable).
   */
  assignment(): ShardAllocation {
    if (this.allocation !== undefined) return this.allocation;
    const owners = new Int32Array(this.shardCount);
    for (let s = 0; s < this.shardCount; s++) owners[s] = this.owner.length === 0 ? -1 : this.owner[this.firstTokenOf(s)]!;
    this.allocation = new ShardAllocation(this.members, owners);
    return this.allocation;
  }

  /** True when `other` has the same members, tokens per member and shard count: then it places every shard alike. */
  equals(other: HashRing): boolean {
    return this === other || (this.virtualNodes === other.virtualNodes && this.shardCount === other.shardCount &&
      this.members.length === other.members.length && this.members.every((id, i) => other.members[i] === id));
  }

  /** For logs: the members, tokens per member and shard count. */
  toString(): string {
    return `HashRing(${this.shardCount} shards on ${this.members.length} members x ${this.virtualNodes} tokens: ` +
      `${this.members.join(', ')})`;
  }

  private validateShard(caller: string, shard: number): void {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.shardCount) {
      throw new InvalidArgumentError(`${caller}: shard must be an integer from 0 to ${this.shardCount - 1} ` +
        `(this ring places ${this.shardCount} shards), got ${describe(shard)}; get it from shardOf(entityId, ${this.shardCount})`);
    }
  }

  private indexOf(nodeId: NodeId): number {
    let lo = 0, hi = this.members.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareIds(this.members[mid]!, nodeId);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }

  /**
   * Index of the first token at or after the shard's position, floor(shard * 2^64 / shardCount); 0 past the
   * last token (the ring wraps). The position's two words are exact in doubles: the numerators stay below
   * 2^52 and a quotient's distance to the next integer (at least 1/shardCount) exceeds its rounding error.
   */
  private firstTokenOf(shard: number): number {
    const scaled = shard * TWO_32;
    const ph = Math.floor(scaled / this.shardCount);
    const pl = Math.floor(((scaled % this.shardCount) * TWO_32) / this.shardCount);
    let lo = 0, hi = this.tokenHi.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const th = this.tokenHi[mid]!;
      if (th < ph || (th === ph && this.tokenLo[mid]! < pl)) lo = mid + 1; else hi = mid;
    }
    return lo === this.tokenHi.length ? 0 : lo;
  }
}

const TWO_32 = 4294967296;

/** Node ids in UTF-16 code unit order (not locale order, which differs between machines). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
