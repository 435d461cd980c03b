// Sharding simulation report: real clustered systems with sharding (membership, remote messaging, shard regions,
// hand-offs) on the in-memory network and one manual clock, every random choice seeded. Nodes join and leave
// gracefully while every round asks adds of random entities from random nodes; a registry outside the nodes counts
// every instance of every entity alive at once, and each entity's total is checked against the adds acknowledged
// and attempted. Targets, on a healthy network with joins and graceful leaves: 0 double activations, 0 acknowledged
// adds lost, 0 doubled.
//
//   npx --yes pnpm@10.34.9 --filter @casty/bench run sim:sharding -- --nodes 100 --rounds 40 --seed 1
//   (= TSX_TSCONFIG_PATH=tsconfig.sources.json node --import tsx sharding-simulation.ts ...; runs the sources)

import { performance } from 'node:perf_hooks';
import { Actor, message, Request } from '@casty/core';
import type { Context } from '@casty/core';
import { ClusteredActorSystem } from '@casty/cluster';
import { seededRandom, TestCluster } from '@casty/cluster/testing';
import { sharding } from '@casty/sharding';
import type { ShardedRef } from '@casty/sharding';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const NODES = option('nodes', 100);
const ROUNDS = option('rounds', 40);
const SEED = option('seed', 1);
const ENTITIES = option('entities', 2_000);
const ASKS_PER_ROUND = option('asks', 400);

@message('sim.sharding.Add') class Add extends Request<number> { constructor(readonly n: number) { super(); } }
@message('sim.sharding.Get') class Get extends Request<number> {}
type Msg = Add | Get;

const alive = new Map<string, number>();
let doubleActivations = 0;

class Account extends Actor<Msg> {
  total = 0;
  constructor(readonly entityId: string) { super(); }
  override onStart(): void {
    const n = (alive.get(this.entityId) ?? 0) + 1;
    alive.set(this.entityId, n);
    if (n > 1) doubleActivations++;
  }
  override onStop(): void { alive.set(this.entityId, (alive.get(this.entityId) ?? 1) - 1); }
  override receive(msg: Msg, ctx: Context<Msg>): void {
    if (msg instanceof Add) ctx.reply((this.total += msg.n));
    else ctx.reply(this.total);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const random = seededRandom(SEED * 7919);
  const cluster = await TestCluster.start({ nodes: NODES, seed: SEED, serialize: false,
    start: (transport, options) => ClusteredActorSystem.start(transport, { ...options, extensions: [sharding()] }) });
  const converged = await cluster.converged(120_000);
  const refs = new Map<string, ShardedRef<Msg>>();
  for (const n of cluster.nodes) refs.set(n.id, await n.system.spawn(Account, { name: 'accounts', sharded: true, passivation: false }));
  const acked = new Map<string, number>();
  const attempted = new Map<string, number>();
  let failed = 0;
  const reasons: string[] = [];
  let joins = 0;
  let leaves = 0;
  let nextId = NODES;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  for (let round = 0; round < ROUNDS; round++) {
    // churn: a join or a graceful leave every other round, under the load of this round
    let leaving: Promise<void> | undefined;
    if (round % 2 === 1) {
      if (random() < 0.5 || cluster.running.length <= 3) {
        const node = await cluster.join(`n${nextId++}`);
        refs.set(node.id, await node.system.spawn(Account, { name: 'accounts', sharded: true, passivation: false }));
        joins++;
      } else {
        const victim = pick(cluster.running.slice(1)).id; // never the seed of later joins
        refs.delete(victim);
        leaving = cluster.beginLeave(victim);
        leaves++;
      }
    }
    const senders = [...refs.keys()];
    const asks: Promise<void>[] = [];
    for (let i = 0; i < ASKS_PER_ROUND; i++) {
      const id = `acct-${Math.floor(random() * ENTITIES)}`;
      attempted.set(id, (attempted.get(id) ?? 0) + 1);
      asks.push(refs.get(pick(senders))!.entity(id).ask(new Add(1), { timeout: 30_000 })
        .then(() => { acked.set(id, (acked.get(id) ?? 0) + 1); }, (error: unknown) => {
          if (failed++ < 3) reasons.push(`round ${round}: ${String(error).slice(0, 300)}`);
        }));
    }
    await cluster.settled(Promise.all(asks), 120_000);
    if (leaving !== undefined) await cluster.settled(leaving, 120_000);
  }
  await cluster.converged(120_000);
  const reader = refs.get(cluster.running[0]!.id)!;
  let lost = 0;
  let doubled = 0;
  for (const id of attempted.keys()) {
    const total = await cluster.settled(reader.entity(id).ask(new Get(), { timeout: 30_000 }), 60_000);
    if (total < (acked.get(id) ?? 0)) lost += (acked.get(id) ?? 0) - total;
    if (total > attempted.get(id)!) doubled += total - attempted.get(id)!;
  }
  const ackedTotal = [...acked.values()].reduce((a, b) => a + b, 0);
  const rows: [string, string, string][] = [
    ['double activations (instances of one entity alive at once)', String(doubleActivations), '0'],
    ['acknowledged adds lost', `${lost} of ${ackedTotal}`, '0'],
    ['adds doubled', String(doubled), '0'],
    ['asks that failed (not acknowledged)', String(failed), 'info'],
  ];
  console.log(`Sharding simulation: ${NODES} nodes (converged in ${converged} ms simulated), ${ROUNDS} rounds of ` +
    `${ASKS_PER_ROUND} asks over ${ENTITIES} entities, ${joins} joins and ${leaves} graceful leaves, seed ${SEED}; ` +
    `${(cluster.clock.now() / 1000).toFixed(1)} s simulated in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  console.log('| figure | this run | target | result |\n|---|---:|---:|---|');
  let failures = 0;
  for (const [what, got, target] of rows) {
    const ok = target === 'info' ? 'info' : got.split(' ')[0] === target ? 'PASS' : 'FAIL';
    if (ok === 'FAIL') failures++;
    console.log(`| ${what} | ${got} | ${target} | ${ok} |`);
  }
  if (reasons.length > 0) console.log(`\nfirst failed asks:\n${reasons.join('\n')}`);
  await cluster.shutdown();
  process.exit(failures === 0 ? 0 : 1);
}

void main();
