// Membership simulation report: the real SWIM (with Lifeguard) and key-value gossip engines, N nodes in one
// process over the in-memory network on a manual clock, every random choice seeded from one number.
//
//   npx --yes pnpm@10.34.9 --filter @casty/bench run sim -- --nodes 1000 --seed 1 --scenario all
//   (= TSX_TSCONFIG_PATH=tsconfig.sources.json node --import tsx membership-simulation.ts ...; runs the sources)
//
// Options: --nodes N (default 1000), --seed S (default 1), --scenario all|steady|update|crash|slow|loss|
// partition|churn (default all; a comma-separated list works too), --workers W (default 2: each group of
// scenarios runs on its own cluster in a child process), --json FILE (the figures, as JSON).
//
// Each group of scenarios warms up one cluster (seed nodes first, the rest joining in batches through
// them, until every node sees every other alive and no update is left to gossip), then runs its
// scenarios one after another on it, waiting for the cluster to be whole and quiet again between two.
// Groups: [steady, update, crash, slow], [partition, churn], and [loss] twice, Lifeguard on and off, same
// seed, same choices. The same command with the same seed replays exactly the same runs: the table, the
// events, everything. It prints a markdown table with every target and PASS/FAIL computed from this run,
// and exits 1 if a target fails (2 if a run broke, with the seed and each node's view).

import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { GossipConfig, SwimConfig } from '@casty/cluster';
import {
  ClusterSimulation, measureChurn, measureCrash, measureLoss, measurePartition, measureSlowNode, measureSteadyState,
  measureUpdateSpread, suspicionBoundMs,
} from '@casty/cluster/testing';
import type {
  ChurnFigures, CrashFigures, FalsePositives, LossFigures, PartitionFigures, SlowFigures, SteadyFigures, UpdateFigures,
} from '@casty/cluster/testing';

// ------------------------------------------------------------------------------------------------ settings

