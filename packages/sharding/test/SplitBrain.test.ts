// Split-brain protection for entities and singletons on the in-memory cluster (TestCluster composed by casty's
// startNode, ManualClock, seeded), checked by counting with a registry outside the nodes that records every
// activation and stop: in a 3|2 partition of five nodes the minority stops hosting before the majority takes
// over (0 moments with two live copies), asks on the minority fail fast with MinorityPartitionError, the majority
// serves every entity and exactly one singleton, and after the heal the cluster is one and hosts everywhere again;
// one-way loss; a paused holder that resumes stops its copies before it serves anything.

import { MinorityPartitionError, QuorumLost } from 'casty';
import type { TestCluster } from '@casty/cluster/testing';
import { Add, current, Get, splitBrainCluster } from './fixtures/splitBrain';
import type { NodeRefs } from './fixtures/splitBrain';

const ids = Array.from({ length: 40 }, (_, i) => `c-${i}`);
const MAJORITY = ['a', 'b', 'c'];
const MINORITY = ['d', 'e'];

afterEach(() => { current.registry = undefined; });

/**
 * Asks every entity from `refs` again and again (an ask in flight to a node declared down meanwhile fails with
 * NodeUnavailableError, as a client would see, and is asked again) until each has answered; resolves with the
 * answers and the simulated time the last one came.
 */
async function serveAll(cluster: TestCluster, refs: NodeRefs, within = 30_000) {
  const answers = new Map<string, { total: number; node: string }>();
  const start = cluster.clock.now();
  while (answers.size < ids.length) {
    if (cluster.clock.now() - start > within) {
      const missing = ids.filter((id) => !answers.has(id));
      const errors: string[] = [];
      await cluster.settled(Promise.all(missing.slice(0, 3).map((id) => refs.counters.entity(id).ask(new Get(), { timeout: 2_000 })
        .then(() => undefined, (e: unknown) => { errors.push(String(e)); }))));
      throw new Error(`only ${answers.size} of ${ids.length} entities answered within ${within} ms; missing ${missing.join(', ')}: ` +
        `${errors.join('\n')}\n${cluster.describe(20)}`);
    }
    const round = ids.filter((id) => !answers.has(id)).map((id) => refs.counters.entity(id).ask(new Get(), { timeout: 2_000 })
      .then((r) => { answers.set(id, r); }, () => undefined));
    await cluster.settled(Promise.all(round), 10_000);
  }
  return { answers: [...answers.values()], at: cluster.clock.now() };
}

test('3|2 partition: the minority stops hosting, its asks fail fast; the majority serves every entity and one singleton; the heal makes one cluster', async () => {
  const { cluster, refs, registry } = await splitBrainCluster([...MAJORITY, ...MINORITY], 101);
  await using _ = cluster;
  for (const id of ids) await cluster.settled(refs.get('a')!.counters.entity(id).ask(new Add(1)));
  await cluster.settled(refs.get('a')!.leader.ask(new Add(1)));
  expect(registry.doubles).toEqual([]);

  const lostAt = new Map<string, number>();
  for (const id of MINORITY) cluster.node(id).system.events.subscribe(QuorumLost, () => lostAt.set(id, cluster.clock.now()));
  const partitionedAt = cluster.clock.now();
  cluster.partition(MAJORITY, MINORITY);
  // from the majority, every entity: served again once the minority's shards are taken over
  const { answers, at: lastServed } = await serveAll(cluster, refs.get('a')!);
  expect(answers.every((r) => MAJORITY.includes(r.node))).toBe(true);
  expect(registry.doubles).toEqual([]);
  expect([...lostAt.keys()].sort()).toEqual(MINORITY);

  // on the minority: asks fail fast with the typed error, to entities and to the singleton
  const asked = cluster.clock.now();
  const refused = await cluster.settled(refs.get('d')!.counters.entity('c-1').ask(new Get()).then(() => undefined, (e: unknown) => e));
  expect(refused).toBeInstanceOf(MinorityPartitionError);
  expect(String(refused)).toMatch(/minority partition/);
  expect(cluster.clock.now() - asked).toBeLessThanOrEqual(50);
  await expect(cluster.settled(refs.get('e')!.leader.ask(new Get()))).rejects.toBeInstanceOf(MinorityPartitionError);
  await expect(cluster.settled(refs.get('e')!.counters.entity('c-2').send(new Get()))).rejects.toBeInstanceOf(MinorityPartitionError);
  // the majority: exactly one singleton, on its side, and no copy anywhere on the minority
  const leader = await cluster.settled(refs.get('b')!.leader.ask(new Get(), { timeout: 20_000 }), 30_000);
  expect(MAJORITY).toContain(leader.node);
  expect(registry.copiesOf('leader')).toHaveLength(1);
  for (const id of ids) expect(registry.copiesOf(`counter/${id}`).every((c) => MAJORITY.includes(c[0]!))).toBe(true);

  await cluster.advance(5_000);
  const healedAt = cluster.clock.now();
  cluster.heal();
  await cluster.converged(60_000);
  while (!cluster.nodes.every((n) => n.system.hasQuorum)) await cluster.advance(50);
  const oneCluster = cluster.clock.now() - healedAt;
  await serveAll(cluster, refs.get('d')!);
  const after = await cluster.settled(refs.get('e')!.leader.ask(new Get(), { timeout: 20_000 }), 30_000);
  expect(MAJORITY.concat(MINORITY)).toContain(after.node);
  expect(registry.doubles).toEqual([]);
  expect(registry.copiesOf('leader')).toHaveLength(1);
  const stopped = Math.max(...lostAt.values()) - partitionedAt;
  process.stdout.write(`[split-brain] 3|2 partition (seed 101, simulated): minority stopped hosting after ${stopped} ms; ` +
    `majority served all ${ids.length} entities again after ${lastServed - partitionedAt} ms; heal -> one cluster with ` +
    `quorum everywhere after ${oneCluster} ms; ${registry.activations} activations, ${registry.doubles.length} doubles\n`);
});

