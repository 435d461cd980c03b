// A shard whose entities' states together pass what one frame carries (16 MiB) moves by hand-off in parts: every
// entity arrives on the new owner with its state, and nothing is logged as lost.

import { Actor, message, Request } from '@casty/core';
import type { Context } from '@casty/core';
import { TestCluster } from '@casty/cluster/testing';
import { HashRing, Sharding, startNode } from 'casty';

@message('test.parts.Fill') class Fill extends Request<number> { constructor(readonly bytes: number) { super(); } }
@message('test.parts.Get') class Get extends Request<{ size: number; node: string }> {}

class Blob extends Actor<Fill | Get> {
  blob = '';
  constructor(readonly entityId: string) { super(); }
  override receive(msg: Fill | Get, ctx: Context<Fill | Get>): void {
    if (msg instanceof Fill) ctx.reply((this.blob = 'x'.repeat(msg.bytes)).length);
    else ctx.reply({ size: this.blob.length, node: ctx.system.name });
  }
}

test('a shard holding 24 MB of entity state moves to a joining node with every state', async () => {
  const cluster = await TestCluster.start({ nodes: 1, seed: 61, start: startNode });
  await using _ = cluster;
  const blobs = await cluster.node('n0').system.spawn(Blob, { name: 'blobs', sharded: true });
  const sharding = Sharding.of(cluster.node('n0').system);
  // 24 ids of one shard that the joiner will own (found by the ring of both nodes)
  const both = HashRing.of(['n0', 'n1'], { shardCount: sharding.shardCount });
  let shard = 0;
  while (both.ownerOf(shard) !== 'n1') shard++;
  const ids: string[] = [];
  for (let i = 0; ids.length < 24; i++) if (sharding.shardOf(`blob-${i}`) === shard) ids.push(`blob-${i}`);
  await cluster.settled(Promise.all(ids.map((id) => blobs.entity(id).ask(new Fill(1_000_000)))));
  const joiner = await cluster.join('n1');
  await joiner.system.spawn(Blob, { name: 'blobs', sharded: true });
  await cluster.converged();
  const views = await cluster.settled(Promise.all(ids.map((id) => blobs.entity(id).ask(new Get()))));
  expect(views.map((v) => v.node)).toEqual(ids.map(() => 'n1'));
  expect(views.map((v) => v.size)).toEqual(ids.map(() => 1_000_000));
  for (const n of cluster.nodes) expect(n.logger.entries.filter((e) => e.level === 'error').map((e) => e.message)).toEqual([]);
});
