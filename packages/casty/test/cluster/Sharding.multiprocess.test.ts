// Sharded entities over real processes: three, then four nodes, each its own child process (fixtures/node.ts with
// `sharded: true`, against the built packages, talking TCP on 127.0.0.1), development preset. Every node
// registers the sharded type 'accounts' (Account: adds to a total, and records each sender's adds in order).
//   a. entities are created on demand from every node and have one home each: the owner by the ring;
//   b. a node (d) joins under a continuous load (every other node asks adds of every entity, round after round,
//      counting per entity attempted and acknowledged adds): nothing acknowledged is lost, every entity answers;
//   c. a node (b) is SIGKILLed: once every survivor has declared it down, every entity answers again, those the
//      killed node held starting empty (total 0), the others unchanged;
//   d. a node (c) leaves gracefully (shutdown) under the same load: its entities move with their state.
// Throughout, each node records when each entity instance it ran handled its first and last message: the
// instances of one entity never overlap in time (never active on two nodes at once).
//
// Conditions are awaited with deadlines, never slept on. A failure prints every node's last answers, its
// membership events and the tail of its stderr. The cluster harness (Cluster) is shardingCluster.ts, shared with
// Singleton.multiprocess.test.ts.

import { waitUntil } from '@casty/core/testing';
import { killAll } from './children';
import type { AccountView, Activation } from './fixtures/protocol';
import { Cluster, now, reporter } from './shardingCluster';
import type { Asked } from './shardingCluster';

jest.setTimeout(60_000);

const { report, timed } = reporter('sharding multiprocess');
const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

interface Tally { attempted: number; acked: number }

/** Instances of one entity that were active at once (one handled a message between the other's first and last). */
function overlaps(byId: Map<string, Activation[]>): string[] {
  const problems: string[] = [];
  for (const [id, instances] of byId) {
    const sorted = [...instances].sort((x, y) => x.first - y.first);
    for (let i = 1; i < sorted.length; i++) {
      const [before, after] = [sorted[i - 1]!, sorted[i]!];
      if (after.first < before.last) {
        problems.push(`${id}: active on ${before.node} (${before.first}..${before.last}) and ${after.node} (${after.first}..${after.last}) at once`);
      }
    }
  }
  return problems;
}

/** The loads of `senders` on `ids`, until `stop`. */
class Load {
  constructor(private readonly cluster: Cluster, readonly senders: readonly string[], readonly ids: readonly string[]) {}

  async start(): Promise<void> {
    for (const s of this.senders) await this.cluster.ask(s, 'load-start', { ids: this.ids, paceMs: 10 });
  }

  async rounds(): Promise<Record<string, number>> {
    const statuses = await Promise.all(this.senders.map((s) => this.cluster.ask(s, 'load-status', {}, 5_000)));
    return Object.fromEntries(this.senders.map((s, i) => [s, statuses[i]!.rounds as number]));
  }

  /** Waits until every sender has done `n` more rounds than in `since` (or than none). */
  async waitRounds(n: number, what: string, since: Record<string, number> = {}): Promise<Record<string, number>> {
    let rounds: Record<string, number> = {};
    await waitUntil(`every sender does ${n} more rounds ${what}`, async () => {
      rounds = await this.rounds();
      return this.senders.every((s) => rounds[s]! >= (since[s] ?? 0) + n);
    }, 30_000, () => ({ rounds, ...this.cluster.state() }));
    return rounds;
  }

  /** Stops every sender; the attempted and acknowledged adds per entity, summed over the senders. */
  async stop(): Promise<{ tally: Map<string, Tally>; failed: number; errors: string[]; rounds: number }> {
    const stopped = await Promise.all(this.senders.map((s) => this.cluster.ask(s, 'load-stop', {}, 30_000)));
    const tally = new Map(this.ids.map((id) => [id, { attempted: 0, acked: 0 }]));
    for (const reply of stopped) {
      for (const [id, t] of Object.entries(reply.tally as Record<string, Tally>)) {
        tally.get(id)!.attempted += t.attempted;
        tally.get(id)!.acked += t.acked;
      }
    }
    return {
      tally,
      failed: stopped.reduce((n, r) => n + (r.failed as number), 0),
      errors: stopped.flatMap((r, i) => (r.errors as string[]).map((e) => `${this.senders[i]}: ${e}`)),
      rounds: stopped.reduce((n, r) => n + (r.rounds as number), 0),
    };
  }
}

/**
 * What a load must leave: every add acknowledged, each entity's total equal to its acknowledged adds (none lost,
 * none doubled), each sender's adds in the order sent. With `mayFail`, an ask may have failed with an error it
 * matches (the README's limit: an ask on its way to a node as it finishes leaving fails with NodeUnavailableError,
 * processed or not): the total then lies between the acknowledged and the attempted adds.
 */
