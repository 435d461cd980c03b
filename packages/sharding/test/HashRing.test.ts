// HashRing and ShardAllocation: the same members give the same ring in any order; load per member at 10
// members; a join moves about 1/N of the shards and only to the joiner; a leave moves only the leaver's
// shards; preference lists; the empty ring; and every invalid argument is a typed error naming itself.
// Member ids are drawn from a seeded random, so every run checks the same clusters.

import { seededRandom } from '@casty/cluster/testing';
import { InvalidArgumentError } from '@casty/core';
import { DEFAULT_SHARD_COUNT, DEFAULT_VIRTUAL_NODES, HashRing, ShardAllocation } from '../src';
import type { HashRingOptions } from '../src';

/** `sets` clusters of `size` random member ids (host:port-like, as node ids are), the same every run. */
function memberSets(seed: number, sets: number, size: number): string[][] {
  const random = seededRandom(seed);
  return Array.from({ length: sets }, () => Array.from({ length: size },
    () => `10.0.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}:${1024 + Math.floor(random() * 60_000)}`));
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The busiest member's shards over the mean. */
function maxOverMean(ring: HashRing): number {
  return Math.max(...ring.assignment().counts().values()) / (ring.shardCount / ring.size);
}

const owners = (ring: HashRing) => Array.from({ length: ring.shardCount }, (_, s) => ring.ownerOf(s));

test('the defaults: 4,096 shards, 300 tokens per member', () => {
  const ring = HashRing.of(['a', 'b']);
  expect([ring.shardCount, ring.virtualNodes, DEFAULT_SHARD_COUNT, DEFAULT_VIRTUAL_NODES]).toEqual([4096, 300, 4096, 300]);
});

test('the same members in any order, with duplicates, give the same ring and the same assignment', () => {
  const random = seededRandom(3);
  for (const members of memberSets(1, 5, 10)) {
    const ring = HashRing.of(members);
    const table = owners(ring);
    for (let rep = 0; rep < 3; rep++) {
      const other = HashRing.of(new Set(shuffled([...members, ...members.slice(0, 3)], random)));
      expect(other.equals(ring)).toBe(true);
      expect(other.members).toEqual([...members].sort());
      expect(owners(other)).toEqual(table);
      expect(ShardAllocation.diff(ring.assignment(), other.assignment())).toEqual([]);
    }
  }
  // A fixed placement: a change here would move the shards of every running cluster.
  expect(owners(HashRing.of(['node-a', 'node-b', 'node-c'])).slice(0, 8)).toMatchInlineSnapshot(`
[
  "node-a",
  "node-a",
  "node-b",
  "node-b",
  "node-b",
  "node-b",
  "node-b",
  "node-b",
]
`);
});

test('the defaults keep the busiest of 10 members within 1.2x the mean in every one of 200 random clusters', () => {
  const ratios = memberSets(42, 200, 10).map((members) => maxOverMean(HashRing.of(members))).sort((a, b) => a - b);
  const summary = `median ${ratios[100]!.toFixed(3)}, worst ${ratios[199]!.toFixed(3)}`;
  expect([summary, ratios.filter((r) => r > 1.2).length]).toEqual([summary, 0]);
  expect(ratios[100]).toBeLessThan(1.1);
});

test('why not 1,024 shards and 150 tokens (seed 000\'s): the busiest member is above 1.2x the mean in about one cluster in seven', () => {
  // Measured, not tuned: each member's share of 1,024 shards varies by the binomial noise of 1,024 draws (about
  // 9% at 10 members) plus the tokens' own (about 8% at 150 tokens); no ring over 1,024 shards removes the first.
  const options: HashRingOptions = { shardCount: 1024, virtualNodes: 150 };
  const over = memberSets(42, 200, 10).map((members) => maxOverMean(HashRing.of(members, options))).filter((r) => r > 1.2);
  expect(over.length).toBeGreaterThan(10);
});

test('a join moves about 1/N of the shards, all of them to the joiner', () => {
  for (const [i, members] of memberSets(5, 20, 10).entries()) {
    const before = HashRing.of(members);
    const joiner = `10.1.0.${i}:7946`;
    const after = HashRing.of([...members, joiner]);
    const moves = ShardAllocation.diff(before.assignment(), after.assignment());
    const ideal = DEFAULT_SHARD_COUNT / 11;
    expect(moves.length).toBeGreaterThan(0);
    expect(moves.length).toBeLessThanOrEqual(1.3 * ideal);
    expect(moves.filter((m) => m.to !== joiner || m.from === undefined || !members.includes(m.from))).toEqual([]);
    expect(after.assignment().shardsOf(joiner)).toEqual(moves.map((m) => m.shard));
  }
});

test('a leave moves exactly the leaver\'s shards, and nothing else', () => {
  for (const members of memberSets(6, 20, 10)) {
    const leaver = members[3]!;
    const before = HashRing.of(members);
    const after = HashRing.of(members.filter((m) => m !== leaver));
    const moves = ShardAllocation.diff(before.assignment(), after.assignment());
    expect(moves.map((m) => m.shard)).toEqual(before.assignment().shardsOf(leaver));
    expect(moves.filter((m) => m.from !== leaver || m.to === undefined || m.to === leaver)).toEqual([]);
  }
});

test('preference lists: n distinct members, the owner first, the same on every build, and a leave only removes the leaver', () => {
  const [members] = memberSets(8, 1, 7);
  const ring = HashRing.of(members!);
  const rebuilt = HashRing.of([...members!].reverse());
  const leaver = members![2]!;
  const without = HashRing.of(members!.filter((m) => m !== leaver));
  for (let shard = 0; shard < ring.shardCount; shard++) {
    const list = ring.preferenceList(shard, 3);
    expect(list).toHaveLength(3);
    expect(new Set(list).size).toBe(3);
    expect(list[0]).toBe(ring.ownerOf(shard));
    expect(rebuilt.preferenceList(shard, 3)).toEqual(list);
    const all = ring.preferenceList(shard, 100);
    expect([...all].sort()).toEqual(ring.members);
    expect(all.slice(0, 3)).toEqual(list);
    expect(without.preferenceList(shard, 100)).toEqual(all.filter((m) => m !== leaver));
  }
});

test('ShardAllocation: owners, shards per member and counts agree', () => {
  const ring = HashRing.of(['a', 'b', 'c'], { shardCount: 64 });
  const table = ring.assignment();
  expect(ring.assignment()).toBe(table);
  expect(table.shardCount).toBe(64);
  const counts = table.counts();
  expect([...counts.keys()]).toEqual(['a', 'b', 'c']);
  expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(64);
  for (const member of ring.members) {
    const shards = table.shardsOf(member);
    expect(shards).toHaveLength(counts.get(member)!);
    for (const s of shards) expect([table.ownerOf(s), ring.ownerOf(s), ring.members[table.ownerIndexOf(s)]]).toEqual([member, member, member]);
  }
  expect([table.ownerOf(64), table.ownerIndexOf(64), table.shardsOf('zz')]).toEqual([undefined, -1, []]);
  const copy = new ShardAllocation(table.members, Array.from({ length: 64 }, (_, s) => table.ownerIndexOf(s)));
  expect(ShardAllocation.diff(table, copy)).toEqual([]);
});

test('the empty ring owns nothing', () => {
  const ring = HashRing.EMPTY;
  expect([ring.size, ring.ownerOf(0), ring.preferenceList(0, 3), ring.has('a')]).toEqual([0, undefined, [], false]);
  expect(ring.assignment().ownerIndexOf(5)).toBe(-1);
  const moves = ShardAllocation.diff(ring.assignment(), HashRing.of(['a']).assignment());
  expect(moves).toHaveLength(DEFAULT_SHARD_COUNT);
  expect(moves[0]).toEqual({ shard: 0, from: undefined, to: 'a' });
});

test('every invalid argument is an InvalidArgumentError that names it', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => HashRing.of(['a'], { virtualNodes: 0 }), /HashRing\.of: virtualNodes must be an integer from 1 to 10000, got 0/],
    [() => HashRing.of(['a'], { virtualNodes: 1.5 }), /virtualNodes must be an integer/],
    [() => HashRing.of(['a'], { virtualNodes: 10_001 }), /virtualNodes must be an integer/],
    [() => HashRing.of(['a'], { shardCount: 0 }), /HashRing\.of: shardCount must be an integer from 1 to 1048576, got 0/],
    [() => HashRing.of(['a', ''], {}), /every member must be a non-empty node id string, got ''/],
    [() => HashRing.of([7 as unknown as string]), /every member must be a non-empty node id string, got 7/],
    [() => HashRing.of(undefined as unknown as string[]), /members must be an iterable of node ids, got undefined/],
    [() => HashRing.of(['a']).ownerOf(-1), /HashRing\.ownerOf: shard must be an integer from 0 to 4095 .* got -1/],
    [() => HashRing.of(['a']).ownerOf(4096), /shard must be an integer from 0 to 4095/],
    [() => HashRing.of(['a'], { shardCount: 16 }).preferenceList(16, 1), /HashRing\.preferenceList: shard must be an integer from 0 to 15/],
    [() => HashRing.of(['a']).preferenceList(0, 0), /HashRing\.preferenceList: n must be a positive integer .* got 0/],
    [() => ShardAllocation.diff(HashRing.of(['a'], { shardCount: 8 }).assignment(), HashRing.of(['a']).assignment()),
      /ShardAllocation\.diff: the allocations have 8 and 4096 shards/],
    [() => new ShardAllocation(['a'], [0, 1]), /the owner of shard 1 must be -1 or an index into the 1 members, got 1/],
    [() => new ShardAllocation(['a'], [0.5]), /the owner of shard 0 must be -1 or an index/],
    [() => new ShardAllocation(['a'], []), /ownerIndexes is empty/],
  ];
  for (const [call, message] of cases) {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  }
});
