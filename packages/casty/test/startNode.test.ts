// casty's composition root on the in-memory network: `startNode` composes a node exactly as `clustered()` does,
// on any transport, clock and random source, so the whole node runs as a deterministic simulation.

import { ClusterMembership, InvalidArgumentError, RemoteMessaging, startNode } from 'casty';
import { CapturingLogger, InMemoryNetwork, TestCluster } from '@casty/cluster/testing';

test('startNode on a TestCluster: the same seed replays the same membership history', async () => {
  const run = async (seed: number) => {
    await using cluster = await TestCluster.start({ nodes: 4, seed, start: startNode });
    await cluster.converged();
    cluster.crash('n3');
    await cluster.converged(60_000);
    for (const n of cluster.running) {
      expect(ClusterMembership.of(n.system)).toBe(n.system.membership);
      expect(RemoteMessaging.of(n.system).nodeId).toBe(n.id);
    }
    return cluster.events.map((e) => `${e.at} ${e.observer}:${e.member}:${e.type}`);
  };
  const first = await run(21);
  expect(first.filter((e) => e.endsWith(':n3:down')).length).toBe(3);
  expect(await run(21)).toEqual(first);
});

test('startNode picks the features itself: an extensions option is refused, naming what to use instead', async () => {
  const network = new InMemoryNetwork({ logger: new CapturingLogger() });
  await expect(startNode(network.createTransport(), { extensions: [] } as never)).rejects.toThrow(
    new InvalidArgumentError("startNode() has no option 'extensions': the composition root picks the features; " +
      'use ClusteredActorSystem.start(transport, { extensions }) to compose a node by hand'));
});
