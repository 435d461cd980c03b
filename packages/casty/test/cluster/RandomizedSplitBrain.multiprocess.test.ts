// Seeded rounds of random faults over real processes (fixtures/node.ts against the built packages, TCP, development
// preset), where network namespaces can be made (skipped with the reason printed where not): the real-process part
// of the randomized split-brain test (packages/sharding/test/RandomizedSplitBrain.test.ts runs many more rounds in
// the deterministic TestCluster). Five nodes, each in its own namespace (NodeNetwork), under a continuous load of
// replicated adds (factor 3, syncCount 2) to 40 entities from every node and singleton asks from every node. Each
// round draws a fault, keeps it for 3-6 s, heals, and waits until the cluster is one again and the load runs:
//   partition        two sides of random members, 4|1 and 3|2 in turn; the majority must serve every entity
//   partition-pause  the same, and one node stopped (SIGSTOP) for 1-3 s meanwhile: one of the minority, or any
//                    node when the majority has four (it keeps quorum without the one stopped)
//   one-way          the packets of one link dropped in one direction only (TCP then fails both ways); nobody
//                    is declared down, so the entities that link's ends host with a backup at its other end cannot
//                    replicate meanwhile: how many is reported, not asserted
//   pause            (not drawn unless asked for) no partition, one node stopped for 1.5-3 s: the others declare
//                    it down and take its entities over; its copies must stop without serving once it goes on
//   majority-pause   a 3|2 partition and one of the three stopped for 1-3 s: the two others lose quorum; the
//                    three declare the minority down together once it goes on (a quorum of members suspects it, see
//                    MemberRules.suspectedByQuorum), regain quorum and serve every entity before the heal
// Checked by counting, after the rounds: every acknowledged add is in its entity's total (none above the
// attempted), no entity served on two nodes over overlapping times, never two singleton instances at once (a
// paused node's instance is frozen, not live, unless it served), one at the end. On a failure every node's log
// (and what was lost) is written to a file in the temporary directory, its path printed.
//
//   SPLIT_BRAIN_MP_ROUNDS=10 SPLIT_BRAIN_MP_SEED=1234 SPLIT_BRAIN_MP_FAULTS=partition,one-way npx jest --runInBand RandomizedSplitBrain.multiprocess
//
// runs more rounds (3 by default) from a given seed (a new one each run by default; printed), of some kinds only.

import { seededRandom } from '@casty/cluster/testing';
import { waitUntil } from '@casty/core/testing';
import { killAll } from './children';
import { NodeNetwork, TwoSidedNetwork } from './network';
import { Cluster, now, reporter, sumTallies } from './shardingCluster';
import type { Asked } from './shardingCluster';
import { checkTotals, overlappingInstances, seconds, twoSingletons, writeDiagnosis } from './splitBrain';
import type { Pause, ProbeAnswer } from './splitBrain';
import type { Hosting } from './fixtures/protocol';

const ROUNDS = Number(process.env.SPLIT_BRAIN_MP_ROUNDS ?? 3);
const SEED = Number(process.env.SPLIT_BRAIN_MP_SEED ?? Math.floor(Math.random() * 1_000_000));
jest.setTimeout(60_000 + ROUNDS * 30_000);
const { report } = reporter('split-brain rounds multiprocess');

const unavailable = TwoSidedNetwork.availability();
if (unavailable !== undefined) report(`rounds of faults skipped: ${unavailable}`);

const ALL = ['a', 'b', 'c', 'd', 'e']; // a starts first: the oldest member, which holds the singleton at first
const ids = Array.from({ length: 40 }, (_, i) => `rb-${i}`);

type Kind = 'partition' | 'partition-pause' | 'pause' | 'one-way' | 'majority-pause';
const KINDS = (process.env.SPLIT_BRAIN_MP_FAULTS?.split(',') as Kind[] | undefined) ?? ['partition', 'partition-pause', 'one-way', 'majority-pause'];
/** How often each kind is drawn, against the others given. */
const WEIGHT: Record<Kind, number> = { 'partition': 4, 'partition-pause': 4, 'pause': 4, 'one-way': 1.5, 'majority-pause': 4 };

