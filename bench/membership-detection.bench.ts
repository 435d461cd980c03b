// Failure detection between real processes, with a plain-TCP baseline in the same run:
//
//   npx --yes pnpm@10.34.9 --filter @casty/bench run bench:detection   (= node --import tsx membership-detection.bench.ts)
//
// Each round starts five node processes on 127.0.0.1 (clustered(), the built packages, ClusterConfig.production():
// probe every 1 s, suspicion minimum 4 s for five nodes), waits until all five see five alive, SIGKILLs one and
// measures, from the kill, when each survivor publishes MemberSuspect and MemberDown for it; then restarts it
// (same id and port) and measures until all five see it alive again; then SIGKILLs all five.
//
// Casty:    the events of the four survivors (first and last), each stamped by the survivor's clock. What to
//           expect: a survivor whose connection to the victim drops probes it at once, so suspicion starts about
//           one probe period after the kill; Lifeguard's suspicion timeout then runs 24 s with no independent
//           confirmation, 11.4 s with one and 4 s (the minimum) with two, so MemberDown comes at about 5 s when
//           the survivors' suspicions reach each other and about 12.4 s when only one does.
// baseline: each survivor holds a plain TCP connection to the victim process and stamps its 'close'. On one
//           machine the kernel closes a killed process's sockets at once, so this is the floor for a crash
//           here; it sees nothing when a process hangs or the network between hosts fails, which is what SWIM's
//           probes and suspicion timeout are for (and what its 4 s minimum costs).
//
// Times are medians over BENCH_ROUNDS rounds (default 8). The verdict: median all-survivors detection <= 6 s, and
// no healthy node declared down; the exit code is non-zero when either fails. The build must be current.

import * as net from 'node:net';
import * as os from 'node:os';
import { clustered, ClusterConfig, ClusterEvent, silentLogger } from '../packages/casty/dist/index.js';
import { LineChild, loadAverage, median, ms, print, quantile, until } from './harness';
import type { Line } from './harness';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const IDS = ['a', 'b', 'c', 'd', 'e'];
const TARGET_MS = 6_000;

const now = () => performance.timeOrigin + performance.now();

// ------------------------------------------------------------------------------------------------ a node

/**
 * One node: prints `LISTENING {port, rawPort}`, then `EVENT {type, node, at, view}` per membership event;
 * on stdin `watch <port>` it connects to that raw port and prints `CLOSED {at}` when the connection closes.
 */
