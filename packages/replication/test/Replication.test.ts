// Replicated entity state on the in-memory cluster (TestCluster composed by startNode, ManualClock, seeded),
// checked by counting: per entity, the adds acknowledged and attempted against the total it answers with after
// its node was killed (with syncCount >= 1, nothing acknowledged may be missing); a passivated entity coming back
// with its state; a write whose backup cannot be reached failing with a typed error that says it was processed;
// the spawn option checked at the call.

import { Actor, InvalidArgumentError, message, Request } from '@casty/core';
import type { ActorRef, Context } from '@casty/core';
import { TestCluster } from '@casty/cluster/testing';
import { ClusteredActorSystem, EntityPassivated, ReplicationTimeoutError, Sharding, sharding, startNode } from 'casty';
import type { ShardedRef } from 'casty';

@message('test.replication.Add') class Add extends Request<number> { constructor(readonly n: number) { super(); } }
@message('test.replication.Get') class Get extends Request<{ total: number; node: string }> {}
/** Gives the account a state of about `bytes` bytes. */
@message('test.replication.Fill') class Fill extends Request<number> { constructor(readonly bytes: number) { super(); } }
/** Makes the account hold a function in a state field (which the wire cannot carry). */
@message('test.replication.Poison') class Poison extends Request<boolean> {}
type Msg = Add | Get | Poison | Fill;

