// Sharded entities on the in-memory cluster (TestCluster composed by casty's startNode, a ManualClock, seeded):
// created on demand on the node the ring picks, one live instance each, reached alike from every node; refs to
// them cross nodes as entity refs; after a crash, the dead node's entities answer again from the survivors.

import { Actor, DeadLetter, handle, InvalidArgumentError, message, Request } from '@casty/core';
import type { ActorRef, Context } from '@casty/core';
import { TestCluster } from '@casty/cluster/testing';
import type { ShardedRef } from 'casty';
import { ClusteredActorSystem, DEFAULT_SHARD_COUNT, EntityTypeNotRegisteredError, Sharding, sharding, shardOf, startNode } from 'casty';

@message('test.sharding.Add') class Add { constructor(readonly n: number) {} }
@message('test.sharding.Get') class Get extends Request<{ total: number; node: string; id: string }> {}
@message('test.sharding.Tell') class Tell { constructor(readonly to: ActorRef<Add>, readonly n: number) {} }
type Msg = Add | Get | Tell;

/** Every live entity instance, by "<id>@<node>", across the whole simulated cluster. */
const live = new Map<string, number>();
const instances = (id: string) => [...live.entries()].filter(([k, v]) => k.startsWith(`${id}@`) && v > 0).map(([k]) => k);

class Counter extends Actor<Msg> {
  total = 0;
  private where = '';
  constructor(readonly entityId: string, readonly step: number) { super(); }
  override receive(msg: Msg, ctx: Context<Msg>): void {
    if (this.where === '') this.where = `${this.entityId}@${ctx.system.name}`;
    live.set(this.where, 1);
    if (msg instanceof Add) this.total += msg.n * this.step;
    else if (msg instanceof Get) ctx.reply({ total: this.total, node: ctx.system.name, id: this.entityId });
    else void msg.to.send(new Add(msg.n));
  }
  override onStop(): void {
    if (this.where !== '') live.set(this.where, 0);
  }
}

beforeEach(() => live.clear());

async function threeNodes(seed: number) {
  const cluster = await TestCluster.start({ nodes: 3, seed, start: startNode });
  await cluster.converged();
  const types: ShardedRef<Msg>[] = [];
  for (const n of cluster.nodes) types.push(await n.system.spawn(Counter, { name: 'counters', sharded: true, args: [1] }));
  return { cluster, types };
}

test('entities are created on demand on the node that owns their shard, once, and answer from every node', async () => {
  const { cluster, types } = await threeNodes(3);
  await using _ = cluster;
  const ids = Array.from({ length: 30 }, (_, i) => `user-${i}`);
  // every node adds 1 to every entity: 3 adds each, from three senders
  for (const t of types) for (const id of ids) await cluster.settled(t.entity(id).send(new Add(1)));
  const ring = Sharding.of(cluster.node('n0').system).currentRing;
  for (const id of ids) {
    const answers = [];
    for (const t of types) answers.push(await cluster.settled(t.entity(id).ask(new Get())));
    const owner = ring.ownerOf(shardOf(id, DEFAULT_SHARD_COUNT));
    expect(answers.map((a) => `${a.total}@${a.node}`)).toEqual([`3@${owner}`, `3@${owner}`, `3@${owner}`]);
    expect(instances(id)).toEqual([`${id}@${owner}`]);
  }
  // the entities are spread over the three nodes, and each node's statistics say so
  expect(new Set(ids.map((id) => ring.ownerOf(shardOf(id, DEFAULT_SHARD_COUNT)))).size).toBe(3);
  const stats = cluster.nodes.map((n) => Sharding.of(n.system).stats().types[0]!);
  expect(stats.reduce((sum, t) => sum + t.activeEntities, 0)).toBe(30);
  expect(stats.map((t) => [t.typeName, t.shardsMoving, t.buffered])).toEqual([['counters', 0, 0], ['counters', 0, 0], ['counters', 0, 0]]);
  for (const t of stats) expect(t.shardsHeld).toBeGreaterThan(0);
});

test('an entity ref inside a message crosses nodes as an entity ref', async () => {
  const { cluster, types } = await threeNodes(4);
  await using _ = cluster;
  const [a, b] = [types[0]!, types[1]!];
  // n0 asks entity x to tell entity y (wherever each lives) to add 5; read y from n1
  await cluster.settled(a.entity('x').send(new Tell(a.entity('y'), 5)));
  await cluster.advance(50);
  expect((await cluster.settled(b.entity('y').ask(new Get()))).total).toBe(5);
});

test('after a node crashes, its entities answer again from the survivors (empty: no replication yet)', async () => {
  const { cluster, types } = await threeNodes(5);
  await using _ = cluster;
  const ids = Array.from({ length: 30 }, (_, i) => `acct-${i}`);
  for (const id of ids) await cluster.settled(types[0]!.entity(id).send(new Add(2)));
  const ring = Sharding.of(cluster.node('n0').system).currentRing;
  const onDead = ids.filter((id) => ring.ownerOf(shardOf(id, DEFAULT_SHARD_COUNT)) === 'n2');
  expect(onDead.length).toBeGreaterThan(0);
  cluster.crash('n2');
  await cluster.converged(60_000);
  for (const id of ids) {
    const got = await cluster.settled(types[1]!.entity(id).ask(new Get()));
    expect(got.node).not.toBe('n2');
    expect(got.total).toBe(onDead.includes(id) ? 0 : 2);
  }
});