function checkLoad(tally: Map<string, Tally>, views: Record<string, AccountView>, errors: readonly string[], mayFail?: RegExp): string[] {
  const problems: string[] = [];
  // (each sender reports its first ten errors: those are checked)
  const tolerated = mayFail !== undefined && errors.every((e) => mayFail.test(e));
  for (const [id, t] of tally) {
    const view = views[id]!;
    if (t.acked !== t.attempted && !tolerated) problems.push(`${id}: ${t.attempted - t.acked} of ${t.attempted} adds not acknowledged`);
    if (view.total < t.acked || view.total > t.attempted || (!tolerated && view.total !== t.acked)) {
      problems.push(`${id}: total ${view.total}, but ${t.acked} adds acknowledged (${t.attempted} attempted)`);
    }
    for (const [sender, seqs] of Object.entries(view.order)) {
      if (seqs.some((s, i) => i > 0 && s <= seqs[i - 1]!)) problems.push(`${id}: ${sender}'s adds out of order: ${seqs.join(',')}`);
    }
  }
  if (problems.length > 0) problems.push(...errors.map((e) => `failed ask: ${e}`));
  return problems;
}

/**
 * Stops `load`, then reads every entity from each of `readers`: the problems checkLoad finds, and entities that
 * answer from another node than their owner by `readers[0]`'s ring. Remembers the totals.
 */
async function stopAndCheck(load: Load, readers: readonly string[], mayFail?: RegExp):
  Promise<{ problems: string[]; rounds: number; owners: Record<string, string>; failed: number }> {
  const { tally, errors, rounds, failed } = await load.stop();
  const owners = await cluster.owners(readers[0]!, load.ids);
  const problems: string[] = [];
  for (const from of readers) {
    const views = await cluster.get(from, load.ids);
    problems.push(...checkLoad(tally, views, errors, mayFail));
    for (const id of load.ids) if (views[id]!.node !== owners[id]) problems.push(`${id} answered from ${views[id]!.node}, its owner is ${owners[id]}`);
    remember(views);
  }
  return { problems, rounds, owners, failed };
}

/** Entities of `ids` whose total, read from `from`, is not the one known. */
async function changed(from: string, ids: readonly string[], when: string): Promise<string[]> {
  return Object.entries(await cluster.get(from, ids)).filter(([id, v]) => v.total !== known.get(id))
    .map(([id, v]) => `${id}: total ${v.total} ${when}, was ${known.get(id)}`);
}

/** Entity totals known so far, by id: what the next test expects to find. */
const known = new Map<string, number>();
const remember = (views: Record<string, AccountView>) => {
  for (const [id, v] of Object.entries(views)) known.set(id, v.total);
};

const cluster = new Cluster();

beforeAll(async () => {
  await cluster.start('a');
  await Promise.all(['b', 'c'].map((id) => cluster.start(id)));
  await cluster.waitAllSee(['a', 'b', 'c'], 'three nodes see each other alive and have all three in their rings');
});
afterAll(() => killAll());

test('entities are created on demand from every node, one home each: the owner by the ring', () => timed('a. on demand', async () => {
  const ids = range('user', 30);
  const nodes = ['a', 'b', 'c'];
  const owners = await Promise.all(nodes.map((n) => cluster.owners(n, ids)));
  for (const o of owners) expect(o).toEqual(owners[0]);
  // every node adds 1 to every entity (all at once), then every node reads every entity
  const added = await Promise.all(nodes.map((n) => cluster.ask(n, 'entity-add', { ids }))) as unknown as Asked<number>[];
  cluster.fail(added.flatMap((a, i) => Object.entries(a.errors).map(([id, e]) => `add from ${nodes[i]} to ${id}: ${e}`)));
  const problems: string[] = [];
  for (const n of nodes) {
    const views = await cluster.get(n, ids);
    for (const id of ids) {
      if (`${views[id]!.total}@${views[id]!.node}` !== `3@${owners[0]![id]}`) {
        problems.push(`${id} asked from ${n}: total ${views[id]!.total} on ${views[id]!.node}; expected 3 on ${owners[0]![id]}`);
      }
    }
    remember(views);
  }
  // one instance each, on its owner
  const activations = await cluster.activations();
  for (const id of ids) {
    const where = (activations.get(id) ?? []).map((a) => a.node);
    if (where.join() !== owners[0]![id]) problems.push(`${id}: instances on [${where.join()}], expected one on ${owners[0]![id]}`);
  }
  cluster.fail(problems);
  // the entities are spread over the three nodes
  expect(new Set(Object.values(owners[0]!))).toEqual(new Set(nodes));
}));

