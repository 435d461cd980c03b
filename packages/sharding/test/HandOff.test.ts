// Shards moving by hand-off on the in-memory cluster (TestCluster composed by startNode, ManualClock, seeded),
// under a continuous load, checked by counting: per entity, the adds acknowledged and attempted against the total
// it ends with (its state moves with it), and how many instances of it were ever alive at once (never two).

import { Actor, message, Request } from '@casty/core';
import type { Context } from '@casty/core';
import { TestCluster } from '@casty/cluster/testing';
import { Sharding, startNode } from 'casty';
import type { ShardedRef } from 'casty';

@message('test.handoff.Add') class Add extends Request<number> { constructor(readonly n: number, readonly sender: string, readonly seq: number) { super(); } }
@message('test.handoff.Get') class Get extends Request<{ total: number; node: string; order: Record<string, number[]> }> {}
type Msg = Add | Get;

/** What the whole simulated cluster saw of each entity: instances alive now, the most ever alive at once. */
class Registry {
  readonly alive = new Map<string, number>();
  readonly maxAlive = new Map<string, number>();
  started(id: string): void {
    const n = (this.alive.get(id) ?? 0) + 1;
    this.alive.set(id, n);
    this.maxAlive.set(id, Math.max(n, this.maxAlive.get(id) ?? 0));
  }
  stopped(id: string): void {
    this.alive.set(id, (this.alive.get(id) ?? 1) - 1);
  }
}
const registry = new Registry();

class Account extends Actor<Msg> {
  total = 0;
  /** The seq numbers each sender's adds arrived in (order per sender must hold). */
  order: Record<string, number[]> = {};
  constructor(readonly entityId: string) { super(); }
  override onStart(): void { registry.started(this.entityId); }
  override onStop(): void { registry.stopped(this.entityId); }
  override receive(msg: Msg, ctx: Context<Msg>): void {
    if (msg instanceof Add) {
      this.total += msg.n;
      (this.order[msg.sender] ??= []).push(msg.seq);
      ctx.reply(this.total);
    } else {
      ctx.reply({ total: this.total, node: ctx.system.name, order: this.order });
    }
  }
}

interface Tally { acked: number; attempted: number }
const failures: string[] = [];

/** Sends one round of adds from every sender to every entity (asks, so each is acknowledged or not). */
async function round(cluster: TestCluster, senders: Map<string, ShardedRef<Msg>>, ids: readonly string[],
  tally: Map<string, Tally>, seqs: Map<string, number>): Promise<void> {
  const asks: Promise<void>[] = [];
  for (const [sender, ref] of senders) {
    for (const id of ids) {
      const key = `${sender}->${id}`;
      const seq = (seqs.get(key) ?? 0) + 1;
      seqs.set(key, seq);
      const t = tally.get(id)!;
      t.attempted++;
      asks.push(ref.entity(id).ask(new Add(1, sender, seq), { timeout: 20_000 }).then(() => { t.acked++; }, (e: unknown) => {
        failures.push(`${key}#${seq} at ${cluster.clock.now()}: ${String(e)}`);
      }));
    }
  }
  await cluster.settled(Promise.all(asks), 60_000);
}

