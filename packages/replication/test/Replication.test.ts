// Replicated entity state on the in-memory cluster (TestCluster composed by startNode, ManualClock, seeded),
// checked by counting: per entity, the adds acknowledged and attempted against the total it answers with after
// its node was killed (with syncCount >= 1, nothing acknowledged may be missing); a passivated entity coming back
// with its state; a write whose backup cannot be reached failing with a typed error that says it was processed;
// the spawn option checked at the call.

import { Actor, InvalidArgumentError, message, Request } from '@casty/core';
import type { Context } from '@casty/core';
import { TestCluster } from '@casty/cluster/testing';
import { ClusteredActorSystem, EntityPassivated, ReplicationTimeoutError, Sharding, sharding, startNode } from 'casty';
import type { ShardedRef } from 'casty';

@message('test.replication.Add') class Add extends Request<number> { constructor(readonly n: number) { super(); } }
@message('test.replication.Get') class Get extends Request<{ total: number; node: string }> {}
type Msg = Add | Get;

class Account extends Actor<Msg> {
  total = 0;
  _scratch = 'not state';
  constructor(readonly entityId: string) { super(); }
  override receive(msg: Msg, ctx: Context<Msg>): void {
    if (msg instanceof Add) ctx.reply(this.total += msg.n);
    else ctx.reply({ total: this.total, node: ctx.system.name });
  }
}

interface Tally { acked: number; attempted: number }

async function start(nodes: number, seed: number, replication: object, passivation?: object) {
  const cluster = await TestCluster.start({ nodes, seed, start: startNode });
  await cluster.converged();
  const refs = new Map<string, ShardedRef<Msg>>();
  for (const n of cluster.nodes) {
    refs.set(n.id, await n.system.spawn(Account, { name: 'accounts', sharded: true, replication, ...(passivation ? { passivation } : {}) } as never));
  }
  return { cluster, refs };
}

/** One add from each sender to each entity, as asks: acknowledged or failed, counted per entity. */
function addRound(refs: Map<string, ShardedRef<Msg>>, ids: readonly string[], tally: Map<string, Tally>, failures: string[]) {
  const asks: Promise<void>[] = [];
  for (const [sender, ref] of refs) {
    for (const id of ids) {
      const t = tally.get(id)!;
      t.attempted++;
      asks.push(ref.entity(id).ask(new Add(1), { timeout: 20_000 }).then(() => { t.acked++; },
        (e: unknown) => { failures.push(`${sender}->${id}: ${String(e)}`); }));
    }
  }
  return Promise.all(asks);
}

const ids = Array.from({ length: 60 }, (_, i) => `acct-${i}`);

test.each([
  [1, 4, 'the node holding the most entities is killed'],
  [2, 4, 'the node holding the most entities is killed'],
  [2, 5, 'that node and a backup of its shards are killed together'],
])('factor 3, syncCount %i, %i nodes: %s mid-stream; every acknowledged add survives', async (syncCount, nodes, what) => {
  const { cluster, refs } = await start(nodes, 20 + syncCount + nodes, { factor: 3, syncCount });
  await using _ = cluster;
  const tally = new Map(ids.map((id) => [id, { acked: 0, attempted: 0 }]));
  const failures: string[] = [];
  for (let r = 0; r < 3; r++) await cluster.settled(addRound(refs, ids, tally, failures));
  const sharding = Sharding.of(cluster.node('n0').system);
  const owners = new Map<string, number>();
  for (const id of ids) {
    const owner = sharding.currentRing.ownerOf(sharding.shardOf(id))!;
    owners.set(owner, (owners.get(owner) ?? 0) + 1);
  }
  const victim = [...owners].filter(([n]) => n !== 'n0').sort((a, b) => b[1] - a[1])[0]![0];
  const victims = new Set([victim]);
  if (what.includes('backup')) {
    // the backup that holds the most of the victim's entities (first after it in their preference lists), not n0
    const backups = new Map<string, number>();
    for (const id of ids) {
      const [owner, ...rest] = sharding.currentRing.preferenceList(sharding.shardOf(id), 3);
      if (owner !== victim) continue;
      for (const b of rest.filter((n) => n !== 'n0').slice(0, 1)) backups.set(b, (backups.get(b) ?? 0) + 1);
    }
    victims.add([...backups].sort((a, b) => b[1] - a[1])[0]![0]);
  }
  // the load goes on while the nodes die: adds in flight to them fail (not acknowledged), the rest must all count
  const survivors = new Map([...refs].filter(([n]) => !victims.has(n)));
  const during = addRound(survivors, ids, tally, failures);
  for (const v of victims) cluster.crash(v);
  await cluster.settled(during, 60_000);
  await cluster.converged();
  for (let r = 0; r < 2; r++) await cluster.settled(addRound(survivors, ids, tally, failures));
  const reader = survivors.get('n0')!;
  const lost: string[] = [];
  for (const id of ids) {
    const got = await cluster.settled(reader.entity(id).ask(new Get(), { timeout: 20_000 }));
    const t = tally.get(id)!;
    if (got.total < t.acked || got.total > t.attempted) lost.push(`${id} on ${got.node}: ${got.total} (acked ${t.acked}, attempted ${t.attempted})`);
    expect(victims.has(got.node)).toBe(false);
  }
  if (lost.length > 0) throw new Error(`${lost.join('\n')}\nfailed asks: ${failures.slice(0, 5).join('\n')}\n${cluster.describe(10)}`);
  expect(owners.get(victim)).toBeGreaterThan(5);
  expect(victims.size).toBe(what.includes('backup') ? 2 : 1);
});

