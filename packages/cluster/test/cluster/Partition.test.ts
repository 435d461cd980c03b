// A 3|2 partition of clustered systems (in-memory network, one ManualClock, seeded randomness) that lasts
// longer than the dead timeout and the dead-member retention: each side declares the other down and drops
// its names; once the network heals, the cluster is one again, every node sees all five, and each side's
// names are found from the other (their owners re-announce them). Simulated time, so it runs in about a second.
// Split-brain protection is off here: with it (the default), the minority side downs no one (it has no quorum),
// and this test is about SWIM and the names healing after both sides declared the other dead.

import { ClusterConfig, ClusteredActorSystem } from '@casty/cluster';
import { CapturingLogger, InMemoryNetwork, seededRandom } from '@casty/cluster/testing';
import { ManualClock } from '@casty/core/testing';
import { Echo, Service } from '../remote/actors';

const IDS = ['n0', 'n1', 'n2', 'n3', 'n4'] as const;
const LEFT = ['n0', 'n1', 'n2'];
const RIGHT = ['n3', 'n4'];

async function simulatedCluster(seed: number) {
  const clock = new ManualClock();
  const logger = new CapturingLogger(2_000);
  const network = new InMemoryNetwork({ clock, random: seededRandom(seed), logger, deliverOnClock: true });
  network.setFaults({ delayMs: 1 });
  const config = ClusterConfig.development({ logger, downing: 'off' });
  const systems = new Map<string, ClusteredActorSystem>();
  for (const [i, id] of IDS.entries()) {
    const transport = network.createTransport({ nodeId: id });
    const seeds = i === 0 ? [] : [systems.get('n0')!.address];
    systems.set(id, await ClusteredActorSystem.start(transport, { config, seeds, name: id, clock, random: seededRandom(seed * 31 + i) }));
  }
  const describe = () => `seed ${seed}, t=${clock.now()} ms\n` + [...systems].map(([id, s]) =>
    `${id}: ${s.members().map((m) => `${m.nodeId}=${m.state}@${m.incarnation}`).join(' ')} | names: ` +
    ['west', 'east'].map((name) => `${name}@${s.membership.names.nodesOf(name).join('+')}`).join(' ')).join('\n');
  /** Advances simulated time until `predicate` holds; fails with every node's view after `withinMs`. */
  const until = async (what: string, predicate: () => boolean, withinMs: number): Promise<number> => {
    const start = clock.now();
    while (!predicate()) {
      if (clock.now() - start > withinMs) throw new Error(`Not ${what} within ${withinMs} ms (simulated)\n${describe()}`);
      await clock.advance(50);
    }
    return clock.now() - start;
  };
  return { clock, network, config, systems, until, node: (id: string) => systems.get(id)! };
}

test.each([1, 2])('a 3|2 partition longer than the dead timeout heals into one cluster, names included (seed %i)', async (seed) => {
  const { clock, network, config, systems, until, node } = await simulatedCluster(seed);
  try {
    const all = [...systems.values()];
    await until('5 members everywhere', () => all.every((s) => s.members().length === 5), 20_000);
    await node('n0').spawn(Service, { name: 'west' });
    await node('n4').spawn(Service, { name: 'east' });
    const knows = (id: string, name: string, owner: string) => node(id).membership.names.nodesOf(name).includes(owner);
    await until('names everywhere', () => IDS.every((id) => knows(id, 'west', 'n0') && knows(id, 'east', 'n4')), 10_000);

    network.partition(LEFT, RIGHT);
    const gone = (observer: string, member: string) => node(observer).members().every((m) => m.nodeId !== member);
    await until('each side dropped the other', () =>
      LEFT.every((a) => RIGHT.every((b) => gone(a, b) && gone(b, a))), 60_000);
    expect(knows('n1', 'east', 'n4')).toBe(false);
    expect(knows('n3', 'west', 'n0')).toBe(false);
    // Past the dead-member retention too: some nodes have forgotten the other side altogether.
    await clock.advance(config.swim.deadMemberRetentionMs + 1_000);

    network.heal();
    const healed = await until('one cluster with both names again', () => all.every((s) => s.members().length === 5) &&
      IDS.every((id) => knows(id, 'west', 'n0') && knows(id, 'east', 'n4')), 60_000);
    expect(healed).toBeLessThan(20 * config.swim.reconnectIntervalMs);
    for (const s of all) expect(s.members().every((m) => m.state === 'alive')).toBe(true);
    // And the names work across the old divide.
    const east = await node('n1').lookup<Echo<string>>('east');
    const reply = east!.ask(new Echo('across'));
    await until('the reply', () => settled(reply), 5_000);
    await expect(reply).resolves.toBe('across');
  } finally {
    // Leaving takes leavePropagationMs of simulated time.
    const down = Promise.all([...systems.values()].map((s) => s.shutdown()));
    await until('all shut down', () => settled(down), 10_000);
  }
});

const settledFlags = new WeakMap<Promise<unknown>, boolean>();
/** True once `p` has settled (it is watched from the first call on). */
function settled(p: Promise<unknown>): boolean {
  if (!settledFlags.has(p)) {
    settledFlags.set(p, false);
    p.then(() => settledFlags.set(p, true), () => settledFlags.set(p, true));
  }
  return settledFlags.get(p) === true;
}