/** A round's fault, all drawn from the seeded random before it starts. */
interface Fault {
  readonly kind: Kind;
  /** The larger side (every node for one-way), which must serve every entity. */
  readonly majority: readonly string[];
  /** The smaller side (empty for one-way). */
  readonly minority: readonly string[];
  /** For one-way: the packets from [0] to [1] are dropped. */
  readonly oneWay?: readonly [string, string];
  /** For the pauses: the node stopped, when (ms after the partition) and for how long. */
  readonly pause?: { readonly node: string; readonly afterMs: number; readonly forMs: number };
  readonly holdMs: number;
}

function drawFault(random: () => number, round: number, offset: number): Fault {
  const shuffled = [...ALL];
  for (let i = shuffled.length - 1; i > 0; i--) { // Fisher-Yates (a sort by random comparisons is biased)
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const holdMs = 3_000 + Math.floor(random() * 3_000);
  let pick = random() * KINDS.reduce((sum, k) => sum + WEIGHT[k], 0);
  const kind = KINDS.find((k) => (pick -= WEIGHT[k]) < 0) ?? KINDS[0]!;
  if (kind === 'one-way') return { kind, majority: ALL, minority: [], oneWay: [shuffled[0]!, shuffled[1]!], holdMs };
  if (kind === 'pause') {
    // no partition: the others declare the one stopped down and take its entities over (or it goes on in time)
    const forMs = 1_500 + Math.floor(random() * 1_500);
    return { kind, majority: ALL, minority: [], pause: { node: shuffled[0]!, afterMs: 0, forMs }, holdMs };
  }
  // 4|1 and 3|2 in turn (from a seeded start), so that both happen in every few rounds; 3|2 for majority-pause
  const minoritySize = kind === 'majority-pause' || (round + offset) % 2 === 1 ? 2 : 1;
  const minority = shuffled.slice(0, minoritySize).sort();
  const majority = shuffled.slice(minoritySize).sort();
  if (kind === 'partition') return { kind, majority, minority, holdMs };
  // partition-pause: a node the majority keeps quorum without (of the minority, or of a majority of four);
  // majority-pause: one of a majority of three, which has no quorum without it while it is stopped
  const candidates = kind === 'majority-pause' ? majority : majority.length > 3 ? ALL : minority;
  const forMs = 1_000 + Math.floor(random() * 2_000);
  const pause = { node: candidates[Math.floor(random() * candidates.length)]!, afterMs: Math.floor(random() * (holdMs - forMs)), forMs };
  return { kind, majority, minority, pause, holdMs };
}

const describeFault = (f: Fault) => f.kind === 'one-way' ? `one-way ${f.oneWay![0]}->${f.oneWay![1]}`
  : f.kind === 'pause' ? `${f.pause!.node} stopped ${f.pause!.forMs} ms`
    : `${f.majority.join('')}|${f.minority.join('')}${f.pause === undefined ? '' : ` + ${f.pause.node} stopped ${f.pause.forMs} ms`}`;

(unavailable === undefined ? describe : describe.skip)('seeded rounds of partitions, pauses and one-way loss over real processes', () => {
  let network: NodeNetwork | undefined;
  afterAll(async () => {
    await killAll();
    network?.close();
  });

  test('every acknowledged add survives, no entity runs twice at once, never two singletons', async () => {
    report(`seed ${SEED}, ${ROUNDS} rounds (SPLIT_BRAIN_MP_SEED=${SEED} SPLIT_BRAIN_MP_ROUNDS=${ROUNDS} to run them again)`);
    const random = seededRandom(SEED);
    const offset = Math.floor(random() * 2);
    const net = await NodeNetwork.create(ALL);
    network = net;
    const cluster = new Cluster({ factor: 3, syncCount: 2 });
    for (const id of ALL) {
      await cluster.start(id, { host: net.host(id), prefix: net.prefix(id), secret: 'the split-brain rounds cluster secret', logDebug: true });
    }
    await cluster.waitAllSee(ALL, 'five nodes see each other alive and have all five in their rings');
    for (const id of ALL) await cluster.ask(id, 'singleton-spawn');
    await waitUntil('the singleton answers', async () =>
      ((await cluster.ask('b', 'singleton-where').catch(() => ({}))) as { answer?: { node: string } }).answer !== undefined, 30_000, () => cluster.state());
    for (const id of ALL) await cluster.ask(id, 'load-start', { ids, paceMs: 20 });
    for (const id of ALL) await cluster.ask(id, 'singleton-probe-start', { everyMs: 100 });
    await loadRuns(cluster, 'the load runs on every node');

    const startedAt = now();
    const marks: [string, number][] = [];
    const pauses: Pause[] = [];
    const faults: string[] = [];
    /** For each round: when the majority served every entity after the fault (or, one-way, how many it did not serve). */
    const served: string[] = [];
    const oneClusterAfter: number[] = [];
    // every moment of the rounds (the pauses among them), for the diagnosis file
    const moments = () => [...marks, ...pauses.flatMap((p) => [[`${p.node} stopped`, p.from], [`${p.node} continued`, p.to]] as const)]
      .sort((x, y) => x[1] - y[1]);
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const fault = drawFault(random, round, offset);
        faults.push(describeFault(fault));
        if (fault.oneWay !== undefined) net.oneWay(...fault.oneWay);
        else if (fault.minority.length > 0) net.partition(fault.majority, fault.minority);
        const faultAt = now();
        marks.push([`round ${round}: ${describeFault(fault)}`, faultAt]);
        const paused = fault.pause === undefined ? Promise.resolve() : pause(cluster, fault.pause, pauses);
        // a member of the majority (not the one stopped, nor one of a one-way link) asks every entity until all answer from the majority
        const asker = fault.majority.find((id) => id !== fault.pause?.node && fault.oneWay?.includes(id) !== true)!;
        // (a one-way loss downs no one: see unserved)
        if (fault.oneWay === undefined) served.push(`${seconds(await firstServed(cluster, asker, fault.majority, faultAt) - faultAt)}`);
        // the fault holds for its time (the pace of the rounds, not a wait for a condition)
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, faultAt + fault.holdMs - now())));
        if (fault.oneWay !== undefined) served.push(`one-way: ${await unserved(cluster, asker)} of ${ids.length} entities unavailable`);
        await paused;
        net.heal();
        const healedAt = now();
        marks.push([`round ${round}: heal`, healedAt]);
        await cluster.waitAllSee(ALL, `round ${round} (${describeFault(fault)}): one cluster of five again, every node with all five in its ring`);
        oneClusterAfter.push(now() - healedAt);
        await loadRuns(cluster, `round ${round}: the load runs on every node after the heal`);
      }
    } catch (error) {
      report(`failed after the faults ${faults.join('; ')}; every node's log: ${writeDiagnosis(cluster, ALL, cluster.startedAt, moments())}`);
      throw error;
    }

    const stopped = await Promise.all(ALL.map((id) => cluster.ask(id, 'load-stop', { detail: true }, 30_000)));
    const probes = await Promise.all(ALL.map((id) => cluster.ask(id, 'singleton-probe-stop', {}, 30_000)));
    const tally = sumTallies(ids, stopped);
    const views = await cluster.get('a', ids);
    const { acked, short, over } = checkTotals(ids, tally, views, 0);
    const byId = await cluster.activations();
    const overlaps = overlappingInstances(byId);
    const hostings = new Map(await Promise.all(ALL.map(async (id) => [id, await cluster.ask(id, 'singleton-hosting') as unknown as Hosting] as const)));
    const doubles = twoSingletons(hostings, pauses, probes.flatMap((p) => p.answers as ProbeAnswer[]));
    const running = [...hostings.values()].reduce((n, h) => n + h.started - h.stopped, 0);
    const problems = [...short, ...over, ...overlaps, ...doubles, ...(running === 1 ? [] : [`${running} singleton instances run at the end`])];
    const attempted = [...tally.values()].reduce((n, t) => n + t.attempted, 0);
    const singletonRuns = [...hostings.values()].reduce((n, h) => n + h.started, 0);
    report(`seed ${SEED}, ${ROUNDS} rounds in ${seconds(now() - startedAt)}: ${faults.join('; ')}; ${acked} adds acknowledged, ` +
      `${attempted - acked} refused or failed, ${short.length} entities short (lost), ${over.length} above the attempted; ` +
      `${overlaps.length} overlapping instances; ${doubles.length} two-singleton moments (${singletonRuns} singleton instances, ` +
      `${running} running at the end); time from each fault until the majority served every entity ${served.join(', ')}; ` +
      `time from each heal until one cluster ${oneClusterAfter.map(seconds).join(', ')}`);
    if (short.length > 0 || overlaps.length > 0 || doubles.length > 0) {
      report(`what was lost, and every node's log: ${writeDiagnosis(cluster, ALL, cluster.startedAt, moments(),
        { ids, stopped, views, byId, also: overlaps.map((o) => o.split(' ')[0]!) })}`);
    }
    cluster.fail(problems);
  });
});