test('a passivated replicated entity comes back with its state', async () => {
  const { cluster, refs } = await start(2, 7, { factor: 2, syncCount: 1 }, { idleMs: 2_000 });
  await using _ = cluster;
  const ref = refs.get('n0')!;
  const passivated: string[] = [];
  for (const n of cluster.nodes) n.system.events.subscribe(EntityPassivated, (e) => passivated.push(e.entityId));
  for (let i = 0; i < 5; i++) await cluster.settled(ref.entity('saver').ask(new Add(10)));
  await cluster.advance(10_000);
  expect(passivated).toEqual(['saver']);
  expect((await cluster.settled(ref.entity('saver').ask(new Get()))).total).toBe(50);
});

test('a write whose only backup cannot be reached is processed, and its ask fails with ReplicationTimeoutError saying so', async () => {
  const { cluster, refs } = await start(2, 3, { factor: 2, syncCount: 1, timeout: 500 });
  await using _ = cluster;
  const ref = refs.get('n0')!;
  const sharding = Sharding.of(cluster.node('n0').system);
  let i = 0;
  while (sharding.currentRing.ownerOf(sharding.shardOf(`local-${i}`)) !== 'n0') i++;
  const id = `local-${i}`;
  expect(await cluster.settled(ref.entity(id).ask(new Add(1)))).toBe(1);
  cluster.partition(['n0'], ['n1']);
  const outcome = await cluster.settled(ref.entity(id).ask(new Add(1), { timeout: 10_000 }).then(() => 'acknowledged', (e: unknown) => e), 5_000);
  expect(outcome).toBeInstanceOf(ReplicationTimeoutError);
  expect((outcome as ReplicationTimeoutError).message).toMatch(/was processed, but only 0 of the 1 backups/);
  expect((outcome as ReplicationTimeoutError).acknowledged).toBe(0);
});

test('replication options are checked at the call, naming the field', async () => {
  const cluster = await TestCluster.start({ nodes: 1, seed: 1, start: startNode });
  await using _ = cluster;
  const system = cluster.node('n0').system;
  const spawn = (replication: unknown) => system.spawn(Account, { name: 'checked', sharded: true, replication } as never);
  await expect(spawn({ factor: 0 })).rejects.toThrow(/replication\.factor must be a whole number >= 1/);
  await expect(spawn({ factor: 2, syncCount: 2 })).rejects.toThrow(/replication\.syncCount must be a whole number from -1 .* to factor - 1 \(1\)/);
  await expect(spawn({ factor: '3' })).rejects.toThrow(InvalidArgumentError);
  await expect(spawn({ factor: 3, timeout: -5 })).rejects.toThrow(/replication\.timeout must be a number of milliseconds > 0/);
  await expect(spawn({ factor: 3, sync: 1 })).rejects.toThrow(/has no field 'sync'; its fields are factor, syncCount and timeout/);
  await system.spawn(Account, { name: 'twice', sharded: true, replication: { factor: 2 } });
  await expect(system.spawn(Account, { name: 'twice', sharded: true, replication: { factor: 3 } }))
    .rejects.toThrow(/registered already with replication/);
});

test('on a node composed without replication, the option is refused at the call, saying how to compose it', async () => {
  const cluster = await TestCluster.start({ nodes: 1, seed: 2,
    start: (transport, options) => ClusteredActorSystem.start(transport, { ...options, extensions: [sharding()] }) });
  await using _ = cluster;
  await expect(cluster.node('n0').system.spawn(Account, { name: 'nope', sharded: true, replication: { factor: 2 } }))
    .rejects.toThrow(/this node has no replication installed; compose it with @casty\/replication's replication\(\) extension/);
});
