// Regression (issue 10, found by Sharding.multiprocess.test.ts): Sharding.of(system).currentRing (and
// stats().shardsOwned) stayed a ring of the node alone on a node that learned every member from the answer to its
// join: SWIM merges the members (MemberUp events) before it marks the node joined, and sharding ignored events until
// then. Sharding now takes the view again when the node has joined (ClusterMembership.whenJoined). Meanwhile the
// node knew no other member's address, so it answered hand-off requests to itself and an entity did not answer.

import { TestCluster } from '@casty/cluster/testing';
import { Actor, message, Request, Sharding, startNode } from 'casty';
import type { Context } from 'casty';

const ringOf = (cluster: TestCluster, id: string) => [...Sharding.of(cluster.node(id).system).currentRing.members].sort();

test('every node\'s currentRing has every member once the cluster has converged, before any entity message', async () => {
  await using cluster = await TestCluster.start({ nodes: 3, seed: 1, start: startNode });
  await cluster.converged();
  // n2 (joined through n0, learning n0 and n1 from its answer) has the ring ['n2'] here
  for (const n of cluster.nodes) expect(ringOf(cluster, n.id)).toEqual(['n0', 'n1', 'n2']);
  await cluster.join('n3');
  await cluster.converged();
  for (const n of cluster.nodes) expect(ringOf(cluster, n.id)).toEqual(['n0', 'n1', 'n2', 'n3']);
});

// Not only what it reports: the stale node's sharding has not learned the others' addresses either, so it answers a
// HandOffRequest (the new owner asking whether it held the shard before) to its own region. A shard whose previous
// owner, by the ring without its owner, is the stale node then stays 'awaiting' on its owner, and its entities'
// asks time out, until an entity message reaches or leaves the stale node.
@message('test.ringbug.Where') class Where extends Request<string> {}
class Entity extends Actor<Where> {
  constructor(readonly entityId: string) { super(); }
  override receive(_msg: Where, ctx: Context<Where>): void { ctx.reply(ctx.system.name); }
}

test('an entity whose shard n2 (stale ring) would own without its owner answers while n2 sends nothing', async () => {
  await using cluster = await TestCluster.start({ nodes: 3, seed: 1, start: startNode });
  await cluster.converged();
  const refs = [];
  for (const n of cluster.nodes) refs.push(await n.system.spawn(Entity, { name: 'where', sharded: true }));
  // an entity owned by n0 or n1 whose shard n2 would own without its owner: its owner asks n2 about it first
  const sharding = Sharding.of(cluster.node('n0').system);
  const ring = sharding.currentRing;
  const id = Array.from({ length: 1_000 }, (_, i) => `e-${i}`).find((e) => {
    const owner = ring.ownerOf(sharding.shardOf(e))!;
    return owner !== 'n2' && ring.without(owner).ownerOf(sharding.shardOf(e)) === 'n2';
  })!;
  const answer = await cluster.settled(refs[0]!.entity(id).ask(new Where(), { timeout: 5_000 })
    .catch((e: unknown) => `${id}: ${(e as Error).name}`), 20_000);
  expect(answer).toBe(ring.ownerOf(sharding.shardOf(id)));
});
