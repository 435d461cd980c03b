// TestCluster: clustered systems on one in-memory network and one ManualClock, all randomness from a seed.
// Convergence, a silent crash, a partition longer than the dead timeout and its heal, leave and restart,
// serialized local messages, replay of a seed, and what a failed converged() prints.

import { Actor, message, MessageEncodingError, Request } from '@casty/core';
import type { ActorRef, Context } from '@casty/core';
import { maxSuspicionMs, suspicionBoundMs, TestCluster } from '@casty/cluster/testing';
import type { RecordedMembershipEvent } from '@casty/cluster/testing';

@message('test.testcluster.Carrier') class Carrier { constructor(readonly payload: unknown) {} }
@message('test.testcluster.Count') class Count extends Request<number> {}
class NotOnTheWire { constructor(readonly secret: string) {} }

class Keeper extends Actor<Carrier | Count> {
  got = 0;
  override receive(msg: Carrier | Count, ctx: Context<Carrier | Count>): void {
    if (msg instanceof Carrier) this.got++;
    else ctx.reply(this.got);
  }
}

const downs = (events: readonly RecordedMembershipEvent[], member: string) =>
  events.filter((e) => e.type === 'down' && e.member === member);

test('five nodes converge: each sees all five alive', async () => {
  await using cluster = await TestCluster.start({ nodes: 5, seed: 1 });
  await cluster.converged();
  expect(cluster.nodes.map((n) => n.id)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
  for (const n of cluster.nodes) {
    expect(n.system.members().map((m) => `${m.nodeId}=${m.state}`)).toEqual(
      ['n0=alive', 'n1=alive', 'n2=alive', 'n3=alive', 'n4=alive']);
  }
  expect(cluster.node('n2').system).toBe(cluster.nodes[2]!.system);
  expect(() => cluster.node('nope')).toThrow(/no node 'nope'/);
});

test('a silent crash is seen as MemberDown by every survivor once the clock passes the suspicion timeout, not before', async () => {
  await using cluster = await TestCluster.start({ nodes: ['a', 'b', 'c', 'd', 'e'], seed: 3 });
  await cluster.converged();
  const swim = cluster.config.swim;
  const crashedAt = cluster.clock.now();
  cluster.crash('e');
  expect(cluster.node('e').status).toBe('crashed');
  // The shortest a suspicion can last (all confirmations in): nobody may declare 'e' down before it.
  const minSuspicion = swim.lifeguard ? maxSuspicionMs(swim, 5) / swim.suspicionMaxTimeoutMult : maxSuspicionMs(swim, 5);
  await cluster.advance(minSuspicion);
  expect(downs(cluster.events, 'e')).toEqual([]);
  await cluster.advance(crashedAt + suspicionBoundMs(swim, 5) + swim.probeIntervalMs - cluster.clock.now());
  const seen = downs(cluster.events, 'e');
  expect(seen.map((e) => e.observer).sort()).toEqual(['a', 'b', 'c', 'd']);
  for (const e of seen) expect(e.at - crashedAt).toBeGreaterThanOrEqual(minSuspicion);
  // The survivors are one cluster of four.
  await cluster.converged();
  expect(cluster.running.map((n) => n.id)).toEqual(['a', 'b', 'c', 'd']);
});

test('a 3|2 partition past the dead timeout splits the cluster; heal() makes it one again', async () => {
  await using cluster = await TestCluster.start({ nodes: 5, seed: 2 });
  await cluster.converged();
  const left = ['n0', 'n1', 'n2'];
  const right = ['n3', 'n4'];
  cluster.partition(left, right);
  await cluster.advance(suspicionBoundMs(cluster.config.swim, 5) + cluster.config.swim.deadMemberRetentionMs + 5_000);
  const sees = (observer: string) => cluster.node(observer).system.members().map((m) => `${m.nodeId}=${m.state}`);
  for (const id of left) expect(sees(id)).toEqual(left.map((m) => `${m}=alive`));
  // the minority has no quorum (split-brain protection), so it downs no one: it holds the majority suspect
  for (const id of right) expect(sees(id)).toEqual([...left.map((m) => `${m}=suspect`), ...right.map((m) => `${m}=alive`)]);
  for (const id of right) expect(cluster.node(id).system.hasQuorum).toBe(false);
  cluster.heal();
  const took = await cluster.converged(60_000);
  expect(took).toBeGreaterThan(0);
  for (const n of cluster.nodes) expect(n.system.members().every((m) => m.state === 'alive')).toBe(true);
});

test('leave() is seen as MemberLeft; restart() brings a crashed node back with the same id and port', async () => {
  await using cluster = await TestCluster.start({ nodes: 4, seed: 5 });
  await cluster.converged();
  await cluster.leave('n1');
  expect(cluster.events.filter((e) => e.type === 'left' && e.member === 'n1' && e.observer !== 'n1').length).toBeGreaterThan(0);
  await cluster.converged();
  expect(cluster.running.map((n) => n.id)).toEqual(['n0', 'n2', 'n3']);

  const port = cluster.node('n3').transport.boundAddress.port;
  cluster.crash('n3');
  await cluster.advance(suspicionBoundMs(cluster.config.swim, 3) + cluster.config.swim.probeIntervalMs);
  expect(downs(cluster.events, 'n3').map((e) => e.observer).sort()).toEqual(['n0', 'n2']);
  const back = await cluster.restart('n3');
  expect(back.transport.boundAddress.port).toBe(port);
  expect(back.status).toBe('running');
  await cluster.restart('n1');
  await cluster.converged(60_000);
  expect(cluster.running.map((n) => n.id).sort()).toEqual(['n0', 'n1', 'n2', 'n3']);
});

test('with serialize (the default) an unregistered message class fails at send; without it, it passes', async () => {
  {
    await using cluster = await TestCluster.start({ nodes: 2 });
    const keeper = await cluster.node('n1').system.spawn(Keeper);
    await expect(keeper.send(new Carrier('fine'))).resolves.toBeUndefined();
    const sending = keeper.send(new Carrier(new NotOnTheWire('x')));
    await expect(sending).rejects.toBeInstanceOf(MessageEncodingError);
    await expect(sending).rejects.toThrow(/NotOnTheWire is not registered for the wire/);
  }
  {
    await using cluster = await TestCluster.start({ nodes: 2, serialize: false });
    const keeper = await cluster.node('n1').system.spawn(Keeper);
    await expect(keeper.send(new Carrier(new NotOnTheWire('x')))).resolves.toBeUndefined();
    await expect(keeper.ask(new Count())).resolves.toBe(1);
  }
});

test('with serialize, a ref to an actor on another node travels inside a local message and still reaches it', async () => {
  class Relay extends Actor<Carrier> {
    override async receive(msg: Carrier): Promise<void> {
      await (msg.payload as ActorRef<Carrier>).send(new Carrier('relayed'));
    }
  }
  await using cluster = await TestCluster.start({ nodes: 2 });
  await cluster.converged();
  const keeper = await cluster.node('n1').system.spawn(Keeper, { name: 'keeper' });
  await cluster.advance(1_000); // the name is gossiped
  const remote = await cluster.node('n0').system.lookup<Carrier>('keeper');
  expect(remote).toBeDefined();
  const relay = await cluster.node('n0').system.spawn(Relay);
  await relay.send(new Carrier(remote));
  await cluster.advance(100);
  await expect(keeper.ask(new Count())).resolves.toBe(1);
});

test('the same seed replays the same membership event sequence', async () => {
  const run = async (seed: number) => {
    await using cluster = await TestCluster.start({ nodes: 4, seed });
    await cluster.converged();
    cluster.crash('n2');
    await cluster.advance(suspicionBoundMs(cluster.config.swim, 4) + 2_000);
    cluster.partition(['n0'], ['n1', 'n3']);
    await cluster.advance(3_000);
    cluster.heal();
    await cluster.converged(60_000);
    return cluster.events.map((e) => `${e.at} ${e.observer}:${e.member}:${e.type}@${e.incarnation}`);
  };
  const first = await run(11);
  expect(first.length).toBeGreaterThan(20);
  expect(await run(11)).toEqual(first);
  expect(await run(12)).not.toEqual(first); // the seed is what decides
});

test('a failed converged() prints every node\'s view, with states and incarnations, and the recent events', async () => {
  await using cluster = await TestCluster.start({ nodes: ['x', 'y', 'z'], seed: 4 });
  await cluster.converged();
  cluster.partition(['x'], ['y', 'z']);
  await cluster.advance(500); // probes across the cut have failed: suspicions run
  const error = await cluster.converged(3_000).then(() => undefined, (e: unknown) => e as Error);
  expect(error).toBeInstanceOf(Error);
  const text = error!.message;
  expect(text).toMatch(/not converged within 3000 ms \(simulated\)/);
  expect(text).toMatch(/seed 4, t=\d+ ms/);
  // The majority declared x dead (the partition outlasted the suspicion timeout); x, without quorum, downs no one.
  expect(text).toMatch(/^ {2}x \[running\]: x=alive@0 y=suspect@0 z=suspect@0$/m);
  expect(text).toMatch(/^ {2}y \[running\]: x=dead@0 y=alive@0 z=alive@0$/m);
  expect(text).toMatch(/^ {2}z \[running\]: x=dead@0 y=alive@0 z=alive@0$/m);
  expect(text).toMatch(/membership events:\n {2}t=\d+ \w saw \w (up|suspect|alive|down|left)@\d+/);
});
