// Seed 000 "Distributed Counter": counters as sharded entities on a cluster of three nodes (in one process here).
// Every node increments the same counter through its own ShardedRef; the one instance of each counter, on the node
// that owns its shard, counts them all. Then a node leaves gracefully and its counters move, with their counts, to
// the nodes that stay.
import type { Context } from 'casty';
import { Actor, message, Request, Sharding } from 'casty';
import { LocalCluster } from './cluster';

@message('example.counter.Increment') class Increment { constructor(readonly amount = 1) {} }
@message('example.counter.GetCount') class GetCount extends Request<number> {}
@message('example.counter.Where') class Where extends Request<string> {}
type CounterMsg = Increment | GetCount | Where;

class Counter extends Actor<CounterMsg> {
  count = 0;                                            // its state: what moves with it

  constructor(readonly entityId: string) { super(); }  // a sharded entity's constructor takes its id first

  receive(msg: CounterMsg, ctx: Context<CounterMsg>): void {
    if (msg instanceof Increment) this.count += msg.amount;
    else if (msg instanceof GetCount) ctx.reply(this.count);
    else ctx.reply(ctx.system.name);
  }
}

await using cluster = await LocalCluster.start(['node-1', 'node-2', 'node-3']);
const counters = await Promise.all(cluster.nodes.map((n) => n.spawn(Counter, { name: 'counters', sharded: true })));

// 100 hits, each node sending its share; each node's sends reach the counter in order, before its own ask
await Promise.all(counters.map(async (fromNode, i) => {
  for (let hit = i; hit < 100; hit += counters.length) await fromNode.entity('hits').send(new Increment());
  await fromNode.entity('hits').ask(new GetCount());
}));
console.log(`Total hits: ${await counters[0]!.entity('hits').ask(new GetCount())}`);
console.log(`hits lives on ${await counters[0]!.entity('hits').ask(new Where())}`);

// more counters, spread over the nodes by their ids
const pages = ['home', 'about', 'pricing', 'blog', 'docs', 'contact'];
for (const [i, page] of pages.entries()) await counters[0]!.entity(page).send(new Increment(10 * (i + 1)));
const before = await Promise.all(pages.map(async (page) =>
  `${page}=${await counters[0]!.entity(page).ask(new GetCount())}@${await counters[0]!.entity(page).ask(new Where())}`));
console.log(`pages: ${before.join(' ')}`);

// node-3 leaves gracefully: it hands its counters over, with their counts, before it goes
const leaving = cluster.nodes[2]!;
const ring = Sharding.of(cluster.nodes[0]!).currentRing;
const moving = [...pages, 'hits'].filter((id) => ring.ownerOf(Sharding.of(cluster.nodes[0]!).shardOf(id)) === leaving.nodeId);
await cluster.leave(leaving);
console.log(`node-3 left; its counters moved: ${moving.join(', ')}`);
const after = await Promise.all(pages.map(async (page) =>
  `${page}=${await counters[0]!.entity(page).ask(new GetCount())}@${await counters[0]!.entity(page).ask(new Where())}`));
console.log(`pages: ${after.join(' ')}`);
console.log(`Total hits: ${await counters[1]!.entity('hits').ask(new GetCount())}`);
