// The scenarios of the membership simulation (the project's issue 4): each runs on a warm ClusterSimulation
// (every node sees every other alive) and returns figures, never verdicts. The report tool
// (bench/membership-simulation.ts) sets the figures against targets; the tests assert on them at smaller N.
// Every choice a scenario makes (which node crashes, which nodes degrade) comes from the simulation's seeded
// random source, so two simulations with the same seed and size make the same choices.

import type { NodeId } from '../transport/Transport';
import type { ClusterSimulation, SimNode } from './ClusterSimulation';
import { timeToFraction } from './simulationMeasurements';
import type { FalsePositives, Spread } from './simulationMeasurements';

/** Frames (or bytes) per node per second. */
export interface Rates {
  readonly swim: number;
  readonly swimProbes: number;
  readonly swimGossip: number;
  readonly swimPushPull: number;
  readonly swimBytes: number;
  readonly gossip: number;
  readonly gossipBytes: number;
}

export interface SteadyFigures {
  readonly nodes: number;
  readonly windowMs: number;
  /** What each node sends per second, on average over the window. */
  readonly perNodePerSecond: Rates;
  readonly falsePositives: FalsePositives;
}

/** How far an update got, and how fast (ms after it was made; undefined: that share was not reached). */
export interface SpreadFigures {
  /** Nodes that should get it (running, the originator excluded). */
  readonly population: number;
  readonly reached: number;
  readonly ms50: number | undefined;
  readonly ms99: number | undefined;
  readonly ms9999: number | undefined;
  readonly ms100: number | undefined;
}

export interface UpdateFigures {
  /** A key written at one node (the Gossip engine). */
  readonly gossip: SpreadFigures;
  /** A node joining (the SWIM alive update about it, as 'up' events). */
  readonly join: SpreadFigures;
  readonly falsePositives: FalsePositives;
}

export interface CrashFigures {
  readonly victim: NodeId;
  readonly survivors: number;
  /** First survivor to suspect it, to declare it dead; the last survivor to know it dead (ms after the crash). */
  readonly firstSuspectMs: number | undefined;
  readonly firstDownMs: number | undefined;
  readonly allDownMs: number | undefined;
  /** Survivors that know it dead at the end. */
  readonly knownBy: number;
  /** ClusterSimulation.suspicionBoundMs for the cluster's size. */
  readonly boundMs: number;
  readonly falsePositives: FalsePositives;
}

export interface SlowFigures {
  readonly node: NodeId;
  readonly delayMs: number;
  readonly durationMs: number;
  /** Times some node suspected the slow node, and the slow node suspected some other node. */
  readonly suspicionsOfSlow: number;
  readonly suspicionsBySlow: number;
  readonly falsePositives: FalsePositives;
}

export interface LossFigures {
  readonly probability: number;
  /** The nodes whose links lose frames; empty when every link does. */
  readonly degraded: readonly NodeId[];
  readonly durationMs: number;
  /** 'suspect' events about members that never crashed. */
  readonly suspicions: number;
  readonly falsePositives: FalsePositives;
}

export interface PartitionFigures {
  readonly sizes: readonly [number, number];
  /** Until each side saw every member of the other dead (undefined: not within the limit). */
  readonly splitMs: number | undefined;
  /** How long the partition lasted in all. */
  readonly partitionMs: number;
  /** From heal until every node sees every other alive again (undefined: not within the limit). */
  readonly healMs: number | undefined;
  /** 'down' events about a member of the observer's own side. */
  readonly falsePositives: FalsePositives;
}

export interface ChurnFigures {
  readonly durationMs: number;
  readonly joins: number;
  readonly leaves: number;
  readonly crashes: number;
  /** From the last change until every node sees exactly the running nodes alive (undefined: not within the limit). */
  readonly convergeMs: number | undefined;
  readonly falsePositives: FalsePositives;
}