const SCENARIOS = ['steady', 'update', 'crash', 'slow', 'partition', 'churn', 'loss'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** What the scenarios do: simulated durations, fault sizes, and the targets. */
const SETTINGS = {
  steadyWindowMs: 30_000,
  slowDelayMs: 2_000,
  slowDurationMs: 60_000,
  lossDurationMs: 30_000,
  /** The degraded-node loss (as the Lifeguard paper's anomalous members): 1% of the nodes, heavy loss both ways. */
  degradedShare: 0.01,
  degradedMin: 3,
  degradedLoss: 0.8,
  uniformLoss: 0.1,
  churnDurationMs: 60_000,
  churnIntervalMs: 2_000,
  /** The update target: 99.99% of nodes within this (Serf's convergence model gives 2.2 s at 1,000 nodes). */
  updateTargetMs: 3_000,
  /** "Far fewer": Lifeguard's false positives at most this share of plain SWIM's. */
  lifeguardShare: 1 / 3,
} as const;

interface Group {
  readonly name: string;
  readonly lifeguard: boolean;
  readonly scenarios: readonly Scenario[];
}

const GROUPS: readonly Group[] = [
  { name: 'partition, churn', lifeguard: true, scenarios: ['partition', 'churn'] },
  { name: 'loss (Lifeguard)', lifeguard: true, scenarios: ['loss'] },
  { name: 'loss (plain SWIM)', lifeguard: false, scenarios: ['loss'] },
  { name: 'steady, update, crash, slow', lifeguard: true, scenarios: ['steady', 'update', 'crash', 'slow'] },
];

interface GroupResult {
  readonly group: Group;
  readonly wallMs: number;
  readonly simulatedMs: number;
  readonly warmUp: { readonly startMs: number; readonly convergeMs: number; readonly settleMs: number | undefined };
  readonly steady?: SteadyFigures;
  readonly update?: UpdateFigures;
  readonly crash?: CrashFigures;
  readonly slow?: SlowFigures;
  readonly lossDegraded?: LossFigures;
  readonly lossUniform?: LossFigures;
  readonly partition?: PartitionFigures;
  readonly churn?: ChurnFigures;
  /** Why a run broke: the error, the seed and each node's view. */
  readonly error?: string;
}

interface Options {
  readonly nodes: number;
  readonly seed: number;
  readonly scenarios: readonly Scenario[];
  readonly workers: number;
  readonly json: string | undefined;
}

// ------------------------------------------------------------------------------------------------ one group

function runGroup(group: Group, nodes: number, seed: number, progress: (line: string) => void): GroupResult {
  const started = performance.now();
  const sim = new ClusterSimulation({
    seed, swim: SwimConfig.production({ lifeguard: group.lifeguard }), gossip: GossipConfig.production(),
  });
  const out: { -readonly [K in keyof GroupResult]?: GroupResult[K] } = { group };
  const done = (error?: string): GroupResult => ({
    ...out, group, error, wallMs: performance.now() - started, simulatedMs: sim.now,
    warmUp: out.warmUp ?? { startMs: 0, convergeMs: 0, settleMs: undefined },
  } as GroupResult);
  try {
    sim.startNodes(nodes);
    const startMs = sim.now;
    const convergeMs = sim.warmUp();
    const settleMs = sim.settle();
    out.warmUp = { startMs, convergeMs, settleMs };
    progress(`warm after ${(sim.now / 1000).toFixed(1)} s simulated`);
    let first = true;
    for (const scenario of group.scenarios) {
      if (!first) prepare(sim);
      first = false;
      sim.resetLog();
      progress(`${scenario} at ${(sim.now / 1000).toFixed(1)} s simulated`);
      switch (scenario) {
        case 'steady': out.steady = measureSteadyState(sim, SETTINGS.steadyWindowMs); break;
        case 'update': out.update = measureUpdateSpread(sim); break;
        case 'crash': out.crash = measureCrash(sim); break;
        case 'slow': out.slow = measureSlowNode(sim, { delayMs: SETTINGS.slowDelayMs, durationMs: SETTINGS.slowDurationMs }); break;
        case 'partition': out.partition = measurePartition(sim); break;
        case 'churn': out.churn = measureChurn(sim, { durationMs: SETTINGS.churnDurationMs, intervalMs: SETTINGS.churnIntervalMs }); break;
        case 'loss': {
          const degradedCount = Math.max(SETTINGS.degradedMin, Math.ceil(nodes * SETTINGS.degradedShare));
          out.lossDegraded = measureLoss(sim, { probability: SETTINGS.degradedLoss, degradedCount, durationMs: SETTINGS.lossDurationMs });
          prepare(sim);
          sim.resetLog();
          out.lossUniform = measureLoss(sim, { probability: SETTINGS.uniformLoss, degradedCount: 0, durationMs: SETTINGS.lossDurationMs });
          break;
        }
      }
    }
    return done();
  } catch (err) {
    return done(`${(err as Error).stack ?? String(err)}\n${sim.describe()}`);
  } finally {
    sim.stopAll();
  }
}

/** Between two scenarios: no faults, then the cluster whole (as far as it gets within a bound) and quiet. */
function prepare(sim: ClusterSimulation): void {
  sim.clearFaults();
  sim.heal();
  sim.waitFor(() => sim.converged(), sim.suspicionBoundMs(sim.running().length), 1_000);
  sim.settle();
}

// ------------------------------------------------------------------------------------------------ the report

interface Row {
  readonly scenario: string;
  readonly figure: string;
  readonly value: string;
  readonly target: string;
  /** undefined: a figure reported for information, with no target. */
  readonly pass?: boolean;
}

const s = (ms: number | undefined) => (ms === undefined ? 'not reached' : `${(ms / 1000).toFixed(2)} s`);
const fp = (f: FalsePositives) => `${f.healthyAtHealthy} in ${f.episodes} episode${f.episodes === 1 ? '' : 's'} (all: ${f.total}, about ${f.members} member${f.members === 1 ? '' : 's'})`;
const perSecond = (n: number) => n.toFixed(2);

function rows(results: readonly GroupResult[], nodes: number): Row[] {
  const out: Row[] = [];
  const find = <K extends keyof GroupResult>(key: K, lifeguard = true): GroupResult[K] | undefined =>
    results.find((r) => r.group.lifeguard === lifeguard && r[key] !== undefined)?.[key];
  const swim = SwimConfig.production();
  for (const r of results) {
    out.push({
      scenario: 'warm-up', figure: `${nodes} nodes, ${r.group.name}: converged (every node sees every other alive), then quiet`,
      value: r.error === undefined ? `${s(r.warmUp.startMs + r.warmUp.convergeMs)}, quiet after ${s(r.warmUp.settleMs)} more` : 'broke',
      target: '', ...(r.error === undefined ? {} : { pass: false }),
    });
  }
  const steady = find('steady');
  if (steady !== undefined) {
    const p = steady.perNodePerSecond;
    out.push({ scenario: 'steady', figure: 'SWIM messages per node per second (probes + gossip rounds + push-pull)',
      value: `${perSecond(p.swim)} (${perSecond(p.swimProbes)} + ${perSecond(p.swimGossip)} + ${perSecond(p.swimPushPull)}), ${Math.round(p.swimBytes)} B/s`, target: '' });
    out.push({ scenario: 'steady', figure: 'key-value gossip messages per node per second', value: `${perSecond(p.gossip)}, ${Math.round(p.gossipBytes)} B/s`, target: '' });
    out.push({ scenario: 'steady', figure: `false positives in ${steady.windowMs / 1000} s`, value: fp(steady.falsePositives), target: '0', pass: steady.falsePositives.total === 0 });
  }
  const update = find('update');
  if (update !== undefined) {
    const g = update.gossip;
    out.push({ scenario: 'update', figure: `key-value update (Gossip, ${GossipConfig.production().gossipIntervalMs} ms rounds, fanout ${GossipConfig.production().gossipFanout}): 50% / 99% of ${g.population} nodes`,
      value: `${s(g.ms50)} / ${s(g.ms99)}`, target: '' });
    out.push({ scenario: 'update', figure: 'key-value update: 99.99% of nodes (100%)', value: `${s(g.ms9999)} (${s(g.ms100)}; ${g.reached} of ${g.population})`,
      target: `<= ${s(SETTINGS.updateTargetMs)} (Serf's model: 2.2 s)`, pass: g.ms9999 !== undefined && g.ms9999 <= SETTINGS.updateTargetMs });
    const j = update.join;
    out.push({ scenario: 'update', figure: 'SWIM membership update (a join): 50% / 99.99% (100%) of nodes', value: `${s(j.ms50)} / ${s(j.ms9999)} (${s(j.ms100)}; ${j.reached} of ${j.population})`, target: '' });
  }
  const crash = find('crash');
  if (crash !== undefined) {
    out.push({ scenario: 'crash', figure: 'first node suspects it / declares it dead', value: `${s(crash.firstSuspectMs)} / ${s(crash.firstDownMs)}`, target: '' });
    out.push({ scenario: 'crash', figure: `all ${crash.survivors} survivors know it dead`, value: `${s(crash.allDownMs)} (${crash.knownBy} of ${crash.survivors})`,
      target: `<= ${s(crash.boundMs)} (suspicion bound)`, pass: crash.allDownMs !== undefined && crash.allDownMs <= crash.boundMs });
    out.push({ scenario: 'crash', figure: 'false positives', value: fp(crash.falsePositives), target: '0', pass: crash.falsePositives.total === 0 });
  }
  const slow = find('slow');
  if (slow !== undefined) {
    out.push({ scenario: 'slow', figure: `one node's frames delayed ${slow.delayMs / 1000} s for ${slow.durationMs / 1000} s: suspect events about it / by it`,
      value: `${slow.suspicionsOfSlow} / ${slow.suspicionsBySlow}`, target: '' });
    out.push({ scenario: 'slow', figure: 'nodes declared dead (the slow one included)', value: fp(slow.falsePositives), target: '0', pass: slow.falsePositives.total === 0 });
  }
  for (const kind of ['lossDegraded', 'lossUniform'] as const) {
    const on = find(kind, true);
    const off = find(kind, false);
    if (on === undefined || off === undefined) continue;
    const what = kind === 'lossDegraded'
      ? `${on.degraded.length} degraded nodes, ${on.probability * 100}% loss on their links`
      : `${on.probability * 100}% loss on every link`;
    out.push({ scenario: 'loss', figure: `${what}, ${on.durationMs / 1000} s: suspect events, Lifeguard / plain SWIM`, value: `${on.suspicions} / ${off.suspicions}`, target: '' });
    if (kind === 'lossDegraded') {
      out.push({ scenario: 'loss', figure: `${what}: degraded nodes declared dead, Lifeguard / plain SWIM`,
        value: `${on.falsePositives.aboutDegraded} / ${off.falsePositives.aboutDegraded}`, target: '' });
    }
    const a = on.falsePositives.healthyAtHealthy;
    const b = off.falsePositives.healthyAtHealthy;
    // The degraded nodes are the Lifeguard paper's experiment, chosen so that plain SWIM does go wrong; under
    // uniform loss plain SWIM may make no mistake at all, and then Lifeguard must not make any either.
    const mustBite = kind === 'lossDegraded';
    out.push({ scenario: 'loss', figure: `${what}: healthy nodes declared dead by healthy nodes, Lifeguard / plain SWIM`,
      value: `${fp(on.falsePositives)} / ${fp(off.falsePositives)}`,
      target: mustBite ? 'Lifeguard <= plain / 3, plain > 0' : 'Lifeguard <= plain / 3 (0 if plain is 0)',
      pass: mustBite ? b > 0 && a <= b * SETTINGS.lifeguardShare : a <= b * SETTINGS.lifeguardShare });
  }
  const partition = find('partition');
  if (partition !== undefined) {
    const limit = 10 * swim.reconnectIntervalMs;
    out.push({ scenario: 'partition', figure: `${partition.sizes[0]} + ${partition.sizes[1]} nodes: each side sees the other dead / partition lasted`,
      value: `${s(partition.splitMs)} / ${s(partition.partitionMs)}`, target: '' });
    out.push({ scenario: 'partition', figure: 'after heal: one cluster again (every node sees every other alive)', value: s(partition.healMs),
      target: `<= ${s(limit)} (10 reconnect intervals)`, pass: partition.healMs !== undefined && partition.healMs <= limit });
    out.push({ scenario: 'partition', figure: 'false positives (within a side)', value: fp(partition.falsePositives), target: '0', pass: partition.falsePositives.total === 0 });
  }
  const churn = find('churn');
  if (churn !== undefined) {
    const bound = suspicionBoundMs(swim, nodes);
    out.push({ scenario: 'churn', figure: `${churn.durationMs / 1000} s: ${churn.joins} joins, ${churn.leaves} leaves, ${churn.crashes} crashes; converged after the last change`,
      value: s(churn.convergeMs), target: `<= ${s(bound)} (suspicion bound)`, pass: churn.convergeMs !== undefined && churn.convergeMs <= bound });
    out.push({ scenario: 'churn', figure: 'false positives (and members that left seen as dead)', value: `${fp(churn.falsePositives)}, left seen dead: ${churn.falsePositives.aboutLeft}`,
      target: '0', pass: churn.falsePositives.total === 0 });
  }
  return out;
}

function table(all: readonly Row[]): string {
  const mark = (r: Row) => (r.pass === undefined ? '' : r.pass ? 'PASS' : '**FAIL**');
  const lines = ['| scenario | figure | value | target | result |', '| --- | --- | --- | --- | --- |'];
  for (const r of all) lines.push(`| ${r.scenario} | ${r.figure} | ${r.value} | ${r.target} | ${mark(r)} |`);
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------------------ processes

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i < 0 ? undefined : argv[i + 1];
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const v = Number(value(name) ?? fallback);
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}`);
    return v;
  };
  const names = (value('scenario') ?? 'all').split(',');
  const scenarios = names.includes('all') ? [...SCENARIOS] : names.map((n) => {
    if (!(SCENARIOS as readonly string[]).includes(n)) throw new Error(`--scenario: unknown '${n}' (all, ${SCENARIOS.join(', ')})`);
    return n as Scenario;
  });
  return {
    nodes: int('nodes', 1000, 5, 5000), seed: int('seed', 1, 0, 2 ** 32 - 1), scenarios,
    workers: int('workers', Math.min(2, os.availableParallelism()), 1, 16), json: value('json'),
  };
}

/** The groups that hold the chosen scenarios, each cut down to them. */
function groupsFor(scenarios: readonly Scenario[]): Group[] {
  return GROUPS.map((g) => ({ ...g, scenarios: g.scenarios.filter((x) => scenarios.includes(x)) })).filter((g) => g.scenarios.length > 0);
}

function runInChild(group: Group, options: Options): Promise<GroupResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--child'], { execArgv: [...process.execArgv, '--max-old-space-size=8192'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: GroupResult | undefined;
    child.on('message', (m: { progress?: string; result?: GroupResult }) => {
      if (m.progress !== undefined) process.stderr.write(`  [${group.name}] ${m.progress}\n`);
      if (m.result !== undefined) result = m.result;
    });
    child.on('exit', (code) => (result === undefined ? reject(new Error(`the run of ${group.name} exited with ${code}`)) : resolve(result)));
    child.send({ group, nodes: options.nodes, seed: options.seed });
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const groups = groupsFor(options.scenarios);
  const command = `--nodes ${options.nodes} --seed ${options.seed} --scenario ${options.scenarios.length === SCENARIOS.length ? 'all' : options.scenarios.join(',')}`;
  process.stderr.write(`membership simulation ${command}: ${groups.length} cluster(s) of ${options.nodes} nodes, ${options.workers} at a time\n`);
  const started = performance.now();
  const results: GroupResult[] = new Array(groups.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(options.workers, groups.length) }, async () => {
    while (next < groups.length) {
      const i = next++;
      results[i] = await runInChild(groups[i] as Group, options);
    }
  }));
  const wallMs = performance.now() - started;
  const all = rows(results, options.nodes);
  const failed = all.filter((r) => r.pass === false);
  const swim = SwimConfig.production();
  const bound = suspicionBoundMs(swim, options.nodes);
  console.log(`## Membership simulation: ${options.nodes} nodes, seed ${options.seed}\n`);
  console.log(`Command: \`npx --yes pnpm@10.34.9 --filter @casty/bench run sim -- ${command}\`  `);
  console.log(`Wall time ${(wallMs / 1000).toFixed(0)} s (${options.workers} process(es), ${os.availableParallelism()} cores, Node ${process.version}); ` +
    `simulated ${results.map((r) => `${(r.simulatedMs / 1000).toFixed(0)} s`).join(' + ')}.  `);
  console.log(`SwimConfig.production() (probe ${swim.probeIntervalMs} ms, gossip rounds ${swim.gossipIntervalMs} ms to ${swim.gossipNodes}), ` +
    `GossipConfig.production(); every frame takes 1 ms. Suspicion bound for ${options.nodes} nodes: one probe period (${swim.probeIntervalMs} ms) + ` +
    `the longest suspicion, suspicionMaxTimeoutMult x suspicionMult x max(1, log10 n) x probe period = ${(bound - swim.probeIntervalMs) / 1000} s: ${bound / 1000} s. ` +
    `False positives: nodes declared dead that never crashed, counted as 'down' events at healthy observers about healthy nodes (all: at any observer, degraded nodes included). ` +
    `99.99% of ${options.nodes} nodes is all of them below 10,000 nodes.\n`);
  console.log(table(all));
  console.log(`\n${failed.length === 0 ? 'All targets met.' : `${failed.length} target(s) FAILED.`} Seed ${options.seed}: the same command replays this run exactly.`);
  for (const r of results) if (r.error !== undefined) console.log(`\n### ${r.group.name} broke (seed ${options.seed})\n\n\`\`\`\n${r.error}\n\`\`\``);
  if (options.json !== undefined) writeFileSync(options.json, JSON.stringify({ options, wallMs, results }, null, 2));
  process.exitCode = results.some((r) => r.error !== undefined) ? 2 : failed.length > 0 ? 1 : 0;
}

if (process.argv.includes('--child')) {
  process.once('message', (m: { group: Group; nodes: number; seed: number }) => {
    const result = runGroup(m.group, m.nodes, m.seed, (line) => process.send?.({ progress: line }));
    process.send?.({ result }, () => process.disconnect());
  });
} else {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  });
}
