// Scenarios from an adversarial review of replicated state: a joining node that registers the type late while the
// holder of its shards then crashes (the displaced backup keeps its copy for a while); a holder past its own
// maxReplicaBytes (its writes fail with ReplicationBoundError, never acknowledged unreplicated); two nodes joining at
// once under load (acknowledgements from the backups before the change still count).
import { Actor, message, Request } from '@casty/core';
import type { Context } from '@casty/core';
import { TestCluster } from '@casty/cluster/testing';
import { ClusteredActorSystem, Sharding, sharding, startNode } from 'casty';
import { ReplicationBoundError, replication as replicationExtension } from '@casty/replication';
import type { ShardedRef } from 'casty';

@message('probe.replication.Add') class Add extends Request<number> { constructor(readonly n: number) { super(); } }
@message('probe.replication.Get') class Get extends Request<{ total: number; node: string }> {}
@message('probe.replication.Pad') class Pad extends Request<number> { constructor(readonly bytes: number) { super(); } }
type Msg = Add | Get | Pad;

class Account extends Actor<Msg> {
  total = 0;
  blob = '';
  constructor(readonly entityId: string) { super(); }
  override receive(msg: Msg, ctx: Context<Msg>): void {
    if (msg instanceof Add) ctx.reply(this.total += msg.n);
    else if (msg instanceof Pad) ctx.reply((this.blob = 'x'.repeat(msg.bytes)).length);
    else ctx.reply({ total: this.total, node: ctx.system.name });
  }
}

const ids = Array.from({ length: 120 }, (_, i) => `acct-${i}`);

test.each([[12_000, 'after'], [0, 'before']])('a joining node that spawns the type %i ms after converging (%s typeRegistrationTimeoutMs), then the holder crashes: the displaced backup still has its copy; no acknowledged add lost', async (delay) => {
  const replication = { factor: 2, syncCount: 1 };
  const cluster = await TestCluster.start({ nodes: 3, seed: 5, start: startNode });
  await using _ = cluster;
  await cluster.converged();
  const refs = new Map<string, ShardedRef<Msg>>();
  for (const n of cluster.nodes) refs.set(n.id, await n.system.spawn(Account, { name: 'accounts', sharded: true, replication } as never));
  const acked = new Map<string, number>();
  for (const id of ids) acked.set(id, await cluster.settled(refs.get('n0')!.entity(id).ask(new Add(1))));
  const before = Sharding.of(cluster.node('n0').system).currentRing;
  await cluster.join('n3'); // the type is not spawned there yet
  await cluster.converged();
  if (delay > 0) await cluster.advance(delay); // past typeRegistrationTimeoutMs: what was held for the type on n3 is gone
  const s = Sharding.of(cluster.node('n0').system);
  const after = s.currentRing;
  // entities whose holder stays, whose old backup is displaced by n3
  const victims = new Map<string, string[]>();
  for (const id of ids) {
    const shard = s.shardOf(id);
    const [h0, b0] = before.preferenceList(shard, 2);
    const [h1, b1] = after.preferenceList(shard, 2);
    if (h0 === h1 && b1 === 'n3' && b0 !== 'n3' && h0 !== 'n0') victims.set(h0!, [...(victims.get(h0!) ?? []), id]);
  }
  const [victim, exposed] = [...victims].sort((a, b) => b[1].length - a[1].length)[0]!;
  cluster.crash(victim);
  await cluster.node('n3').system.spawn(Account, { name: 'accounts', sharded: true, replication } as never);
  await cluster.converged();
  const lost: string[] = [];
  for (const id of exposed) {
    const got = await cluster.settled(refs.get('n0')!.entity(id).ask(new Get(), { timeout: 20_000 }), 60_000);
    if (got.total < acked.get(id)!) lost.push(`${id}: ${got.total} on ${got.node}, ${acked.get(id)} acknowledged`);
  }
  expect({ victim, exposed: exposed.length, lost }).toEqual({ victim, exposed: exposed.length, lost: [] });
});