/** Waits until every node's load has done a round more than when this was called (or 3, at first). */
async function loadRuns(cluster: Cluster, what: string): Promise<void> {
  const rounds = async () => Promise.all(ALL.map(async (id) => (await cluster.ask(id, 'load-status')).rounds as number));
  const before = await rounds();
  await waitUntil(what, async () => (await rounds()).every((r, i) => r >= before[i]! + 3), 30_000, () => cluster.state());
}

/** Stops `p.node`'s process `p.afterMs` after now for `p.forMs`, then lets it go on; records the pause. */
async function pause(cluster: Cluster, p: NonNullable<Fault['pause']>, pauses: Pause[]): Promise<void> {
  // the fault's schedule, not a wait for a condition
  await new Promise((resolve) => setTimeout(resolve, p.afterMs));
  const node = cluster.node(p.node);
  const from = Date.now();
  node.signal('SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, p.forMs));
  node.signal('SIGCONT');
  pauses.push({ node: p.node, from, to: Date.now() });
}

/**
 * How many entities an ask from `asker` to every entity did not get an answer from. A one-way loss between two
 * members is no failure to SWIM (the others' indirect probes get through) nor to quorum, so no one is declared down:
 * an entity hosted on one end of the link with a backup on the other cannot replicate (syncCount 2) while it lasts.
 */
async function unserved(cluster: Cluster, asker: string): Promise<number> {
  const reply = await cluster.ask(asker, 'entity-get', { ids }, 30_000) as unknown as Asked<unknown>;
  return Object.keys(reply.errors).length;
}

/**
 * When the first of the asks `asker` sends to every entity, one every 100 ms without waiting for the earlier ones
 * (an ask sent just before a change can wait for its timeout), that was answered by all of them from `majority`'s
 * nodes was sent. Asks still under way then are not waited for (one sent earlier might be answered later).
 */
async function firstServed(cluster: Cluster, asker: string, majority: readonly string[], since: number): Promise<number> {
  let servedSentAt = Infinity;
  while (servedSentAt === Infinity) {
    if (now() - since > 30_000) throw new Error(`the majority ${majority.join('')} did not serve every entity within 30 s\n${cluster.describe()}`);
    const sent = now();
    void cluster.ask(asker, 'entity-get', { ids }, 30_000).then((r) => {
      const reply = r as unknown as Asked<{ node: string }>;
      const ok = Object.keys(reply.errors).length === 0 && Object.values(reply.answers).every((v) => majority.includes(v.node));
      if (ok && sent < servedSentAt) servedSentAt = sent;
    }, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the pace of the probe, not a wait for a condition
  }
  return servedSentAt;
}