/** Frames each running node sends per second over `windowMs` of quiet running. */
export function measureSteadyState(sim: ClusterSimulation, windowMs = 30_000): SteadyFigures {
  const since = sim.now;
  sim.resetCounts();
  sim.run(windowMs);
  const total = sim.sentTotals();
  const nodes = sim.running().length;
  const rate = (count: number) => count / nodes / (windowMs / 1_000);
  return {
    nodes, windowMs, falsePositives: sim.falsePositives(since),
    perNodePerSecond: {
      swim: rate(total.swim), swimProbes: rate(total.swimProbes), swimGossip: rate(total.swimGossip),
      swimPushPull: rate(total.swimPushPull), swimBytes: rate(total.swimBytes), gossip: rate(total.gossip),
      gossipBytes: rate(total.gossipBytes),
    },
  };
}

/** Spreads a key written at a random node (Gossip), then the news of a node joining (SWIM). */
export function measureUpdateSpread(sim: ClusterSimulation, withinMs = 30_000): UpdateFigures {
  const since = sim.now;
  const writer = pick(sim, sim.running());
  const key = sim.write(writer.id, `update-${since}`);
  const everyone = (spread: () => Spread) => () => {
    const s = spread();
    return s.delays.length >= s.population;
  };
  sim.waitFor(everyone(() => sim.keySpread(key)), withinMs, 50);
  const gossip = spreadFigures(sim.keySpread(key));
  const joinedAt = sim.now;
  const joiner = sim.addNode();
  sim.waitFor(everyone(() => sim.memberSpread(joiner.id, 'up', joinedAt)), withinMs, 50);
  return { gossip, join: spreadFigures(sim.memberSpread(joiner.id, 'up', joinedAt)), falsePositives: sim.falsePositives(since) };
}

/**
 * Crashes a random node (silently, unless `closeConnections`) and runs until every survivor knows it dead,
 * or `withinMs` (default twice the suspicion bound) has passed.
 */
export function measureCrash(sim: ClusterSimulation, options: { withinMs?: number; closeConnections?: boolean } = {}): CrashFigures {
  const boundMs = sim.suspicionBoundMs(sim.running().length);
  const victim = pick(sim, sim.running());
  const crashedAt = sim.now;
  sim.crash(victim.id, options.closeConnections === true ? { closeConnections: true } : {});
  const survivors = sim.running().length;
  sim.waitFor(() => sim.seenAs(victim.id, 'dead') === survivors, options.withinMs ?? 2 * boundMs);
  const downs = sim.memberSpread(victim.id, 'down', crashedAt);
  return {
    victim: victim.id, survivors, boundMs,
    firstSuspectMs: sim.memberSpread(victim.id, 'suspect', crashedAt).delays[0],
    firstDownMs: downs.delays[0],
    allDownMs: downs.delays.length === downs.population ? downs.delays[downs.delays.length - 1] : undefined,
    knownBy: sim.seenAs(victim.id, 'dead'),
    falsePositives: sim.falsePositives(crashedAt),
  };
}

/** One random node's outgoing frames (its replies among them) take `delayMs` more, for `durationMs`. */
export function measureSlowNode(sim: ClusterSimulation, options: { delayMs?: number; durationMs?: number } = {}): SlowFigures {
  const delayMs = options.delayMs ?? 2_000;
  const durationMs = options.durationMs ?? 120_000;
  const node = pick(sim, sim.running());
  const since = sim.now;
  sim.slow(node.id, delayMs);
  sim.run(durationMs);
  let suspicionsOfSlow = 0;
  let suspicionsBySlow = 0;
  for (const e of sim.eventsSince(since)) {
    if (e.type !== 'suspect') continue;
    if (e.member === node.id) suspicionsOfSlow++;
    else if (e.observer === node.id) suspicionsBySlow++;
  }
  return { node: node.id, delayMs, durationMs, suspicionsOfSlow, suspicionsBySlow, falsePositives: sim.falsePositives(since) };
}

/**
 * Loses `probability` of the frames on the links of `degradedCount` random nodes (both ways), or on every
 * link when `degradedCount` is 0, for `durationMs`.
 */
export function measureLoss(sim: ClusterSimulation, options: { probability: number; degradedCount: number; durationMs: number }): LossFigures {
  const degraded = options.degradedCount === 0 ? [] : pickMany(sim, sim.running(), options.degradedCount).map((n) => n.id);
  const since = sim.now;
  sim.setLoss(options.probability, degraded.length === 0 ? undefined : degraded);
  sim.run(options.durationMs);
  let suspicions = 0;
  for (const e of sim.eventsSince(since)) {
    if (e.type === 'suspect' && e.member !== undefined && sim.node(e.member).status === 'running') suspicions++;
  }
  return {
    probability: options.probability, degraded, durationMs: options.durationMs, suspicions,
    falsePositives: sim.falsePositives(since),
  };
}

