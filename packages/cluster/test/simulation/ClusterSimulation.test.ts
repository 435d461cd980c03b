// The simulation harness itself: a seed replays exactly the same run (so a failing seed can be debugged),
// another seed makes another run, a cluster of real Swim and Gossip engines warms up into one view, and a
// wait that fails says the seed and how each node sees the cluster.

import { ClusterSimulation, measureCrash } from '@casty/cluster/testing';
import type { SimEvent } from '@casty/cluster/testing';

/** Crashes a random node of a warm 30-node cluster and returns every membership event of the run, and the figures. */
function crashRun(seed: number): { log: SimEvent[]; figures: ReturnType<typeof measureCrash> } {
  const sim = new ClusterSimulation({ seed });
  sim.startNodes(30, { batchSize: 10 });
  sim.warmUp(60_000);
  const figures = measureCrash(sim);
  sim.stopAll();
  return { log: sim.log, figures };
}

test('the same seed replays the same run event for event; another seed makes another run', () => {
  const first = crashRun(41);
  const again = crashRun(41);
  const other = crashRun(42);
  // A run worth comparing: joins, a suspicion and a death, seen by every survivor.
  const types = new Set(first.log.map((e) => e.type));
  expect([...types].sort()).toEqual(expect.arrayContaining(['down', 'joined', 'suspect', 'up']));
  expect(first.figures.knownBy).toBe(first.figures.survivors);
  expect(again.log).toEqual(first.log);
  expect(again.figures).toEqual(first.figures);
  expect(other.log).not.toEqual(first.log);
});

test('nodes joining in batches through a few seeds converge into one view; frames are counted per node', () => {
  const sim = new ClusterSimulation({ seed: 3 });
  const nodes = sim.startNodes(60, { seedNodes: 3, batchSize: 20, batchGapMs: 500 });
  expect(nodes).toHaveLength(60);
  sim.warmUp(60_000);
  expect(sim.converged()).toBe(true);
  for (const n of nodes) expect(sim.seenAs(n.id, 'alive')).toBe(59);
  // Nothing but probes once quiet: one ping out and one ack back per node per probe period, on average.
  expect(sim.settle()).toBeDefined();
  sim.resetCounts();
  sim.run(10_000);
  const sent = sim.sentTotals();
  expect(sent.swimGossip).toBe(0);
  expect(sent.swimProbes / 60 / 10).toBeCloseTo(2, 0);
  expect(sim.falsePositives().total).toBe(0);
  sim.stopAll();
});

test('a wait that fails names the seed and what each node sees', () => {
  const sim = new ClusterSimulation({ seed: 77 });
  sim.startNodes(5, { batchSize: 5 });
  sim.warmUp(30_000);
  sim.partition(['n0', 'n1'], ['n2', 'n3', 'n4']);
  let message = '';
  try {
    sim.until('n0 sees n4 dead', () => sim.view('n0', 'n4').startsWith('dead'), 1_000);
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/^Not n0 sees n4 dead within 1000 ms \(simulated\)\nseed 77, t=\d+ ms, 5 running/);
  expect(message).toMatch(/n0 \(health \d+, incarnation \d+\): \d+ alive, \d+ suspect/);
  sim.stopAll();
});
