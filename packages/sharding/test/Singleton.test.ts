// Cluster singletons on the in-memory cluster (TestCluster composed by startNode, ManualClock, seeded): one
// instance in the whole cluster, on the oldest member, started without waiting for a message; a join does not
// move it; a graceful leave hands it over with its state; after a crash it runs again on the next oldest within
// the failure-detection time plus a second. Instances are counted across all nodes at every step.

import { Actor, message, Request } from '@casty/core';
import type { ActorRef, Context } from '@casty/core';
import { suspicionBoundMs, TestCluster } from '@casty/cluster/testing';
import { startNode } from 'casty';

@message('test.singleton.Tick') class Tick extends Request<number> {}
@message('test.singleton.Where') class Where extends Request<{ node: string; ticks: number }> {}
type Msg = Tick | Where;

/** Instances alive now, and the most ever alive at once, across the simulated cluster. */
let alive = 0;
let maxAlive = 0;
/** Instances started, ever. */
let starts = 0;
const total = () => alive;

class Scheduler extends Actor<Msg> {
  ticks = 0;
  constructor(readonly label: string) { super(); }
  override receive(msg: Msg, ctx: Context<Msg>): void {
    if (msg instanceof Tick) ctx.reply(++this.ticks);
    else ctx.reply({ node: ctx.system.name, ticks: this.ticks });
  }
  override onStart(): void {
    starts++;
    alive++;
    maxAlive = Math.max(maxAlive, alive);
  }
  override onStop(): void {
    alive--;
  }
}

beforeEach(() => {
  alive = 0;
  maxAlive = 0;
  starts = 0;
});

async function cluster3(seed: number) {
  const cluster = await TestCluster.start({ nodes: 3, seed, start: startNode });
  await cluster.converged();
  const refs = new Map<string, ActorRef<Msg>>();
  for (const n of cluster.nodes) refs.set(n.id, await n.system.spawn(Scheduler, { name: 'scheduler', singleton: true, args: ['s'] }));
  await cluster.advance(2_000); // gossip of join times
  return { cluster, refs };
}

test('one instance, on the oldest member, running before any message; every node reaches it', async () => {
  const { cluster, refs } = await cluster3(21);
  await using _ = cluster;
  expect(total()).toBe(1);
  const answers = [];
  for (const ref of refs.values()) answers.push(await cluster.settled(ref.ask(new Where())));
  expect(answers.map((a) => a.node)).toEqual(['n0', 'n0', 'n0']);
  expect(maxAlive).toBe(1);
});

test('a join does not move it', async () => {
  const { cluster, refs } = await cluster3(22);
  await using _ = cluster;
  await cluster.settled(refs.get('n1')!.ask(new Tick()));
  const joiner = await cluster.join('n3');
  const ref = await joiner.system.spawn(Scheduler, { name: 'scheduler', singleton: true, args: ['s'] });
  await cluster.converged();
  await cluster.advance(3_000);
  const where = await cluster.settled(ref.ask(new Where()));
  expect(where).toEqual({ node: 'n0', ticks: 1 });
  // not moved and back either: the members that knew every join time but the joiner's once handed it to each other
  // (each left itself out while a time was unknown) until the joiner's time came
  expect(starts).toBe(1);
  expect(maxAlive).toBe(1);
  expect(total()).toBe(1);
});

test('a graceful leave of its node hands it over, with its state, to the next oldest', async () => {
  const { cluster, refs } = await cluster3(23);
  await using _ = cluster;
  for (let i = 0; i < 3; i++) await cluster.settled(refs.get('n2')!.ask(new Tick()));
  const leaving = cluster.beginLeave('n0');
  // asks keep coming while it moves
  const during = await cluster.settled(refs.get('n2')!.ask(new Tick(), { timeout: 20_000 }));
  await cluster.settled(leaving);
  await cluster.converged();
  const where = await cluster.settled(refs.get('n1')!.ask(new Where()));
  expect(where.node).toBe('n1');
  expect(where.ticks).toBe(4);
  expect(during).toBe(4);
  expect(maxAlive).toBe(1);
  expect(total()).toBe(1);
});

test('after its node crashes it runs again on the next oldest within detection time + 1 s', async () => {
  const { cluster, refs } = await cluster3(24);
  await using _ = cluster;
  await cluster.settled(refs.get('n1')!.ask(new Tick()));
  const crashedAt = cluster.clock.now();
  cluster.crash('n0');
  // the crashed node's system runs on, unheard: it loses quorum (split-brain protection) and stops its own instance
  const bound = suspicionBoundMs(cluster.config.swim, 3) + cluster.config.swim.probeIntervalMs + 1_000;
  let back = -1;
  while (cluster.clock.now() - crashedAt <= bound + 5_000 && back < 0) {
    await cluster.advance(100);
    if (starts === 2) back = cluster.clock.now() - crashedAt;
  }
  expect(back).toBeGreaterThan(0);
  expect(back).toBeLessThanOrEqual(bound);
  process.stdout.write(`[singleton] after a crash in a majority of 3 it ran again on the next oldest after ${Math.round(back)} ms ` +
    `(simulated; bound: detection ${suspicionBoundMs(cluster.config.swim, 3) + cluster.config.swim.probeIntervalMs} ms + 1 s)\n`);
  const where = await cluster.settled(refs.get('n2')!.ask(new Where()));
  expect(where).toEqual({ node: 'n1', ticks: 0 }); // no replication yet: it starts empty
  expect(total()).toBe(1);
});