async function node(args: { nodeId: string; port: number; seeds: string[] }): Promise<void> {
  const system = await clustered({ host: '127.0.0.1', port: args.port, nodeId: args.nodeId, seeds: args.seeds,
    config: ClusterConfig.production({ logger: silentLogger }) });
  system.events.subscribe(ClusterEvent, (e) => print('EVENT', { type: e.constructor.name, node: e.member.nodeId, at: now(),
    view: system.members().filter((m) => m.state === 'alive').map((m) => m.nodeId) }));
  const raw = net.createServer(() => undefined).listen(0, '127.0.0.1');
  await new Promise((resolve) => raw.once('listening', resolve));
  print('LISTENING', { port: system.address.port, rawPort: (raw.address() as net.AddressInfo).port });
  process.stdin.on('data', (chunk: Buffer) => {
    for (const port of chunk.toString().split('\n').filter((l) => l.startsWith('watch ')).map((l) => Number(l.slice(6)))) {
      const socket = net.connect({ host: '127.0.0.1', port }, () => print('WATCHING', { port }));
      socket.on('error', () => undefined);
      socket.on('close', () => print('CLOSED', { port, at: now() }));
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

// ------------------------------------------------------------------------------------------------ the parent's side

class Child extends LineChild {
  readonly spawnedAt = now();
  listeningAt = NaN;
  port = NaN;
  rawPort = NaN;

  constructor(readonly id: string, port: number, seeds: string[]) {
    super(__filename, 'node', { nodeId: id, port, seeds });
  }

  protected override onLine(parsed: Line): void {
    if (parsed.kind === 'LISTENING') [this.listeningAt, this.port, this.rawPort] = [now(), parsed.port as number, parsed.rawPort as number];
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  events(type?: string, about?: string): Line[] {
    return this.lines.filter((l) => l.kind === 'EVENT' && (type === undefined || l.type === type) && (about === undefined || l.node === about));
  }

  /** When this node's view first held exactly `ids` alive, at or after `since`; undefined if not yet. */
  sawAllAt(ids: readonly string[], since: number): number | undefined {
    return this.events().find((e) => (e.at as number) >= since && (e.view as string[]).join() === ids.join())?.at as number | undefined;
  }

  /** Whether its latest view is exactly `ids` alive. */
  sees(ids: readonly string[]): boolean {
    return (this.events().at(-1)?.view as string[] | undefined)?.join() === ids.join();
  }

  describe(): string {
    return `${this.id}: ${this.events().map((e) => `${String(e.type)}(${String(e.node)})`).join(' ')}${this.stderr === '' ? '' : `\n  stderr: ${this.stderr}`}`;
  }
}

interface Round {
  victim: string;
  formation: number;
  firstSuspect: number;
  firstDown: number;
  allDown: number;
  firstClose: number;
  allClosed: number;
  rejoin: number;
  restartListening: number;
  falseDowns: string[];
}

async function round(r: number): Promise<Round> {
  const nodes: Child[] = [];
  const state = () => nodes.map((n) => n.describe()).join('\n');
  try {
    const first = new Child(IDS[0]!, 0, []);
    nodes.push(first);
    await until('the first node listens', () => !Number.isNaN(first.port), 30_000, state);
    for (const id of IDS.slice(1)) nodes.push(new Child(id, 0, [first.address]));
    await until('all five see all five alive', () => nodes.every((n) => n.sees(IDS)), 60_000, state);
    const formation = Math.max(...nodes.map((n) => n.sawAllAt(IDS, 0)!)) - first.spawnedAt;

    const victim = nodes[1 + (r % 4)]!;
    const survivors = nodes.filter((n) => n !== victim);
    for (const s of survivors) s.send(`watch ${victim.rawPort}`);
    await until('the survivors hold connections to the victim', () => survivors.every((s) => s.lines.some((l) => l.kind === 'WATCHING')), 10_000, state);
    const killedAt = now();
    victim.kill();
    await until(`every survivor declares ${victim.id} down`, () => survivors.every((s) => s.events('MemberDown', victim.id).length > 0), 60_000, state);
    const downs = survivors.map((s) => (s.events('MemberDown', victim.id)[0]!.at as number) - killedAt);
    const suspects = survivors.flatMap((s) => s.events('MemberSuspect', victim.id).map((e) => (e.at as number) - killedAt).filter((t) => t >= 0));
    await until('every survivor saw its socket close', () => survivors.every((s) => s.lines.some((l) => l.kind === 'CLOSED')), 10_000, state);
    const closes = survivors.map((s) => (s.lines.find((l) => l.kind === 'CLOSED')!.at as number) - killedAt);

    const restarted = new Child(victim.id, victim.port, [survivors[0]!.address]);
    nodes.push(restarted);
    const live = [...survivors, restarted];
    await until(`all five see ${victim.id} back`, () => live.every((n) => n.sees(IDS)), 60_000, state);
    const rejoin = Math.max(...live.map((n) => n.sawAllAt(IDS, restarted.spawnedAt)!)) - restarted.spawnedAt;

    const falseDowns = nodes.flatMap((n) => n.events('MemberDown').filter((e) => e.node !== victim.id).map((e) => `${n.id} saw ${String(e.node)} down`));
    return {
      victim: victim.id, formation, firstSuspect: Math.min(...suspects), firstDown: Math.min(...downs), allDown: Math.max(...downs), firstClose: Math.min(...closes), allClosed: Math.max(...closes),
      rejoin, restartListening: restarted.listeningAt - restarted.spawnedAt, falseDowns,
    };
  } finally {
    for (const n of nodes) n.kill();
  }
}

async function parent(): Promise<void> {
  const loadAtStart = loadAverage(2);
  console.log(`Failure detection, five processes on 127.0.0.1, ClusterConfig.production(): ${ROUNDS} rounds.`);
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const x = await round(r);
    rounds.push(x);
    console.log(`  round ${r + 1} (${x.victim} killed): formation ${ms(x.formation)} | suspected after ${ms(x.firstSuspect)}, ` +
      `down first ${ms(x.firstDown)} all ${ms(x.allDown)} | sockets closed first ${ms(x.firstClose)} all ${ms(x.allClosed)} | ` +
      `rejoin ${ms(x.rejoin)} (process start ${ms(x.restartListening)})` +
      (x.falseDowns.length === 0 ? '' : `, FALSE DOWNS: ${x.falseDowns.join(', ')}`));
  }
  const rows: Array<[string, (x: Round) => number]> = [
    ['formation (spawn of the first process -> all 5 see 5 alive)', (x) => x.formation],
    ['Casty: first survivor publishes MemberSuspect (from the kill)', (x) => x.firstSuspect],
    ['Casty: first survivor publishes MemberDown', (x) => x.firstDown],
    ['Casty: all 4 survivors published MemberDown', (x) => x.allDown],
    ['baseline: first survivor\'s TCP socket to it closed', (x) => x.firstClose],
    ['baseline: all 4 survivors\' sockets closed', (x) => x.allClosed],
    ['rejoin (restart spawned -> all 5 see it alive)', (x) => x.rejoin],
    ['  of which the restarted process starting (spawn -> listening)', (x) => x.restartListening],
  ];
  console.log('\n| metric | median | p90 | min | max |\n| --- | ---: | ---: | ---: | ---: |');
  for (const [name, pick] of rows) {
    const v = rounds.map(pick);
    console.log(`| ${name} | ${ms(median(v))} | ${ms(quantile(v, 0.9))} | ${ms(Math.min(...v))} | ${ms(Math.max(...v))} |`);
  }
  const allDown = median(rounds.map((x) => x.allDown));
  const falseDowns = rounds.flatMap((x) => x.falseDowns);
  const detectionOk = allDown <= TARGET_MS;
  console.log(`\nmedian all-detection ${ms(allDown)} <= ${ms(TARGET_MS)}: ${detectionOk ? 'PASS' : 'FAIL'}`);
  console.log(`healthy nodes declared down: ${falseDowns.length}${falseDowns.length === 0 ? ': PASS' : ` (${falseDowns.join(', ')}): FAIL`}`);
  console.log(`Load average at start ${loadAtStart}, at end ${loadAverage(2)} (${os.cpus().length} cores).`);
  if (!detectionOk || falseDowns.length > 0) process.exitCode = 1;
}

(process.argv[2] === 'node' ? node(JSON.parse(process.argv[3]!)) : parent()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
