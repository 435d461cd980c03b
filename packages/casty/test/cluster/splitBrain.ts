// What the split-brain tests over real processes share (SplitBrain.multiprocess.test.ts, one fixed 3|2 partition;
// RandomizedSplitBrain.multiprocess.test.ts, seeded rounds of faults): the checks by counting after the load
// (every acknowledged add in its entity's total, no entity on two nodes at once, never two singletons at once) and
// the diagnosis file written when an acknowledged add is missing.

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster, Tally } from './shardingCluster';
import type { AccountView, Activation, Hosting } from './fixtures/protocol';

export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * Every entity's total against its senders' tallies: at least every acknowledged add (plus `before`, the adds made
 * before the load), at most every attempted one. Returns the adds acknowledged and a problem per entity out of range.
 */
export function checkTotals(ids: readonly string[], tally: ReadonlyMap<string, Tally>, views: Record<string, AccountView>,
  before: number): { acked: number; short: string[]; over: string[] } {
  let acked = 0;
  const short: string[] = [];
  const over: string[] = [];
  for (const id of ids) {
    const t = tally.get(id)!;
    acked += t.acked;
    const total = views[id]!.total;
    if (total < t.acked + before) short.push(`${id}: total ${total}, but ${t.acked + before} adds were acknowledged`);
    if (total > t.attempted + before) over.push(`${id}: total ${total}, more than the ${t.attempted + before} attempted`);
  }
  return { acked, short, over };
}

/**
 * Entities that served messages on two nodes over overlapping times (by the first and last message of each instance):
 * each instance is compared with the one that served latest among those started before it.
 */
export function overlappingInstances(byId: ReadonlyMap<string, readonly Activation[]>): string[] {
  const overlaps: string[] = [];
  for (const [id, instances] of byId) {
    const sorted = [...instances].sort((x, y) => x.first - y.first);
    let latest: Activation | undefined;
    for (const a of sorted) {
      if (latest !== undefined && a.first < latest.last && a.node !== latest.node) {
        overlaps.push(`${id} ran on ${latest.node} until ${latest.last} and on ${a.node} from ${a.first}`);
      }
      if (latest === undefined || a.last > latest.last) latest = a;
    }
  }
  return overlaps;
}

/** A singleton instance on one node, from its onStart to its onStop (Infinity while it runs). */
interface Instance { readonly node: string; readonly from: number; readonly to: number }

/** A node's process stopped (SIGSTOP) from `from` to `to` (Date.now()). */
export interface Pause { readonly node: string; readonly from: number; readonly to: number }

/** A singleton probe's answer: when the ask was sent and which node's instance answered (Date.now()). */
export interface ProbeAnswer { readonly sent: number; readonly at: number; readonly node: string }

/**
 * Moments two singleton instances ran at once, from every node's Hosting record (`hostings` by node id). An
 * instance of a node paused before another started is frozen, not live (it cannot run), as in the randomized
 * TestCluster test: it must stop without serving once its node resumes. It counts as live, so the overlap as a
 * moment of two singletons, when a probe ask sent after its pause began was answered by its node before it stopped.
 */
export function twoSingletons(hostings: ReadonlyMap<string, Hosting>, pauses: readonly Pause[], answers: readonly ProbeAnswer[]): string[] {
  const instances: Instance[] = [];
  for (const [node, h] of hostings) {
    h.startedAt.forEach((from, i) => instances.push({ node, from, to: h.stoppedAt[i] ?? Infinity }));
  }
  instances.sort((x, y) => x.from - y.from);
  const frozen = (x: Instance, otherFrom: number) => pauses.some((p) => p.node === x.node && p.from >= x.from && p.from <= otherFrom &&
    !answers.some((a) => a.node === x.node && a.sent >= p.from && a.sent <= x.to));
  const doubles: string[] = [];
  for (const [i, x] of instances.entries()) {
    for (const y of instances.slice(i + 1)) {
      if (y.node === x.node || y.from >= x.to || frozen(x, y.from)) continue;
      doubles.push(`the singleton ran on ${x.node} from ${x.from} to ${x.to} and on ${y.node} from ${y.from} to ${y.to}`);
    }
  }
  return doubles;
}

/** The state after the load that writeDiagnosis reads what was lost from: see there. */
export interface AfterLoad {
  readonly ids: readonly string[];
  readonly stopped: ReadonlyArray<Record<string, unknown>>;
  readonly views: Record<string, AccountView>;
  readonly byId: ReadonlyMap<string, readonly Activation[]>;
  /** Entities whose instances to list too (e.g. those that ran on two nodes at once). */
  readonly also?: readonly string[];
}

/**
 * Writes, to a file in the temporary directory, the moments in `marks` (e.g. each partition and heal), then with
 * `lost` each acknowledged add missing from its entity's final state (its sender, seq, and when it was sent and
 * answered) and the instances of those entities (and of `lost.also`), then every node's whole log, with times in seconds from `zero`;
 * returns the file's path. `lost.stopped` are the 'load-stop' replies (with detail) of `senders`, in that order.
 */
export function writeDiagnosis(cluster: Cluster, senders: readonly string[], zero: number,
  marks: ReadonlyArray<readonly [string, number]>, lost?: AfterLoad): string {
  const at = (ms: number) => ((ms - zero) / 1000).toFixed(3);
  const lines: string[] = marks.map(([what, when]) => `${what} at ${at(when)}`);
  for (const id of lost?.ids ?? []) {
    const missing: string[] = [];
    lost!.stopped.forEach((reply, i) => {
      const sender = senders[i]!;
      const present = new Set(lost!.views[id]?.order[sender] ?? []);
      const acked = ((reply.ackedAdds as Record<string, [number, number, number][]> | undefined)?.[id]) ?? [];
      for (const [seq, sent, answered] of acked) if (!present.has(seq)) missing.push(`${sender}#${seq} sent ${at(sent)} answered ${at(answered)}`);
    });
    if (missing.length === 0 && lost!.also?.includes(id) !== true) continue;
    lines.push(`${id}: ${missing.length} acknowledged adds missing${missing.length === 0 ? '' : `: ${missing.join('; ')}`}`);
    for (const a of lost!.byId.get(id) ?? []) lines.push(`  ran on ${a.node} from ${at(a.first)} to ${at(a.last)}`);
  }
  for (const id of senders) {
    lines.push(`---- log of ${id}`);
    for (const l of cluster.node(id).logs) lines.push(`${at(l.at)} ${l.level} ${l.message}`);
  }
  const file = join(tmpdir(), `casty-split-brain-${Date.now()}.txt`);
  writeFileSync(file, lines.join('\n'));
  return file;
}
