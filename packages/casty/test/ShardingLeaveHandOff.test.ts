// Regression (issue 10, found by Sharding.multiprocess.test.ts "a node leaves gracefully under load"): a HandOff
// that reached a node during its graceful leave crashed that node's shard region (its system no longer spawns once
// shutdown began, and the region created the handed entities), and the node that took a leaver's shard could hand
// it straight back (it asked the ring it last acted on, not the node's current one). A leaving node now passes a
// shard it takes over straight on with the states it came with, and decisions use the node's current placement.

import { Actor, message, Request } from '@casty/core';
import type { Context } from '@casty/core';
import { TestCluster } from '@casty/cluster/testing';
import { Sharding, startNode } from 'casty';

@message('test.leavebug.Add') class Add extends Request<number> { constructor(readonly n: number) { super(); } }
@message('test.leavebug.Get') class Get extends Request<number> {}

class Account extends Actor<Add | Get> {
  total = 0;
  constructor(readonly entityId: string) { super(); }
  override receive(msg: Add | Get, ctx: Context<Add | Get>): void {
    if (msg instanceof Add) this.total += msg.n;
    ctx.reply(this.total);
  }
}

test('a node that starts leaving while shards are handed to it hands them on, with their state', async () => {
  await using cluster = await TestCluster.start({ nodes: 2, seed: 5, start: startNode });
  await cluster.converged();
  const ids = Array.from({ length: 40 }, (_, i) => `acct-${i}`);
  const n0 = await cluster.node('n0').system.spawn(Account, { name: 'accounts', sharded: true });
  await cluster.node('n1').system.spawn(Account, { name: 'accounts', sharded: true });
  await cluster.settled(Promise.all(ids.map((id) => n0.entity(id).ask(new Add(5)))));
  const joiner = await cluster.join('n2');
  await joiner.system.spawn(Account, { name: 'accounts', sharded: true });
  const ready = () => Sharding.of(cluster.node('n0').system).currentRing.members.includes('n2') &&
    joiner.system.members().filter((m) => m.state === 'alive').length === 3;
  for (let i = 0; i < 10_000 && !ready(); i++) await cluster.advance(1);
  const leaving = cluster.beginLeave('n2');
  await cluster.settled(leaving, 60_000);
  const crashes = joiner.logger.entries.filter((e) => /sharding-accounts failed/.test(e.message)).map((e) => e.message);
  expect(crashes).toEqual([]);
  const totals = await cluster.settled(Promise.all(ids.map((id) => n0.entity(id).ask(new Get()))));
  expect(totals).toEqual(ids.map(() => 5));
});