/**
 * Splits the cluster into two random halves until each side sees the other dead, holds the partition
 * `holdMs` more (default: the dead-member retention, so the dead are forgotten too), heals it, and runs
 * until the cluster is one again (within `withinMs`, default ten reconnect intervals).
 */
export function measurePartition(sim: ClusterSimulation, options: { holdMs?: number; splitWithinMs?: number; withinMs?: number } = {}): PartitionFigures {
  const config = sim.swimConfig;
  const ids = shuffled(sim, sim.running()).map((n) => n.id);
  const half = Math.floor(ids.length / 2);
  const groups = [ids.slice(0, half), ids.slice(half)] as const;
  const side = new Map<NodeId, number>();
  for (const id of groups[0]) side.set(id, 0);
  for (const id of groups[1]) side.set(id, 1);
  const since = sim.now;
  sim.partition(...groups);
  const splitMs = sim.waitFor(() => sim.converged(groups), options.splitWithinMs ?? 3 * sim.suspicionBoundMs(ids.length), 1_000);
  sim.run(options.holdMs ?? config.deadMemberRetentionMs);
  const partitionMs = sim.now - since;
  sim.heal();
  const healMs = sim.waitFor(() => sim.converged(), options.withinMs ?? 10 * config.reconnectIntervalMs, 500);
  return {
    sizes: [groups[0].length, groups[1].length], splitMs, partitionMs, healMs,
    falsePositives: sim.falsePositives(since, (e) => side.get(e.observer) !== side.get(e.member as NodeId)),
  };
}

/**
 * Churn: every `intervalMs` for `durationMs`, in turn, a new node joins, a random node leaves gracefully, a
 * new node joins, a random node crashes (the size stays about the same); then runs until every node sees
 * exactly the running nodes alive (within `withinMs`, default twice the suspicion bound).
 */
export function measureChurn(sim: ClusterSimulation, options: { durationMs?: number; intervalMs?: number; withinMs?: number } = {}): ChurnFigures {
  const durationMs = options.durationMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 2_000;
  const since = sim.now;
  const counts = { joins: 0, leaves: 0, crashes: 0 };
  for (let step = 0; sim.now - since < durationMs; step++) {
    switch (step % 4) {
      case 0:
      case 2:
        sim.addNode();
        counts.joins++;
        break;
      case 1:
        sim.leave(pick(sim, sim.running()).id);
        counts.leaves++;
        break;
      default:
        sim.crash(pick(sim, sim.running()).id);
        counts.crashes++;
    }
    sim.run(intervalMs);
  }
  const lastChange = sim.now - intervalMs;
  const settled = sim.waitFor(() => sim.converged(), options.withinMs ?? 2 * sim.suspicionBoundMs(sim.running().length), 250);
  return {
    durationMs: lastChange - since, ...counts,
    convergeMs: settled === undefined ? undefined : sim.now - lastChange,
    falsePositives: sim.falsePositives(since),
  };
}

export function spreadFigures(spread: Spread): SpreadFigures {
  return {
    population: spread.population, reached: spread.delays.length,
    ms50: timeToFraction(spread, 0.5), ms99: timeToFraction(spread, 0.99), ms9999: timeToFraction(spread, 0.9999),
    ms100: timeToFraction(spread, 1),
  };
}

function pick(sim: ClusterSimulation, nodes: readonly SimNode[]): SimNode {
  const node = nodes[Math.floor(sim.random() * nodes.length)];
  if (node === undefined) throw new Error('no running node to pick');
  return node;
}

function shuffled(sim: ClusterSimulation, nodes: readonly SimNode[]): SimNode[] {
  const out = [...nodes];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(sim.random() * (i + 1));
    [out[i], out[j]] = [out[j] as SimNode, out[i] as SimNode];
  }
  return out;
}

function pickMany(sim: ClusterSimulation, nodes: readonly SimNode[], count: number): SimNode[] {
  return shuffled(sim, nodes).slice(0, count);
}