test('a holder past its own maxReplicaBytes does not acknowledge writes it cannot replicate (ReplicationBoundError): nothing acknowledged is lost', async () => {
  // two nodes: keep-majority would stop the survivor of n0's crash (half of the membership, without its lowest id);
  // this test is about replication's bound, so split-brain protection is off
  const cluster = await TestCluster.start({ nodes: 2, seed: 3, config: { downing: 'off' },
    start: (transport, options) => ClusteredActorSystem.start(transport, { ...options,
      extensions: [sharding({ maxReplicaBytes: options.name === 'n0' ? 1_000 : 1_000_000 }), replicationExtension()] }) });
  await using _ = cluster;
  await cluster.converged();
  const replication = { factor: 2, syncCount: 1 };
  const refs = new Map<string, ShardedRef<Msg>>();
  for (const n of cluster.nodes) refs.set(n.id, await n.system.spawn(Account, { name: 'accounts', sharded: true, replication } as never));
  const s = Sharding.of(cluster.node('n0').system);
  let i = 0;
  while (s.currentRing.ownerOf(s.shardOf(`big-${i}`)) !== 'n0') i++;
  const id = `big-${i}`;
  const ref = refs.get('n1')!;
  // over n0's bound, under n1's: processed, not acknowledged, and said so
  await expect(cluster.settled(ref.entity(id).ask(new Pad(2_000)))).rejects.toBeInstanceOf(ReplicationBoundError);
  let acked = 0;
  for (let k = 0; k < 3; k++) {
    await cluster.settled(ref.entity(id).ask(new Add(1)).then(() => { acked++; }, (e: unknown) => expect(e).toBeInstanceOf(ReplicationBoundError)));
  }
  expect(acked).toBe(0);
  cluster.crash('n0');
  await cluster.converged();
  const got = await cluster.settled(ref.entity(id).ask(new Get(), { timeout: 20_000 }), 60_000);
  expect(got.node).toBe('n1');
  expect(got.total).toBeGreaterThanOrEqual(acked);
});

test.each([61, 62, 63, 64])('two nodes join at once under load (factor 3, syncCount 1), seed %i: nothing acknowledged lost, and no write times out (the backups before the change still count)', async (seed) => {
  const replication = { factor: 3, syncCount: 1 };
  const cluster = await TestCluster.start({ nodes: 3, seed, start: startNode });
  await using _ = cluster;
  await cluster.converged();
  const refs = new Map<string, ShardedRef<Msg>>();
  for (const n of cluster.nodes) refs.set(n.id, await n.system.spawn(Account, { name: 'accounts', sharded: true, replication } as never));
  const acked = new Map(ids.map((id) => [id, 0]));
  const attempted = new Map(ids.map((id) => [id, 0]));
  const failures: string[] = [];
  const round = (senders: Map<string, ShardedRef<Msg>>) => Promise.all([...senders.values()].flatMap((ref) => ids.map((id) => {
    attempted.set(id, attempted.get(id)! + 1);
    return ref.entity(id).ask(new Add(1), { timeout: 20_000 }).then(() => { acked.set(id, acked.get(id)! + 1); },
      (e: unknown) => { failures.push(`${id}: ${String(e)}`); });
  })));
  await cluster.settled(round(refs));
  const during = round(refs);
  const [a, b] = await Promise.all([cluster.join('n3'), cluster.join('n4')]);
  await Promise.all([a, b].map((j) => j.system.spawn(Account, { name: 'accounts', sharded: true, replication } as never)));
  const during2 = round(refs);
  await cluster.settled(Promise.all([during, during2]), 60_000);
  await cluster.converged();
  await cluster.settled(round(refs), 60_000);
  const problems: string[] = [];
  for (const id of ids) {
    const got = await cluster.settled(refs.get('n0')!.entity(id).ask(new Get(), { timeout: 20_000 }), 60_000);
    if (got.total < acked.get(id)! || got.total > attempted.get(id)!) problems.push(`${id} on ${got.node}: ${got.total} (acked ${acked.get(id)}, attempted ${attempted.get(id)})`);
  }
  if (process.env.DIAG && failures.length > 0) {
    const s = Sharding.of(cluster.node('n0').system);
    const ring = s.currentRing;
    const failed = [...new Set(failures.map((f) => f.split(':')[0]!))];
    process.stdout.write(`failures ${failures.length}; ${failed.map((id) => `${id} shard ${s.shardOf(id)} list ${ring.preferenceList(s.shardOf(id), 3).join(',')}`).join('; ')}\n`);
    for (const n of cluster.nodes) for (const e of n.logger.entries.filter((x) => x.level !== 'debug').slice(0, 8)) process.stdout.write(`${n.id} ${e.level} ${e.message.slice(0, 220)}\n`);
  }
  expect({ problems, failures: failures.slice(0, 5) }).toEqual({ problems: [], failures: [] });
});
