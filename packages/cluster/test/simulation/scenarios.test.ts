// The simulation scenarios at test size, on the production presets: real Swim and Gossip engines,
// seeded, on a manual clock. Each asserts what the protocol must do (detect a crash within the suspicion
// bound, spread an update, keep a slow node and healthy nodes alive, heal a partition, survive churn,
// Lifeguard beating plain SWIM under loss), so a regression in the protocol fails here. A failure message
// names the seed; `npx --yes pnpm@10.34.9 --filter @casty/bench run sim -- --nodes N --seed S` gives the figures.

import { SwimConfig } from '@casty/cluster';
import {
  ClusterSimulation, measureChurn, measureCrash, measureLoss, measurePartition, measureSlowNode, measureUpdateSpread,
  suspicionBoundMs,
} from '@casty/cluster/testing';

/** Warms up `nodes` nodes from `seed` (converged and quiet), runs `scenario` on them, and stops them. */
function onWarmCluster<T>(nodes: number, seed: number, scenario: (sim: ClusterSimulation) => T, swim = SwimConfig.production()): T {
  const sim = new ClusterSimulation({ seed, swim });
  try {
    sim.startNodes(nodes, { batchSize: 50 });
    sim.warmUp(120_000);
    sim.settle();
    sim.resetLog();
    return scenario(sim);
  } finally {
    sim.stopAll();
  }
}

test('100 nodes: a silent crash is suspected, then known dead by every survivor within the suspicion bound; no false positive (seed 101)', () => {
  const crash = onWarmCluster(100, 101, (sim) => measureCrash(sim));
  expect(crash.knownBy).toBe(crash.survivors);
  // A time not reached is NaN, which no comparison below accepts.
  const [firstSuspectMs, firstDownMs, allDownMs] = [crash.firstSuspectMs, crash.firstDownMs, crash.allDownMs].map((ms) => ms ?? NaN) as [number, number, number];
  expect(firstSuspectMs).toBeLessThan(firstDownMs);
  expect(firstDownMs).toBeLessThanOrEqual(allDownMs);
  expect(allDownMs).toBeLessThanOrEqual(crash.boundMs);
  // Confirmations from other probers bring the suspicion down toward its minimum (8 s for 100 nodes): far
  // inside the 48 s a lone suspicion would take.
  expect(allDownMs).toBeLessThan(crash.boundMs / 2);
  expect(crash.falsePositives.total).toBe(0);
});

test('100 nodes: a key-value update and a join reach every node, 99.99% within 3 s (seed 102)', () => {
  const update = onWarmCluster(100, 102, (sim) => measureUpdateSpread(sim));
  for (const spread of [update.gossip, update.join]) {
    expect(spread.reached).toBe(spread.population);
    expect(spread.ms9999 ?? NaN).toBeLessThanOrEqual(3_000);
    // An epidemic, not a broadcast: half the nodes have it well before the last.
    expect(spread.ms50 ?? NaN).toBeLessThan(spread.ms100 ?? NaN);
  }
  expect(update.falsePositives.total).toBe(0);
});

test('100 nodes: a node whose replies take 2 s more is suspected again and again, but nobody is declared dead (seed 103)', () => {
  const slow = onWarmCluster(100, 103, (sim) => measureSlowNode(sim, { delayMs: 2_000, durationMs: 30_000 }));
  // The scenario bites: its probers time out on it...
  expect(slow.suspicionsOfSlow).toBeGreaterThan(0);
  // ...and it refutes every time, in time.
  expect(slow.falsePositives).toMatchObject({ total: 0, aboutDegraded: 0 });
});

test('60 nodes, 3 of them losing 80% of their frames: Lifeguard declares far fewer healthy nodes dead than plain SWIM (seed 104)', () => {
  const run = (lifeguard: boolean) => onWarmCluster(60, 104,
    (sim) => measureLoss(sim, { probability: 0.8, degradedCount: 3, durationMs: 60_000 }), SwimConfig.production({ lifeguard }));
  const lifeguard = run(true);
  const plain = run(false);
  // The same nodes degraded in both runs (the scenario's choices come from the seed).
  expect(lifeguard.degraded).toEqual(plain.degraded);
  const counts = { lifeguard: lifeguard.falsePositives.healthyAtHealthy, plain: plain.falsePositives.healthyAtHealthy };
  expect(counts.plain).toBeGreaterThan(0);
  expect(counts.lifeguard).toBeLessThanOrEqual(counts.plain / 3);
});

test('40 nodes split in two past the dead timeout: each side sees the other dead, then one cluster again after heal (seed 105)', () => {
  const { partition, whole } = onWarmCluster(40, 105, (sim) => ({ partition: measurePartition(sim), whole: sim.converged() }));
  expect(partition.splitMs).toBeDefined();
  expect(partition.partitionMs).toBeGreaterThan(partition.splitMs as number);
  expect(partition.healMs).toBeDefined();
  expect(partition.healMs).toBeLessThanOrEqual(10 * SwimConfig.production().reconnectIntervalMs);
  expect(whole).toBe(true);
  expect(partition.falsePositives.total).toBe(0);
});

test('50 nodes under churn (joins, graceful leaves, crashes): one view again within the suspicion bound, leavers seen as left (seed 106)', () => {
  const churn = onWarmCluster(50, 106, (sim) => measureChurn(sim, { durationMs: 30_000, intervalMs: 2_000 }));
  expect(churn.crashes).toBeGreaterThan(0);
  expect(churn.leaves).toBeGreaterThan(0);
  expect(churn.convergeMs).toBeDefined();
  expect(churn.convergeMs).toBeLessThanOrEqual(suspicionBoundMs(SwimConfig.production(), 50));
  expect(churn.falsePositives).toMatchObject({ total: 0, aboutLeft: 0 });
});