test('a message for a type a node has not registered is held, then delivered once it registers', async () => {
  const cluster = await TestCluster.start({ nodes: 2, seed: 6, start: startNode });
  await using _ = cluster;
  await cluster.converged();
  const a = await cluster.node('n0').system.spawn(Counter, { name: 'late', sharded: true, args: [1] });
  const ring = Sharding.of(cluster.node('n0').system).currentRing;
  const id = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => ring.ownerOf(shardOf(k, DEFAULT_SHARD_COUNT)) === 'n1')!;
  const asked = a.entity(id).ask(new Get());
  await cluster.advance(1_000);
  await cluster.node('n1').system.spawn(Counter, { name: 'late', sharded: true, args: [1] });
  expect((await cluster.settled(asked)).node).toBe('n1');
});

test('a type never registered on the owner fails after the hold with a typed error naming it and the node', async () => {
  const cluster = await TestCluster.start({ nodes: 2, seed: 7, start: startNode });
  await using _ = cluster;
  await cluster.converged();
  const a = await cluster.node('n0').system.spawn(Counter, { name: 'lonely', sharded: true, args: [1] });
  const dead: DeadLetter[] = [];
  cluster.node('n1').system.events.subscribe(DeadLetter, (d) => dead.push(d));
  const ring = Sharding.of(cluster.node('n0').system).currentRing;
  const id = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => ring.ownerOf(shardOf(k, DEFAULT_SHARD_COUNT)) === 'n1')!;
  const asked = a.entity(id).ask(new Get(), { timeout: 30_000 });
  await expect(cluster.settled(asked)).rejects.toThrow(new EntityTypeNotRegisteredError(
    "The entity type 'lonely' is not registered on node 'n1' (it was not registered within 10000 ms): every node must " +
    "spawn it with { name: 'lonely', sharded: true } at start"));
  expect(dead.map((d) => d.reason)).toEqual(['unroutable']);
});

test('wrong sharded spawns are refused at the call', async () => {
  const cluster = await TestCluster.start({ nodes: 1, start: startNode });
  await using _ = cluster;
  const system = cluster.node('n0').system;
  await system.spawn(Counter, { name: 'c', sharded: true, args: [1] });
  class Other extends Actor<Msg> { constructor(readonly entityId: string) { super(); } override receive(): void {} }
  await expect(system.spawn(Other, { name: 'c', sharded: true })).rejects.toThrow(/the name 'c' is registered already, as a sharded type of class Counter/);
  await expect(system.spawn(Counter, { name: 'bad/name', sharded: true, args: [1] })).rejects.toThrow(InvalidArgumentError);
  await expect(system.spawn(Counter, { name: 'x', sharded: true, args: [1], shards: 3 } as never)).rejects.toThrow(/unknown option 'shards'/);
  await expect(system.spawn(Counter, { name: 'c', singleton: true, args: ['x' as never] } as never)).rejects.toThrow(/the name 'c' is registered already, as a sharded type/);
  await expect(system.spawn(Counter, { name: 'y', sharded: true, singleton: true } as never)).rejects.toThrow(/'sharded' and 'singleton' exclude each other/);
  const ref = await system.spawn(Counter, { name: 'c', sharded: true, args: [1] });
  expect(() => ref.entity('')).toThrow(/non-empty string id/);
});

test('a node that cuts ids into a different number of shards is left out of the others\' rings, both ways, with an error naming both counts', async () => {
  const cluster = await TestCluster.start({ nodes: 3, seed: 8, start: (transport, options) =>
    ClusteredActorSystem.start(transport, { ...options, extensions: [sharding(transport.nodeId === 'n2' ? { shardCount: 512 } : {})] }) });
  await using _ = cluster;
  await cluster.converged();
  await cluster.advance(2_000); // the counts are gossiped
  expect([...Sharding.of(cluster.node('n0').system).currentRing.members]).toEqual(['n0', 'n1']);
  expect([...Sharding.of(cluster.node('n2').system).currentRing.members]).toEqual(['n2']);
  expect(Sharding.of(cluster.node('n0').system).stats().incompatibleNodes).toEqual({ n2: 512 });
  const errors = cluster.node('n0').logger.entries.filter((e) => e.level === 'error').map((e) => e.message);
  expect(errors).toEqual([expect.stringContaining("Node 'n2' cuts entity ids into 512 shards and this node ('n0') into 4096")]);
  const a = await cluster.node('n0').system.spawn(Counter, { name: 'counters', sharded: true, args: [1] });
  await cluster.node('n1').system.spawn(Counter, { name: 'counters', sharded: true, args: [1] });
  for (let i = 0; i < 20; i++) expect((await cluster.settled(a.entity(`k${i}`).ask(new Get()))).node).not.toBe('n2');
});

test('an entity ref knows the classes its entity handles (static handles or @handle methods), so it can be combined with or()', async () => {
  const cluster = await TestCluster.start({ nodes: 1, start: startNode });
  await using _ = cluster;
  @message('test.sharding.Ping') class Ping {}
  class ByHandle extends Actor<Ping> {
    constructor(readonly entityId: string) { super(); }
    @handle(Ping) ping(): void {}
  }
  class ByStatic extends Actor<Add> {
    static readonly handles = [Add];
    constructor(readonly entityId: string) { super(); }
    override receive(): void {}
  }
  const system = cluster.node('n0').system;
  const a = await system.spawn(ByHandle, { name: 'by-handle', sharded: true });
  const b = await system.spawn(ByStatic, { name: 'by-static', sharded: true });
  expect(a.entity('x').handledClasses()).toEqual([Ping]);
  expect(b.entity('x').handledClasses()).toEqual([Add]);
  expect(() => a.entity('x').or(b.entity('y'))).not.toThrow();
});
