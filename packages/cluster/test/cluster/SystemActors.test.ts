// Framework actors at /system over the in-memory cluster: reachable from other nodes by their per-node path,
// never taken for (or gossiped as) a user's cluster-wide name.

import { Actor, message, Request } from '@casty/core';
import type { Context } from '@casty/core';
import { spawnSystemActor } from '@casty/core/internal';
import { TestCluster } from '@casty/cluster/testing';

@message('test.sysact.Where') class Where extends Request<string> {}

class Region extends Actor<Where> {
  override receive(_msg: Where, ctx: Context<Where>): void { ctx.reply(`${ctx.system.name}${ctx.selfRef.path}`); }
}

test('a /system actor is addressed on its node by path from another node, and is not a cluster-wide name', async () => {
  await using cluster = await TestCluster.start({ nodes: ['a', 'b'], seed: 9 });
  await cluster.converged();
  const a = cluster.node('a').system;
  const b = cluster.node('b').system;
  await spawnSystemActor(a, Region, { name: 'players' });
  // a user actor of b takes the same name: names are the user's, system paths are per node
  await b.spawn(Region, { name: 'players' });
  await cluster.advance(2_000); // gossip rounds: b's user name spreads, a's system actor must not
  expect(a.membership.names.nodesOf('players')).toEqual(['b']);
  const byName = await cluster.settled(a.lookup<Where>('players'));
  expect(await cluster.settled(byName!.ask(new Where()))).toBe('b/user/players');
  const region = b.remote.remoteRef('a', a.address, '/system/players');
  expect(await cluster.settled(region.ask(new Where()))).toBe('a/system/players');
  // and a lookup by path from b finds it too
  const found = await cluster.settled(b.lookup<Where>('/system/players'));
  expect(await cluster.settled(found!.ask(new Where()))).toBe('a/system/players');
});
