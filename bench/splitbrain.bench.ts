// What split-brain protection costs a crash (issue 12: "a crash, not a partition, must not pay the partition's
// price"), between real processes on this machine, side by side with the same cluster without it, in ONE run:
//
//   npx --yes pnpm@10.34.9 --filter @casty/bench run bench:splitbrain   (= node --import tsx splitbrain.bench.ts)
//
// Two clusters of 5 node processes each (clustered(), ClusterConfig.development(), public API only): one with
// downing 'keep-majority' (the default), one with downing 'off' (the baseline: what a crash cost before). Each runs
// a singleton (Ticker) and a sharded type (Counter, 300 entities asked before each kill). The driver (this process)
// is no node. Per trial and cluster, in turns: the node holding the singleton is SIGKILLed while a survivor asks the
// singleton and the entities the victim held, every 20 ms, until each answers from another node; then the victim
// is started again (empty, the same node id) and the cluster waits for 5 members again.
//
// Figures per trial (wall clock, one machine): detection (SIGKILL -> the survivor's MemberDown), singleton back
// (MemberDown -> the singleton answers from another node), entities back (MemberDown -> every entity the victim held
// answers from another node). SB_TRIALS sets the trials per cluster (default 4).
//
// Verdicts: with keep-majority the singleton answers within detection + 1 s (the bound: back within 1 s of
// MemberDown), in every trial; and keep-majority's median adds at most 0.25 s to the baseline's.

import { performance } from 'node:perf_hooks';
import { Actor, ClusterConfig, clustered, MemberDown, message, Request, silentLogger } from '../packages/casty/dist/index.js';
import type { Context } from '../packages/casty/dist/index.js';
import { waitUntil } from '../packages/cluster/dist/testing/index.js';
import { loadAverage, median, ms, print, serveCommands, startNodeChild, verdicts } from './harness';
import type { NodeChild } from './harness';

const TRIALS = Number(process.env.SB_TRIALS ?? 4);
const ENTITIES = 300;
const PROBE_MS = 20;
const now = () => performance.timeOrigin + performance.now();

@message('bench.splitbrain.Where') class Where extends Request<string> {}

/** The singleton and the entities answer the node they run on. */
class Ticker extends Actor<Where> {
  constructor(private readonly _node: string) { super(); }
  override receive(msg: Where, ctx: Context<Where>): void { ctx.reply(this._node); }
}
class Counter extends Actor<Where> {
  constructor(readonly entityId: string, private readonly _node: string) { super(); }
  override receive(msg: Where, ctx: Context<Where>): void { ctx.reply(this._node); }
}

type Mode = 'keep-majority' | 'off';

// ------------------------------------------------------------------------------------------------ a node