test('a node joins under load: no acknowledged add lost or doubled, each entity answers from its owner after', () => timed('b. join under load', async () => {
  const ids = range('join', 40);
  const load = new Load(cluster, ['a', 'b', 'c'], ids);
  await load.start();
  await load.waitRounds(3, 'before the join');
  await cluster.start('d');
  await cluster.waitAllSee(['a', 'b', 'c', 'd'], 'four nodes see each other alive and have all four in their rings');
  // the load goes on past the ring change, while shards move to d
  await load.waitRounds(5, 'after every ring has d', await load.rounds());
  const { problems, rounds, owners } = await stopAndCheck(load, ['d', 'a']);
  const onD = ids.filter((id) => owners[id] === 'd');
  problems.push(...overlaps(await cluster.activations()));
  // the entities created in test a that moved to d kept their totals too
  problems.push(...await changed('d', range('user', 30), 'after d joined'));
  cluster.fail(problems);
  const handOffs = await Promise.all(['a', 'b', 'c'].map(async (n) => (await cluster.ask(n, 'sharding')).handOffs as number));
  report(`join: ${rounds} rounds of ${ids.length} adds; ${onD.length} of ${ids.length} entities now on d; hand-offs by a, b, c: ${handOffs.join(', ')}`);
  expect(onD.length).toBeGreaterThan(0);
  expect(handOffs.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
}));

test('SIGKILL of a node: once every survivor declared it down, every entity answers again, its own starting empty', () => timed('c. SIGKILL', async () => {
  const survivors = ['a', 'c', 'd'];
  const ids = [...range('user', 30), ...range('join', 40), ...range('kill', 30)];
  const added = await Promise.all(survivors.map((n) => cluster.ask(n, 'entity-add', { ids: range('kill', 30) }))) as unknown as Asked<number>[];
  cluster.fail(added.flatMap((a, i) => Object.entries(a.errors).map(([id, e]) => `add from ${survivors[i]} to ${id}: ${e}`)));
  const before = await cluster.get('a', ids);
  const owners = await cluster.owners('a', ids);
  const onB = ids.filter((id) => owners[id] === 'b');
  expect(onB.length).toBeGreaterThan(0);
  const marks = new Map(survivors.map((id) => [id, cluster.node(id).events.length]));
  const killedAt = now();
  await cluster.node('b').kill('SIGKILL');
  const downAt = (id: string) => cluster.node(id).events.slice(marks.get(id)).find((e) => e.type === 'MemberDown' && e.node === 'b');
  await waitUntil('every survivor declares b down', () => survivors.every((id) => downAt(id) !== undefined), 30_000, () => cluster.state());
  const detection = survivors.map((id) => `${id} ${((downAt(id)!.at - killedAt) / 1000).toFixed(2)} s`).join(', ');

  // right after MemberDown, without retrying: every entity answers, from every survivor
  const problems: string[] = [];
  for (const from of survivors) {
    const views = await cluster.get(from, ids);
    for (const id of ids) {
      const expected = onB.includes(id) ? 0 : before[id]!.total;
      if (views[id]!.total !== expected) {
        problems.push(`${id} (on ${owners[id]} before the kill) asked from ${from}: total ${views[id]!.total}, expected ${expected}`);
      }
      if (views[id]!.node === 'b') problems.push(`${id} answered from b, which was killed`);
    }
  }
  cluster.fail(problems);
  report(`SIGKILL of b: declared down after ${detection}; ${onB.length} of ${ids.length} entities were on b and started ` +
    'empty elsewhere, the others kept their totals');
}));

test('a node leaves gracefully under load: its entities move with their state, no acknowledged add lost', () => timed('d. leave under load', async () => {
  const ids = range('leave', 40);
  const load = new Load(cluster, ['a', 'd'], ids);
  await load.start();
  await load.waitRounds(3, 'before the leave');
  const earlier = [...range('user', 30), ...range('join', 40), ...range('kill', 30)];
  remember(await cluster.get('a', earlier));
  const before = await cluster.owners('a', ids);
  const onC = ids.filter((id) => before[id] === 'c');
  expect(onC.length).toBeGreaterThan(0);
  const shutdown = await cluster.ask('c', 'shutdown', {}, 40_000);
  cluster.pastActivations.push(...shutdown.activations as Activation[]);
  await waitUntil('c exits', () => !cluster.node('c').alive, 10_000, () => cluster.state());
  await cluster.waitAllSee(['a', 'd'], 'a and d see only each other, and have only each other in their rings');
  await load.waitRounds(5, 'after c left', await load.rounds());
  const { problems, rounds, failed } = await stopAndCheck(load, ['a', 'd'], /NodeUnavailableError: Node 'c' .*it left the cluster/);
  // the entities of the earlier tests kept their totals through the leave too
  problems.push(...await changed('d', earlier, 'after c left'));
  problems.push(...overlaps(await cluster.activations()));
  cluster.fail(problems);
  report(`leave: ${rounds} rounds of ${ids.length} adds; ${onC.length} of ${ids.length} entities moved off c; ` +
    `c's shutdown took ${Number(shutdown.ms).toFixed(0)} ms; ${failed} asks failed as c finished leaving (README's limit)`);
}));