test('one-way loss (d hears the others, they do not hear d): d stops hosting before the others take its shards', async () => {
  const { cluster, refs, registry } = await splitBrainCluster([...MAJORITY, ...MINORITY], 102);
  await using _ = cluster;
  for (const id of ids) await cluster.settled(refs.get('a')!.counters.entity(id).ask(new Add(1)));
  for (const other of ['a', 'b', 'c', 'e']) cluster.network.setFaults({ dropProbability: 1 }, { from: 'd', to: other });
  const { answers } = await serveAll(cluster, refs.get('b')!);
  expect(answers.every((r) => r.node !== 'd')).toBe(true);
  await cluster.advance(3_000);
  expect(cluster.node('d').system.hasQuorum).toBe(false);
  await expect(cluster.settled(refs.get('d')!.counters.entity('c-3').ask(new Get()))).rejects.toBeInstanceOf(MinorityPartitionError);
  expect(registry.doubles).toEqual([]);
  expect(registry.copiesOf('leader')).toHaveLength(1);
});

test('the singleton\'s holder paused past the suspicion timeout: one singleton meanwhile, and on resume its stale copy stops before serving', async () => {
  const { cluster, refs, registry } = await splitBrainCluster([...MAJORITY, ...MINORITY], 103);
  await using _ = cluster;
  const before = await cluster.settled(refs.get('c')!.leader.ask(new Add(1)));
  expect(before).toBeGreaterThan(0);
  const holder = (await cluster.settled(refs.get('c')!.leader.ask(new Get()))).node;
  for (const id of ids) await cluster.settled(refs.get('b')!.counters.entity(id).ask(new Add(1)));
  registry.paused(`${holder}#1`);
  cluster.pause(holder);
  const asker = MAJORITY.concat(MINORITY).find((n) => n !== holder)!;
  await serveAll(cluster, refs.get(asker)!);
  const moved = await cluster.settled(refs.get(asker)!.leader.ask(new Get(), { timeout: 30_000 }), 30_000);
  expect(moved.node).not.toBe(holder);
  cluster.resume(holder);
  // whatever it had queued or receives now is refused; its stale copies stop
  await cluster.advance(2_000);
  expect(registry.staleServes).toEqual([]);
  expect(registry.frozenLive()).toEqual([]); // every copy it ran when it was paused has stopped
  await cluster.converged(60_000);
  while (!cluster.node(holder).system.hasQuorum) await cluster.advance(50);
  await cluster.advance(3_000);
  await serveAll(cluster, refs.get(holder)!);
  expect(registry.doubles).toEqual([]);
  expect(registry.staleServes).toEqual([]);
  expect(registry.copiesOf('leader')).toHaveLength(1);
});