async function nodeRole(args: { nodeId: string; seeds: string[]; mode: Mode }): Promise<void> {
  const system = await clustered({ nodeId: args.nodeId, seeds: args.seeds,
    config: ClusterConfig.development({ logger: silentLogger, downing: args.mode }) });
  const ticker = await system.spawn(Ticker, { name: 'ticker', singleton: true, args: [args.nodeId] });
  const counters = await system.spawn(Counter, { name: 'counters', sharded: true, args: [args.nodeId] });
  const downs = new Map<string, number>();
  system.events.subscribe(MemberDown, (e) => downs.set(e.member.nodeId, now()));
  const ids = Array.from({ length: ENTITIES }, (_, i) => `c-${i}`);
  print('LISTENING', { port: system.address.port });
  serveCommands(async (cmd, f) => {
    switch (cmd) {
      case 'members':
        return { up: system.members().filter((m) => m.state === 'alive').map((m) => m.nodeId) };
      case 'where': {
        // the singleton's node, and the node of every entity (asked now: each is started where its shard is)
        const singleton = await ticker.ask(new Where(), { timeout: 5_000 });
        const entities = await Promise.all(ids.map((id) => counters.entity(id).ask(new Where(), { timeout: 5_000 })));
        return { singleton, entities };
      }
      case 'probe': {
        // until the singleton and every entity of `held` answer from a node other than the victim
        const victim = f.victim as string;
        const held = f.held as string[];
        downs.delete(victim);
        let singletonAt = 0;
        let entitiesAt = 0;
        const pending = new Set(held);
        const started = now();
        while ((singletonAt === 0 || entitiesAt === 0) && now() - started < 60_000) {
          const round = now();
          if (singletonAt === 0) {
            const node = await ticker.ask(new Where(), { timeout: 500 }).catch(() => undefined);
            if (node !== undefined && node !== victim) singletonAt = now();
          }
          if (entitiesAt === 0) {
            await Promise.all([...pending].map(async (id) => {
              const node = await counters.entity(id).ask(new Where(), { timeout: 500 }).catch(() => undefined);
              if (node !== undefined && node !== victim) pending.delete(id);
            }));
            if (pending.size === 0) entitiesAt = now();
          }
          const wait = PROBE_MS - (now() - round);
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        return { singletonAt, entitiesAt, downAt: downs.get(victim) ?? 0, left: pending.size };
      }
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  }, () => system.shutdown());
}

// ------------------------------------------------------------------------------------------------ the driver

const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'];

class Cluster {
  readonly nodes = new Map<string, NodeChild>();
  constructor(readonly mode: Mode) {}

  async start(): Promise<void> {
    for (const id of IDS) await this.startNode(id);
    await this.whole();
  }

  async startNode(id: string): Promise<void> {
    const seeds = [...this.nodes.values()].filter((c) => !c.exited).map((c) => c.address);
    this.nodes.set(id, await startNodeChild(__filename, id, seeds, [], { mode: this.mode }));
  }

  /** Until every node sees all 5 alive. */
  async whole(): Promise<void> {
    let views: string[][] = [];
    await waitUntil(`${this.mode}: every node sees 5 members`, async () => {
      views = await Promise.all([...this.nodes.values()].map(async (c) => (await c.request('members')).up as string[]));
      return views.every((v) => v.length === IDS.length);
    }, 60_000, () => views);
  }

  close(): void {
    for (const c of this.nodes.values()) c.kill();
  }
}

interface Trial { detection: number; singletonBack: number; entitiesBack: number; held: number }

async function trial(cluster: Cluster): Promise<Trial> {
  const some = [...cluster.nodes.values()][0]!;
  const where = await some.request('where', {}, 30_000);
  const victim = where.singleton as string;
  const entities = where.entities as string[];
  const held = entities.map((node, i) => (node === victim ? `c-${i}` : undefined)).filter((id): id is string => id !== undefined);
  const prober = [...cluster.nodes.values()].find((c) => c.nodeId !== victim)!;
  const probing = prober.request('probe', { victim, held }, 90_000);
  const killedAt = now();
  cluster.nodes.get(victim)!.kill();
  const result = await probing;
  if (result.singletonAt === 0 || result.entitiesAt === 0 || result.downAt === 0) {
    throw new Error(`${cluster.mode}: after killing ${victim}: ${JSON.stringify(result)}`);
  }
  const downAt = result.downAt as number;
  const figures = { detection: downAt - killedAt, singletonBack: (result.singletonAt as number) - downAt,
    entitiesBack: (result.entitiesAt as number) - downAt, held: held.length };
  console.log(`  ${cluster.mode.padEnd(13)} killed ${victim} (singleton, ${held.length} entities): MemberDown after ${ms(figures.detection)}; ` +
    `singleton back ${ms(figures.singletonBack)} after it, every entity ${ms(figures.entitiesBack)} after it`);
  await cluster.startNode(victim);
  await cluster.whole();
  return figures;
}

async function driver(): Promise<void> {
  const loadAtStart = loadAverage();
  console.log(`Split-brain protection and a crash: 2 clusters of 5 processes (downing keep-majority, and off), ` +
    `ClusterConfig.development(); ${TRIALS} SIGKILLs of the singleton's holder per cluster, in turns.`);
  const clusters = [new Cluster('off'), new Cluster('keep-majority')];
  const results = new Map<Mode, Trial[]>(clusters.map((c) => [c.mode, []]));
  try {
    for (const c of clusters) await c.start();
    for (let i = 0; i < TRIALS; i++) for (const c of (i % 2 === 0 ? clusters : [...clusters].reverse())) results.get(c.mode)!.push(await trial(c));
  } finally {
    for (const c of clusters) c.close();
  }
  const med = (mode: Mode, key: keyof Trial) => median(results.get(mode)!.map((t) => t[key]));
  const max = (mode: Mode, key: keyof Trial) => Math.max(...results.get(mode)!.map((t) => t[key]));
  const rows: string[][] = [];
  for (const [key, label] of [['detection', 'SIGKILL -> MemberDown (detection)'], ['singletonBack', 'MemberDown -> the singleton answers'],
    ['entitiesBack', 'MemberDown -> every entity of the victim answers']] as [keyof Trial, string][]) {
    const added = med('keep-majority', key) - med('off', key);
    const target = key === 'singletonBack' ? '<= 1.00 s' : '-';
    const ok = key !== 'singletonBack' || max('keep-majority', key) <= 1_000;
    rows.push([`${label}, median (max)`, `${ms(med('off', key))} (${ms(max('off', key))})`,
      `${ms(med('keep-majority', key))} (${ms(max('keep-majority', key))})`, `${added >= 0 ? '+' : ''}${ms(added)}`, target,
      key === 'singletonBack' ? (ok ? 'PASS' : 'FAIL') : 'info']);
  }
  const added = med('keep-majority', 'singletonBack') - med('off', 'singletonBack');
  rows.push(['singleton back: median added by keep-majority', '-', '-', `${added >= 0 ? '+' : ''}${ms(added)}`, '<= +0.25 s', added <= 250 ? 'PASS' : 'FAIL']);
  const failed = verdicts(['', "downing 'off'", "'keep-majority'", 'diff', 'target', 'result'], rows,
    `baseline: the same cluster with downing 'off' (no split-brain protection), in the same run; ${TRIALS} trials each.`, loadAtStart);
  process.exit(failed === 0 ? 0 : 1);
}

const role = process.argv[2];
(role === 'node' ? nodeRole(JSON.parse(process.argv[3]!) as { nodeId: string; seeds: string[]; mode: Mode }) : driver()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