class Account extends Actor<Msg> {
  total = 0;
  _scratch = 'not state';
  constructor(readonly entityId: string) { super(); }
  handler: unknown = undefined;
  blob = '';
  override receive(msg: Msg, ctx: Context<Msg>): void {
    if (msg instanceof Add) ctx.reply(this.total += msg.n);
    else if (msg instanceof Fill) {
      this.blob = 'x'.repeat(msg.bytes);
      ctx.reply(this.blob.length);
    }
    else if (msg instanceof Poison) {
      this.handler = () => undefined;
      ctx.reply(true);
    } else ctx.reply({ total: this.total, node: ctx.system.name });
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

/** The node other than n0 (the reader) that holds the most of `entities`, and how many. */
function busiestOwner(sharding: Sharding, entities: readonly string[]): { victim: string; owned: number } {
  const owners = new Map<string, number>();
  for (const id of entities) {
    const owner = sharding.currentRing.ownerOf(sharding.shardOf(id))!;
    owners.set(owner, (owners.get(owner) ?? 0) + 1);
  }
  const [victim, owned] = [...owners].filter(([n]) => n !== 'n0').sort((a, b) => b[1] - a[1])[0]!;
  return { victim, owned };
}

/**
 * Adds to every entity from every node, then the node holding the most entities is killed (with `withBackup`, also
 * the backup holding most of its entities) while the load goes on, and every entity is read from a survivor.
 * Returns, per entity, what was lost (acknowledged adds missing from its total) and what was counted beyond attempts.
 */
async function killUnderLoad(syncCount: number, nodes: number, withBackup: boolean) {
  const { cluster, refs } = await start(nodes, 20 + syncCount + nodes, { factor: 3, syncCount });
  try {
    const tally = new Map(ids.map((id) => [id, { acked: 0, attempted: 0 }]));
    const failures: string[] = [];
    for (let r = 0; r < 3; r++) await cluster.settled(addRound(refs, ids, tally, failures));
    const sharding = Sharding.of(cluster.node('n0').system);
    const { victim, owned } = busiestOwner(sharding, ids);
    const victims = new Set([victim]);
    if (withBackup) {
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
    const doubled: string[] = [];
    let acked = 0;
    let lostAdds = 0;
    for (const id of ids) {
      const got = await cluster.settled(reader.entity(id).ask(new Get(), { timeout: 20_000 }));
      const t = tally.get(id)!;
      acked += t.acked;
      if (got.total < t.acked) {
        lost.push(`${id} on ${got.node}: ${got.total} (acked ${t.acked}, attempted ${t.attempted})`);
        lostAdds += t.acked - got.total;
      }
      if (got.total > t.attempted) doubled.push(`${id} on ${got.node}: ${got.total} (attempted ${t.attempted})`);
      expect(victims.has(got.node)).toBe(false);
    }
    expect(owned).toBeGreaterThan(5);
    expect(victims.size).toBe(withBackup ? 2 : 1);
    return { lost, doubled, acked, lostAdds, failures, describe: () => cluster.describe(10) };
  } finally {
    await cluster.shutdown();
  }
}

test.each([
  [1, 4, false, 'the node holding the most entities is killed'],
  [2, 4, false, 'the node holding the most entities is killed'],
  [2, 5, true, 'that node and a backup of its shards are killed together'],
])('factor 3, syncCount %i, %i nodes: %s mid-stream; every acknowledged add survives', async (syncCount, nodes, withBackup) => {
  const outcome = await killUnderLoad(syncCount, nodes, withBackup);
  const problems = [...outcome.lost, ...outcome.doubled];
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\nfailed asks: ${outcome.failures.slice(0, 5).join('\n')}\n${outcome.describe()}`);
});

test('factor 3, syncCount 0 (asynchronous): every entity answers again after the kill; the acknowledged adds lost are counted', async () => {
  const outcome = await killUnderLoad(0, 4, false);
  expect(outcome.doubled).toEqual([]);
  // asynchronous replication may lose what its backups had not received yet: reported, not a failure
  process.stdout.write(`[replication] syncCount 0: ${outcome.lostAdds} of ${outcome.acked} acknowledged adds lost ` +
    `(${outcome.lost.length} of ${ids.length} entities) when the node holding the most entities was killed mid-stream\n`);
});

@message('test.replication.Pair') class Pair extends Request<number> { constructor(readonly n: number) { super(); } }
@message('test.replication.GetPair') class GetPair extends Request<{ a: number; b: number; node: string }> {}

/** Sets `a`, waits 3 ms (of the cluster's clock), then sets `b`: between the two, its state is half changed. */
class Twin extends Actor<Pair | GetPair> {
  a = 0;
  b = 0;
  constructor(readonly entityId: string) { super(); }
  override async receive(msg: Pair | GetPair, ctx: Context<Pair | GetPair>): Promise<void> {
    if (msg instanceof GetPair) {
      ctx.reply({ a: this.a, b: this.b, node: ctx.system.name });
      return;
    }
    this.a = msg.n;
    // the entity's own work between its two changes (3 ms of the cluster's manual clock, which the test advances):
    // not a wait for anything, it keeps the entity in a message when a window ends or its owner dies
    await new Promise<void>((resolve) => ctx.system.clock.setTimeout(resolve, 3));
    this.b = msg.n;
    ctx.reply(this.b);
  }
}

test('syncCount 0: entities whose receive awaits between two changes come back after a kill never half changed', async () => {
  const cluster = await TestCluster.start({ nodes: 4, seed: 31, start: startNode });
  await using _ = cluster;
  await cluster.converged();
  const refs = new Map<string, ShardedRef<Pair | GetPair>>();
  for (const n of cluster.nodes) refs.set(n.id, await n.system.spawn(Twin, { name: 'twins', sharded: true, replication: { factor: 3, syncCount: 0 } } as never));
  const twins = Array.from({ length: 40 }, (_, i) => `twin-${i}`);
  const { victim, owned } = busiestOwner(Sharding.of(cluster.node('n0').system), twins);
  let n = 0;
  // a stream of pairs from every node but the victim: each entity's windows of 10 ms end while some of them await
  const round = (senders: Map<string, ShardedRef<Pair | GetPair>>) => Promise.all([...senders].flatMap(([, ref]) =>
    twins.map((id) => ref.entity(id).ask(new Pair(++n), { timeout: 20_000 }).catch(() => undefined))));
  const survivors = new Map([...refs].filter(([id]) => id !== victim));
  for (let r = 0; r < 3; r++) await cluster.settled(round(refs));
  for (let r = 0; r < 2; r++) await cluster.settled(round(survivors));
  // five rounds at once: each entity has a queue, and is in a message (awaiting) most of the time
  const during = Promise.all(Array.from({ length: 5 }, () => round(survivors)));
  // the victim dies in the middle of that stream: its entities awaiting, windows just sent
  const killAt = cluster.clock.now() + 17;
  while (cluster.clock.now() < killAt) await cluster.clock.advance(1);
  cluster.crash(victim);
  await cluster.settled(during, 60_000);
  await cluster.converged();
  const halves: string[] = [];
  for (const id of twins) {
    const got = await cluster.settled(refs.get('n0')!.entity(id).ask(new GetPair(), { timeout: 20_000 }));
    if (got.a !== got.b) halves.push(`${id} on ${got.node}: a ${got.a}, b ${got.b}`);
  }
  expect(owned).toBeGreaterThan(5);
  expect(halves).toEqual([]);
});

test('a backup that restarts empty is refilled by the holders of its shards', async () => {
  const { cluster, refs } = await start(3, 31, { factor: 3, syncCount: 1 });
  await using _ = cluster;
  const tally = new Map(ids.map((id) => [id, { acked: 0, attempted: 0 }]));
  const failures: string[] = [];
  await cluster.settled(addRound(refs, ids, tally, failures));
  const kept = (node: string) => Sharding.of(cluster.node(node).system).stats().types[0]!.replicaEntities;
  expect(kept('n2')).toBe(ids.length); // factor 3 on 3 nodes: every node keeps every entity
  cluster.crash('n2');
  await cluster.converged();
  const restarted = await cluster.restart('n2');
  await restarted.system.spawn(Account, { name: 'accounts', sharded: true, replication: { factor: 3, syncCount: 1 } });
  await cluster.converged();
  await cluster.settled(new Promise<void>((resolve) => {
    const check = () => (kept('n2') >= ids.length ? resolve() : void setTimeout(check, 1));
    check();
  }), 30_000, 'n2 is refilled');
  expect(kept('n2')).toBe(ids.length);
});

test('a state that cannot be encoded fails the first write that makes it, naming the class and the field', async () => {
  const { cluster, refs } = await start(2, 9, { factor: 2, syncCount: 1 });
  await using _ = cluster;
  const ref = refs.get('n0')! as unknown as ShardedRef<Add | Get | Poison>;
  const outcome = await cluster.settled(ref.entity('poisoned').ask(new Poison()).then(() => 'acknowledged', (e: unknown) => e));
  expect(String(outcome)).toMatch(/Account.*field 'handler' cannot be encoded/);
});

/** Every entity's total, read from `reader`, against what was acknowledged and attempted: the problems. */
async function checkTotals(cluster: TestCluster, reader: ShardedRef<Msg>, tally: Map<string, Tally>): Promise<string[]> {
  const problems: string[] = [];
  for (const [id, t] of tally) {
    const got = await cluster.settled(reader.entity(id).ask(new Get(), { timeout: 20_000 }));
    if (got.total < t.acked) problems.push(`${id} on ${got.node}: ${got.total}, but ${t.acked} adds were acknowledged`);
    if (got.total > t.attempted) problems.push(`${id} on ${got.node}: ${got.total}, more than the ${t.attempted} attempted`);
  }
  return problems;
}

test.each([
  ['a node is killed while a joining node is being filled with replicas (re-replication)', 'join-then-kill'],
  ['a node joins (a rebalance) while the shards of a killed node are being restored (failover)', 'kill-then-join'],
])('%s, under load, factor 3, syncCount 1: nothing acknowledged lost or doubled', async (_what, order) => {
  const { cluster, refs } = await start(4, order === 'join-then-kill' ? 41 : 42, { factor: 3, syncCount: 1 });
  await using _ = cluster;
  const tally = new Map(ids.map((id) => [id, { acked: 0, attempted: 0 }]));
  const failures: string[] = [];
  for (let r = 0; r < 2; r++) await cluster.settled(addRound(refs, ids, tally, failures));
  const live = new Map(refs);
  const join = async () => {
    const joiner = await cluster.join('n4');
    live.set('n4', await joiner.system.spawn(Account, { name: 'accounts', sharded: true, replication: { factor: 3, syncCount: 1 } }));
  };
  const kill = () => {
    cluster.crash('n2');
    live.delete('n2');
  };
  // the load goes on while both changes happen, the second before the first has settled
  const during = addRound(new Map([...live].filter(([n]) => n !== 'n2')), ids, tally, failures);
  if (order === 'join-then-kill') {
    await join();
    kill();
  } else {
    kill();
    await join();
  }
  await cluster.settled(during, 60_000);
  await cluster.converged();
  for (let r = 0; r < 2; r++) await cluster.settled(addRound(live, ids, tally, failures));
  const problems = await checkTotals(cluster, live.get('n0')!, tally);
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\nfailed asks: ${failures.slice(0, 5).join('\n')}\n${cluster.describe(10)}`);
  // the joiner holds entities, and keeps replicas, by the end
  const n4 = Sharding.of(cluster.node('n4').system).stats().types[0]!;
  expect(n4.replicaEntities).toBeGreaterThan(0);
});

test('states bigger in all than a frame carries (16 MiB) reach a joining backup in batches; the sender does not fail', async () => {
  const { cluster, refs } = await start(2, 51, { factor: 2, syncCount: 1 });
  await using _ = cluster;
  const big = Array.from({ length: 48 }, (_, i) => `big-${i}`);
  const ref = refs.get('n0')!;
  await cluster.settled(Promise.all(big.map((id) => ref.entity(id).ask(new Fill(1_000_000)))));
  const joiner = await cluster.join('n2');
  await joiner.system.spawn(Account, { name: 'accounts', sharded: true, replication: { factor: 2, syncCount: 1 } });
  await cluster.converged();
  const keeps = () => Sharding.of(joiner.system).stats().types[0]!;
  // factor 2 on 3 nodes: the joiner keeps every entity it holds or backs up; the others sent theirs in batches
  const sharding = Sharding.of(joiner.system);
  const expected = big.filter((id) => sharding.currentRing.preferenceList(sharding.shardOf(id), 2).includes('n2')).length;
  await cluster.settled(new Promise<void>((resolve) => {
    const check = () => (keeps().replicaEntities >= expected ? resolve() : void setTimeout(check, 1));
    check();
  }), 30_000, 'the joiner keeps its share');
  expect(expected).toBeGreaterThan(16); // more than 16 MiB of states to it
  expect(keeps().replicaBytes).toBeGreaterThan(16 * 1024 * 1024);
  for (const n of cluster.nodes) expect(n.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
  expect((await cluster.settled(ref.entity('big-0').ask(new Get()))).total).toBe(0);
});

test.each([1, 0])('a passivated replicated entity comes back with its state (syncCount %d)', async (syncCount) => {
  const { cluster, refs } = await start(2, 7, { factor: 2, syncCount }, { idleMs: 2_000 });
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
  // a send waits as an ask does: it rejects the same way, and from another node as from the entity's own
  const sent = await cluster.settled(ref.entity(id).send(new Add(1)).then(() => 'acknowledged', (e: unknown) => e), 10_000);
  expect(sent).toBeInstanceOf(ReplicationTimeoutError);
  cluster.heal();
  await cluster.converged();
  let sentFromOther: unknown;
  await cluster.settled(refs.get('n1')!.entity(id).send(new Add(1)).then(() => { sentFromOther = 'acknowledged'; }, (e: unknown) => { sentFromOther = e; }), 30_000);
  expect(sentFromOther).toBe('acknowledged');
});

test('a send to a replicated entity (syncCount 1) resolves only once a backup holds the new state', async () => {
  const { cluster, refs } = await start(3, 13, { factor: 2, syncCount: 1 });
  await using _ = cluster;
  const kept = () => cluster.nodes.map((n) => Sharding.of(n.system).stats().types[0]!.replicaEntities).reduce((a, b) => a + b, 0);
  let before = 0;
  for (const [node, ref] of refs) {
    // read when the send resolves, before anything else runs: the entity and one backup hold its state (2 copies)
    const atResolve = await cluster.settled(ref.entity(`sent-from-${node}`).send(new Add(5)).then(() => kept()));
    expect({ node, copies: atResolve - before }).toEqual({ node, copies: 2 });
    before = atResolve;
  }
});

test('with one backup to wait for, the backup that holds the new state answers the asker: once, in order, counted', async () => {
  for (const syncCount of [1, 2]) {
    const { cluster, refs } = await start(3, 61 + syncCount, { factor: 3, syncCount });
    await using _ = cluster;
    const sharding = Sharding.of(cluster.node('n0').system);
    const remoteIds = ids.filter((id) => sharding.currentRing.ownerOf(sharding.shardOf(id)) !== 'n0').slice(0, 10);
    const answers: number[] = [];
    for (let round = 1; round <= 5; round++) {
      for (const id of remoteIds) answers.push(await cluster.settled(refs.get('n0')!.entity(id).ask(new Add(1))));
    }
    // every ask answered once, with its own total: round r answers r for each entity
    expect(answers).toEqual([1, 2, 3, 4, 5].flatMap((r) => remoteIds.map(() => r)));
    const remotes = cluster.nodes.map((n) => (n.system as ClusteredActorSystem).remote);
    const relayed = remotes.reduce((sum, r) => sum + r.relayedReplies, 0);
    expect(remotes.map((r) => r.lateReplies + r.relayedRepliesLost)).toEqual([0, 0, 0]); // no reply twice, none lost
    // the first ask of each entity goes through its region (it starts the entity); from then on they are relayed
    if (syncCount === 1) expect(relayed).toBeGreaterThanOrEqual(remoteIds.length * 4);
    else expect(relayed).toBe(0); // two backups to wait for: the holder answers once both acknowledged
  }
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

test('a replicated singleton (factor 2, syncCount 1) comes back after its node is killed with every acknowledged add', async () => {
  const cluster = await TestCluster.start({ nodes: 3, seed: 71, start: startNode });
  await using _ = cluster;
  await cluster.converged();
  const refs = new Map<string, ActorRef<Msg>>();
  for (const n of cluster.nodes) {
    refs.set(n.id, await n.system.spawn(Account, { name: 'ledger', singleton: true, args: ['ledger'], replication: { factor: 2, syncCount: 1 } }));
  }
  let acked = 0;
  for (let i = 0; i < 10; i++) {
    await cluster.settled(Promise.all([...refs.values()].map((ref) => ref.ask(new Add(1)).then(() => { acked++; }))));
  }
  const holder = (await cluster.settled(refs.get('n1')!.ask(new Get()))).node;
  cluster.crash(holder);
  await cluster.converged();
  const survivor = [...refs].find(([n]) => n !== holder)![1];
  const after = await cluster.settled(survivor.ask(new Get(), { timeout: 20_000 }), 60_000);
  expect(after.node).not.toBe(holder);
  expect(after.total).toBe(acked);
  expect(acked).toBe(30);
});

test('a holder paused until the others restored its shards, then resumed under load, acknowledges nothing it loses, ' +
  'and stops serving its stale copies: every acknowledged add is there, on one copy per entity', async () => {
  const { cluster, refs } = await start(4, 91, { factor: 3, syncCount: 1 });
  await using _ = cluster;
  const tally = new Map(ids.map((id) => [id, { acked: 0, attempted: 0 }]));
  const failures: string[] = [];
  for (let r = 0; r < 2; r++) await cluster.settled(addRound(refs, ids, tally, failures));
  const sharding = Sharding.of(cluster.node('n0').system);
  const held = (n: string) => ids.filter((id) => sharding.currentRing.ownerOf(sharding.shardOf(id)) === n);
  const victim = ['n1', 'n2', 'n3'].sort((a, b) => held(b).length - held(a).length)[0]!;
  const itsEntities = held(victim);
  expect(itsEntities.length).toBeGreaterThan(5);
  // paused (SIGSTOP): the load goes on from the others until every entity of it answers from another node
  cluster.pause(victim);
  const others = new Map([...refs].filter(([n]) => n !== victim));
  await cluster.settled(addRound(others, ids, tally, failures), 60_000);
  const ringsWithout = () => [...others.keys()].every((n) => !Sharding.of(cluster.node(n).system).currentRing.members.includes(victim));
  for (let waited = 0; !ringsWithout(); waited += 50) {
    if (waited > 30_000) throw new Error(`the others still place shards on ${victim}\n${cluster.describe(10)}`);
    await cluster.advance(50);
  }
  for (const id of itsEntities) expect((await cluster.settled(others.get('n0')!.entity(id).ask(new Get()))).node).not.toBe(victim);
  // resumed (SIGCONT) under load from every node, the victim too: what it acknowledges must count
  cluster.resume(victim);
  // reads through the resumed node: failed (it knows it may be stale), or never older than what was acknowledged
  const ackedNow = new Map(itsEntities.map((id) => [id, tally.get(id)!.acked]));
  const reads = itsEntities.map((id) => refs.get(victim)!.entity(id).ask(new Get(), { timeout: 5_000 })
    .then((got) => (got.total < ackedNow.get(id)! ? `${id}: read ${got.total} on ${got.node} after ${ackedNow.get(id)} were acknowledged` : ''),
      () => ''));
  const during = addRound(refs, itsEntities, tally, failures);
  const staleReads = (await cluster.settled(Promise.all(reads), 60_000)).filter((r) => r !== '');
  await cluster.settled(during, 60_000);
  await cluster.converged();
  for (let r = 0; r < 2; r++) await cluster.settled(addRound(refs, ids, tally, failures));
  const problems = [...staleReads, ...await checkTotals(cluster, others.get('n0')!, tally)];
  // one copy per entity: every node's ref reaches the same node with the same total
  for (const id of itsEntities) {
    const views = await cluster.settled(Promise.all([...refs.values()].map((ref) => ref.entity(id).ask(new Get()))));
    if (new Set(views.map((v) => `${v.node}:${v.total}`)).size !== 1) problems.push(`${id}: ${JSON.stringify(views)}`);
  }
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\nfailed asks: ${failures.slice(0, 5).join('\n')}\n${cluster.describe(10)}`);
});