async function check(cluster: TestCluster, reader: ShardedRef<Msg>, ids: readonly string[], tally: Map<string, Tally>) {
  const problems: string[] = [];
  for (const id of ids) {
    const got = await cluster.settled(reader.entity(id).ask(new Get()));
    const t = tally.get(id)!;
    if (got.total < t.acked || got.total > t.attempted) problems.push(`${id}: total ${got.total}, acked ${t.acked}, attempted ${t.attempted}`);
    if (t.acked !== t.attempted) problems.push(`${id}: ${t.attempted - t.acked} adds not acknowledged`);
    for (const [sender, seqs] of Object.entries(got.order)) {
      if (seqs.some((s, i) => i > 0 && s <= seqs[i - 1]!)) problems.push(`${id}: ${sender}'s adds out of order: ${seqs.join(',')}`);
    }
    if ((registry.maxAlive.get(id) ?? 0) > 1) problems.push(`${id}: ${registry.maxAlive.get(id)} instances alive at once`);
  }
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\nfailed asks (first 5): ${failures.slice(0, 5).join('\n')}\n${cluster.describe(10)}`);
}

async function start(nodes: number, seed: number) {
  const cluster = await TestCluster.start({ nodes, seed, start: startNode });
  await cluster.converged();
  const senders = new Map<string, ShardedRef<Msg>>();
  for (const n of cluster.nodes) senders.set(n.id, await n.system.spawn(Account, { name: 'accounts', sharded: true }));
  return { cluster, senders };
}

const ids = Array.from({ length: 40 }, (_, i) => `acct-${i}`);

beforeEach(() => {
  registry.alive.clear();
  registry.maxAlive.clear();
});

test('a node joins under load: its shards move to it with their state; nothing acknowledged lost or doubled, never two instances', async () => {
  const { cluster, senders } = await start(2, 11);
  await using _ = cluster;
  const tally = new Map(ids.map((id) => [id, { acked: 0, attempted: 0 }]));
  const seqs = new Map<string, number>();
  for (let r = 0; r < 3; r++) await round(cluster, senders, ids, tally, seqs);
  const joiner = await cluster.join('n2');
  const joinerRef = await joiner.system.spawn(Account, { name: 'accounts', sharded: true });
  // the load goes on while the ring changes and shards move
  for (let r = 0; r < 6; r++) await round(cluster, senders, ids, tally, seqs);
  await cluster.converged();
  senders.set('n2', joinerRef);
  for (let r = 0; r < 2; r++) await round(cluster, senders, ids, tally, seqs);
  const ring = Sharding.of(cluster.node('n0').system).currentRing;
  const onJoiner = ids.filter((id) => ring.ownerOf(Sharding.of(cluster.node('n0').system).shardOf(id)) === 'n2');
  expect(onJoiner.length).toBeGreaterThan(0);
  await check(cluster, joinerRef, ids, tally);
  for (const id of onJoiner) expect((await cluster.settled(joinerRef.entity(id).ask(new Get()))).node).toBe('n2');
  expect(Sharding.of(cluster.node('n0').system).stats().handOffs + Sharding.of(cluster.node('n1').system).stats().handOffs)
    .toBeGreaterThan(0);
});

test('a node leaves gracefully under load: its shards go to the others with their state', async () => {
  const { cluster, senders } = await start(3, 12);
  await using _ = cluster;
  const tally = new Map(ids.map((id) => [id, { acked: 0, attempted: 0 }]));
  const seqs = new Map<string, number>();
  for (let r = 0; r < 3; r++) await round(cluster, senders, ids, tally, seqs);
  const ring = Sharding.of(cluster.node('n0').system).currentRing;
  const onLeaver = ids.filter((id) => ring.ownerOf(Sharding.of(cluster.node('n0').system).shardOf(id)) === 'n2');
  expect(onLeaver.length).toBeGreaterThan(0);
  senders.delete('n2');
  const leaving = cluster.beginLeave('n2');
  for (let r = 0; r < 6; r++) await round(cluster, senders, ids, tally, seqs);
  await cluster.settled(leaving);
  await cluster.converged();
  for (let r = 0; r < 2; r++) await round(cluster, senders, ids, tally, seqs);
  await check(cluster, senders.get('n0')!, ids, tally);
  for (const id of onLeaver) expect((await cluster.settled(senders.get('n1')!.entity(id).ask(new Get()))).node).not.toBe('n2');
});

test('two nodes join at once under load', async () => {
  const { cluster, senders } = await start(2, 13);
  await using _ = cluster;
  const tally = new Map(ids.map((id) => [id, { acked: 0, attempted: 0 }]));
  const seqs = new Map<string, number>();
  for (let r = 0; r < 2; r++) await round(cluster, senders, ids, tally, seqs);
  const [a, b] = [await cluster.join('n2'), await cluster.join('n3')];
  const refs = [await a.system.spawn(Account, { name: 'accounts', sharded: true }), await b.system.spawn(Account, { name: 'accounts', sharded: true })];
  for (let r = 0; r < 6; r++) await round(cluster, senders, ids, tally, seqs);
  await cluster.converged();
  senders.set('n2', refs[0]!);
  senders.set('n3', refs[1]!);
  for (let r = 0; r < 2; r++) await round(cluster, senders, ids, tally, seqs);
  await check(cluster, refs[1]!, ids, tally);
});

test('a node joins while another leaves, under load', async () => {
  const { cluster, senders } = await start(3, 14);
  await using _ = cluster;
  const tally = new Map(ids.map((id) => [id, { acked: 0, attempted: 0 }]));
  const seqs = new Map<string, number>();
  for (let r = 0; r < 2; r++) await round(cluster, senders, ids, tally, seqs);
  senders.delete('n1');
  const leaving = cluster.beginLeave('n1');
  const joiner = await cluster.join('n3');
  const joinerRef = await joiner.system.spawn(Account, { name: 'accounts', sharded: true });
  for (let r = 0; r < 6; r++) await round(cluster, senders, ids, tally, seqs);
  await cluster.settled(leaving);
  await cluster.converged();
  senders.set('n3', joinerRef);
  for (let r = 0; r < 2; r++) await round(cluster, senders, ids, tally, seqs);
  await check(cluster, joinerRef, ids, tally);
});

test('the node handing shards over crashes mid-hand-off: its shards start empty on the new owners; nothing doubled, never two instances', async () => {
  const { cluster, senders } = await start(3, 15);
  await using _ = cluster;
  const tally = new Map(ids.map((id) => [id, { acked: 0, attempted: 0 }]));
  const seqs = new Map<string, number>();
  for (let r = 0; r < 2; r++) await round(cluster, senders, ids, tally, seqs);
  senders.delete('n2');
  const leaving = cluster.node('n2').system.shutdown(); // its hand-off begins...
  leaving.catch(() => undefined);
  await cluster.advance(3);
  cluster.crash('n2'); // ...and it is cut off mid-way
  for (let r = 0; r < 3; r++) await round(cluster, senders, ids, tally, seqs);
  await cluster.converged(60_000);
  for (let r = 0; r < 2; r++) await round(cluster, senders, ids, tally, seqs);
  // entities that were on n2 may have lost their state (a crash without replication): a total may be below what
  // was acknowledged, but never above what was attempted, and never two instances alive
  for (const id of ids) {
    const got = await cluster.settled(senders.get('n0')!.entity(id).ask(new Get()));
    expect(got.total).toBeLessThanOrEqual(tally.get(id)!.attempted);
    expect(got.node).not.toBe('n2');
    expect(registry.maxAlive.get(id) ?? 0).toBeLessThanOrEqual(2); // n2's cut-off copy is never stopped
  }
});
