// Remote messaging between two processes on this machine, side by side with a raw baseline, in ONE run:
//
//   npx --yes pnpm@10.34.9 --filter @casty/bench run bench:remote   (= node --import tsx remote-messaging.bench.ts)
//
// raw:   two Node processes exchanging length-prefixed msgpack frames ([kind, id, n]) over loopback TCP, the
//        frames of one tick batched into one socket write: about the floor for this machine.
// Casty: two clustered() nodes (the built packages, ClusterConfig.development() defaults, public API only):
//        a RemoteActorRef from lookup(), @message classes, `await ref.send(...)` and `ref.ask(...)`.
//
// Measured in each round against fresh receiver processes (one raw, one Casty, both up at once), the two
// frameworks taking turns in small chunks so that load from anything else on the machine hits both alike:
//   tell    one-way messages/s: messages in windows of W, each window closed by a round trip (flow control),
//           the sender's event loop turning every 1000 messages (so frames go out while the next are encoded);
//           a chunk's clock stops when the receiver has counted all its messages (the last round trip says so)
//   ask64   asks/s with 64 outstanding (64 loops, each awaiting its reply before the next ask)
//   seq     one ask at a time: p50 and p99 latency over all chunks
// Figures are medians over ROUNDS rounds after a warm-up round. The build must be current (npm run build).
//
// Against a baseline build, in the same run:
//
//   npx --yes pnpm@10.34.9 --filter @casty/bench run bench:remote -- --baseline a24c094
//
// extracts that commit (git archive) into a directory under the OS's temporary directory, installs it offline
// (pnpm install --frozen-lockfile --offline) and builds it (kept there, by commit, for the next run), then
// measures this tree's build ('Casty') and the baseline's ('baseline') the same way as above, taking turns in
// the same chunks and rounds (the raw baseline is left out; BENCH_ROUNDS defaults to 5 here). Both senders live
// in this process (each build loaded on its own), each receiver is a process of its own build. The verdict: the
// median over rounds of this build's tell and ask64 throughput over the baseline's in the same round is at least
// 0.9x (latencies for information); the exit code is non-zero otherwise.
//
// The cost of OpenTelemetry, in the same run:
//
//   npx --yes pnpm@10.34.9 --filter @casty/bench run bench:remote -- --telemetry
//
// measures this build without the telemetry option ('absent') and with it ('present': clustered({ telemetry:
// { api } }) on sender and receiver, the SDK installed as otel-sdk.ts does, every ask a sampled span), taking turns
// as above (BENCH_ROUNDS defaults to 5). Both senders live in this process, so the absent one also runs with
// the SDK's AsyncLocalStorage context manager enabled: that makes 'absent' here a little pessimistic; whether
// absent costs anything against the build before telemetry is what --baseline measures. Present is reported,
// not judged.

import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as os from 'node:os';
import { join } from 'node:path';
import type { ActorRef, ClusteredActorSystem, Context } from '../packages/casty/dist/index.js';
import type * as CastyExports from '../packages/casty/dist/index.js';
import { exitWithStdin, k, loadAverage, measureRound, median, table, us } from './harness';
import type { Client, Figures } from './harness';
import { installOtelSdk } from './otel-sdk';

type CastyModule = typeof CastyExports;
type OpenTelemetryApi = CastyExports.OpenTelemetryApi;

// ------------------------------------------------------------------------------------------------ config

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// chunks, tells, asks and sequential asks per round: harness.ts's REMOTE_LOAD

// msgpack for the raw baseline, resolved the way @casty/core resolves it (it is core's dependency, not ours).
interface MsgpackCodec { encode(value: unknown): Uint8Array; decode(bytes: Uint8Array): unknown }
const msgpack = createRequire(join(__dirname, '..', 'packages', 'core', 'package.json'))('@msgpack/msgpack') as {
  Encoder: new () => MsgpackCodec; Decoder: new () => MsgpackCodec;
};

// ------------------------------------------------------------------------------------------------ Casty side

/** This tree: the bench's own repository. */
const HERE = join(__dirname, '..');

const kits = new Map<string, ReturnType<typeof makeCastyKit>>();

/** The bench's actors and messages, made once per build (each build has its own registry of message names). */
function castyKit(root: string): ReturnType<typeof makeCastyKit> {
  const kit = kits.get(root) ?? makeCastyKit(root);
  kits.set(root, kit);
  return kit;
}

/** The bench's actors and messages, made with the casty build at `root`. */
function makeCastyKit(root: string) {
  const casty = createRequire(__filename)(join(root, 'packages', 'casty', 'dist', 'index.js')) as CastyModule;
  const { Actor, message, Request } = casty;

  @message('bench.remote.Ping') class Ping { constructor(readonly n: number) {} }
  @message('bench.remote.Count') class Count extends Request<number> {}
  @message('bench.remote.Req') class Req extends Request<number> { constructor(readonly n: number) { super(); } }

  class Sink extends Actor<Ping | Count> {
    count = 0;
    override receive(msg: Ping | Count, ctx: Context<Ping | Count>): void {
      if (msg instanceof Ping) this.count++;
      else ctx.reply(this.count);
    }
  }

  class Echo extends Actor<Req> {
    override receive(msg: Req, ctx: Context<Req>): void {
      ctx.reply(msg.n);
    }
  }
  return { casty, Ping, Count, Req, Sink, Echo };
}

async function castyReceiver(root: string, telemetry?: OpenTelemetryApi): Promise<void> {
  const { casty: { clustered, ClusterConfig, silentLogger }, Sink, Echo } = castyKit(root);
  const system = await clustered({ nodeId: 'receiver', config: ClusterConfig.development({ logger: silentLogger }),
    ...(telemetry === undefined ? {} : { telemetry: { api: telemetry } }) });
  await system.spawn(Sink, { name: 'sink' });
  await system.spawn(Echo, { name: 'echo' });
  console.log(`LISTENING ${system.address.port}`);
  await exitWithStdin(() => system.shutdown());
}

async function castyClient(root: string, port: number, telemetry?: OpenTelemetryApi): Promise<Client> {
  const { casty: { clustered, ClusterConfig, silentLogger }, Ping, Count, Req } = castyKit(root);
  type Ping = InstanceType<typeof Ping>;
  type Count = InstanceType<typeof Count>;
  type Req = InstanceType<typeof Req>;
  const system: ClusteredActorSystem = await clustered({ nodeId: 'sender', seeds: [`127.0.0.1:${port}`],
    config: ClusterConfig.development({ logger: silentLogger }), ...(telemetry === undefined ? {} : { telemetry: { api: telemetry } }) });
  let sink: ActorRef<Ping | Count> | undefined;
  let echo: ActorRef<Req> | undefined;
  while (sink === undefined || echo === undefined) {
    await new Promise((resolve) => setTimeout(resolve, 10)); // setup only: waiting for the join, not timing
    sink = await system.lookup<Ping | Count>('sink');
    echo = await system.lookup<Req>('echo');
  }
  const [s, e] = [sink, echo];
  return {
    tell: (n) => s.send(new Ping(n)),
    count: () => s.ask(new Count()),
    ask: (n) => e.ask(new Req(n)),
    close: () => system.shutdown(),
  };
}

// ------------------------------------------------------------------------------------------------ raw side

const TELL = 0;
const ASK = 1;
const REPLY = 2;
const COUNT = 3;

/** Length-prefixed msgpack frames on a socket, the frames of one tick written together. */
class RawConnection {
  private readonly encoder = new msgpack.Encoder();
  private readonly decoder = new msgpack.Decoder();
  private out: Buffer[] = [];
  private flushing = false;
  private buffered: Buffer = Buffer.alloc(0);

  constructor(readonly socket: net.Socket, onFrame: (frame: [number, number, number]) => void) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let data = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      let offset = 0;
      while (data.length - offset >= 4) {
        const length = data.readUInt32BE(offset);
        if (data.length - offset - 4 < length) break;
        onFrame(this.decoder.decode(data.subarray(offset + 4, offset + 4 + length)) as [number, number, number]);
        offset += 4 + length;
      }
      data = data.subarray(offset);
      this.buffered = data;
    });
  }

  send(kind: number, id: number, n: number): void {
    const body = this.encoder.encode([kind, id, n]);
    const frame = Buffer.allocUnsafe(4 + body.length);
    frame.writeUInt32BE(body.length, 0);
    frame.set(body, 4);
    this.out.push(frame);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => {
        this.flushing = false;
        const batch = this.out;
        this.out = [];
        this.socket.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
      });
    }
  }
}

async function rawReceiver(): Promise<void> {
  let count = 0;
  const server = net.createServer((socket) => {
    const connection: RawConnection = new RawConnection(socket, ([kind, id, n]) => {
      if (kind === TELL) count++;
      else if (kind === ASK) connection.send(REPLY, id, n);
      else if (kind === COUNT) connection.send(REPLY, id, count);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  console.log(`LISTENING ${(server.address() as net.AddressInfo).port}`);
  await exitWithStdin(() => new Promise<void>((resolve) => server.close(() => resolve())));
}

async function rawClient(port: number): Promise<Client> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const waiting = new Map<number, (n: number) => void>();
  let nextId = 1;
  const connection = new RawConnection(socket, ([, id, n]) => {
    const resolve = waiting.get(id);
    waiting.delete(id);
    resolve?.(n);
  });
  const request = (kind: number, n: number) => new Promise<number>((resolve) => {
    const id = nextId++;
    waiting.set(id, resolve);
    connection.send(kind, id, n);
  });
  return {
    tell: (n) => connection.send(TELL, 0, n),
    count: () => request(COUNT, 0),
    ask: (n) => request(ASK, n),
    close: async () => {
      socket.end();
      await once(socket, 'close');
    },
  };
}

// ------------------------------------------------------------------------------------------------ the runs

/** raw: the plain-TCP floor; casty: this tree's build; baseline: the build of the commit given with --baseline. */
type Kind = 'raw' | 'casty' | 'baseline';

type Role = 'raw-receiver' | 'casty-receiver' | 'casty-receiver-otel';

async function startReceiver(role: Role, root = HERE): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, role, root], {
    env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, 'tsconfig.json') },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /LISTENING (\d+)/.exec(out);
      if (match !== null) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code} before listening`)));
  });
  return { child, port };
}

/**
 * One round: the baseline's receiver and this build's (raw and Casty; the --baseline commit's and this build's;
 * or, with `telemetry`, this build without and with it), a client for each, measured taking turns.
 */
async function round(baseline?: string, telemetry?: OpenTelemetryApi): Promise<Partial<Record<Kind, Figures>>> {
  const receivers = [await startReceiver(baseline === undefined && telemetry === undefined ? 'raw-receiver' : 'casty-receiver',
    baseline), await startReceiver(telemetry === undefined ? 'casty-receiver' : 'casty-receiver-otel')];
  const [first, second] = receivers.map((r) => r.port) as [number, number];
  try {
    const clients: Partial<Record<Kind, Client>> = baseline !== undefined
      ? { baseline: await castyClient(baseline, first), casty: await castyClient(HERE, second) }
      : telemetry !== undefined ? { baseline: await castyClient(HERE, first), casty: await castyClient(HERE, second, telemetry) }
        : { raw: await rawClient(first), casty: await castyClient(HERE, second) };
    try {
      return await measureRound(clients);
    } finally {
      for (const client of Object.values(clients)) await client.close();
    }
  } finally {
    for (const { child } of receivers) {
      child.stdin!.end();
      if (child.exitCode === null) await once(child, 'exit');
    }
  }
}

async function parent(): Promise<void> {
  const at = process.argv.indexOf('--baseline');
  if (at >= 0) return compareWithBaseline(process.argv[at + 1]);
  if (process.argv.includes('--telemetry')) {
    const api = installOtelSdk();
    return comparePair(`Remote messaging, this build without and with OpenTelemetry (the SDK installed, every ask a sampled ` +
      'span), two processes each over loopback', ['absent', 'present'], NaN, () => round(undefined, api));
  }
  const loadAtStart = loadAverage();
  const results: Record<'raw' | 'casty', Figures[]> = { raw: [], casty: [] };
  console.log(`Remote messaging, two processes over loopback: ${ROUNDS} rounds after a warm-up, medians.`);
  for (let r = 0; r <= ROUNDS; r++) {
    const figures = await round();
    for (const kind of ['raw', 'casty'] as const) {
      const f = figures[kind]!;
      if (r > 0) results[kind].push(f);
      console.log(`  ${r === 0 ? 'warm-up' : `round ${r}`} ${kind.padEnd(5)} tell ${k(f.tell)}/s  ` +
        `ask64 ${k(f.ask64)}/s  seq p50 ${f.p50.toFixed(0)} us  p99 ${f.p99.toFixed(0)} us`);
    }
  }
  const m = (kind: 'raw' | 'casty', key: keyof Figures) => median(results[kind].map((f) => f[key]));
  const rows: Array<{ name: string; raw: number; casty: number; need: number; atLeast: boolean; fmt: (v: number) => string }> = [
    { name: 'tell, one way (msgs/s)', raw: m('raw', 'tell'), casty: m('casty', 'tell'), need: 0.5 * m('raw', 'tell'), atLeast: true, fmt: k },
    { name: 'ask, 64 outstanding (asks/s)', raw: m('raw', 'ask64'), casty: m('casty', 'ask64'), need: 0.5 * m('raw', 'ask64'), atLeast: true, fmt: k },
    { name: 'ask, sequential p50 (us)', raw: m('raw', 'p50'), casty: m('casty', 'p50'), need: 1.5 * m('raw', 'p50'), atLeast: false, fmt: us },
    { name: 'ask, sequential p99 (us)', raw: m('raw', 'p99'), casty: m('casty', 'p99'), need: NaN, atLeast: false, fmt: us },
  ];
  console.log('');
  table([['', 'raw', 'Casty', 'Casty/raw', 'target', 'result'], ...rows.map((r) => [r.name, r.fmt(r.raw), r.fmt(r.casty),
    `${(r.casty / r.raw).toFixed(2)}x`, Number.isNaN(r.need) ? '-' : `${r.atLeast ? '>=' : '<='} ${r.fmt(r.need)}`,
    Number.isNaN(r.need) ? 'info' : (r.atLeast ? r.casty >= r.need : r.casty <= r.need) ? 'PASS' : 'FAIL'])]);
  console.log(`\nLoad average at start ${loadAtStart}, at end ${loadAverage()} (${os.cpus().length} cores).`);
}

/**
 * The build of `commit`, made once: extracted with git archive into the OS's temporary directory (outside this
 * repository; no worktree is registered), installed offline from the lockfile and built. Returns its root.
 */
function baselineBuild(commit: string): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: HERE, encoding: 'utf8' }).trim();
  const full = git('rev-parse', '--verify', `${commit}^{commit}`);
  const dir = join(os.tmpdir(), `casty-baseline-${full.slice(0, 12)}`);
  const marker = join(dir, '.casty-baseline-built');
  if (existsSync(marker)) {
    console.log(`Baseline ${full.slice(0, 12)}: reusing the build in ${dir} (delete it to rebuild).`);
    return dir;
  }
  console.log(`Baseline ${full.slice(0, 12)}: extracting, installing offline and building in ${dir} ...`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const step = (what: string, command: string, args: string[], cwd: string) => {
    try {
      execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`baseline ${full.slice(0, 12)}: ${what} failed in ${dir}:\n${stdout ?? ''}\n${stderr ?? ''}`);
    }
  };
  step('git archive', 'sh', ['-c', 'git archive --format=tar "$1" | tar -x -C "$2"', 'sh', full, dir], HERE);
  step('pnpm install --offline', 'npx', ['--yes', 'pnpm@10.34.9', 'install', '--frozen-lockfile', '--offline'], dir);
  step('build', 'npx', ['--yes', 'pnpm@10.34.9', 'run', 'build'], dir);
  writeFileSync(marker, `${full}\n`);
  return dir;
}

/** This tree's build against the baseline commit's, in the same rounds; non-zero exit when throughput drops > 10%. */
async function compareWithBaseline(commit: string | undefined): Promise<void> {
  if (commit === undefined || commit.startsWith('-')) throw new Error('--baseline needs a commit (e.g. --baseline a24c094)');
  const baseline = baselineBuild(commit);
  await comparePair(`Remote messaging, this build against baseline ${commit}, two processes each over loopback`,
    [`baseline ${commit}`, 'this build'], 0.9, () => round(baseline));
}

/**
 * Two variants measured in the same rounds ('baseline' the reference, 'casty' the one judged, named by `labels`):
 * medians, and the median of each round's ratio; with a `target` ratio, a verdict on throughput and the exit code.
 */
async function comparePair(title: string, labels: readonly [string, string], target: number,
  measure: () => Promise<Partial<Record<Kind, Figures>>>): Promise<void> {
  const loadAtStart = loadAverage();
  const results: Record<'baseline' | 'casty', Figures[]> = { baseline: [], casty: [] };
  // More rounds than the plain run: the verdict is a ratio of two noisy figures.
  const baselineRounds = Number(process.env.BENCH_ROUNDS ?? 5);
  console.log(`${title}: ${baselineRounds} rounds after a warm-up; medians, and the median of each round's ratio (the ` +
    `two measured in the same round, so load from elsewhere hits both).`);
  for (let r = 0; r <= baselineRounds; r++) {
    const figures = await measure();
    for (const kind of ['baseline', 'casty'] as const) {
      const f = figures[kind]!;
      if (r > 0) results[kind].push(f);
      console.log(`  ${r === 0 ? 'warm-up' : `round ${r}`} ${labels[kind === 'casty' ? 1 : 0].padEnd(10)} tell ${k(f.tell)}/s  ` +
        `ask64 ${k(f.ask64)}/s  seq p50 ${f.p50.toFixed(0)} us  p99 ${f.p99.toFixed(0)} us`);
    }
  }
  const m = (kind: 'baseline' | 'casty', key: keyof Figures) => median(results[kind].map((f) => f[key]));
  const rows = [
    { name: 'tell, one way (msgs/s)', key: 'tell' as const, fmt: k, target },
    { name: 'ask, 64 outstanding (asks/s)', key: 'ask64' as const, fmt: k, target },
    { name: 'ask, sequential p50 (us)', key: 'p50' as const, fmt: us, target: NaN },
    { name: 'ask, sequential p99 (us)', key: 'p99' as const, fmt: us, target: NaN },
  ];
  const ratio = (key: keyof Figures) => median(results.casty.map((f, i) => f[key] / results.baseline[i]![key]));
  const verdicts = rows.map((r) => (Number.isNaN(r.target) ? 'info' : ratio(r.key) >= r.target ? 'PASS' : 'FAIL'));
  console.log('');
  table([['', labels[0], labels[1], `${labels[1]}/${labels[0]}`, 'target', 'result'], ...rows.map((r, i) => [r.name,
    r.fmt(m('baseline', r.key)), r.fmt(m('casty', r.key)), `${ratio(r.key).toFixed(2)}x`,
    Number.isNaN(r.target) ? '-' : `>= ${r.target.toFixed(1)}x`, verdicts[i]!])]);
  console.log(`\nLoad average at start ${loadAtStart}, at end ${loadAverage()} (${os.cpus().length} cores).`);
  if (Number.isNaN(target)) return;
  const failed = verdicts.filter((v) => v === 'FAIL').length;
  const within = `${Math.round((1 - target) * 100)}%`;
  console.log(failed === 0 ? `PASS: throughput within ${within} of the baseline.`
    : `FAIL: ${failed} throughput figure(s) more than ${within} below the baseline.`);
  process.exitCode = failed === 0 ? 0 : 1;
}

const role = process.argv[2];
(role === 'raw-receiver' ? rawReceiver() : role === 'casty-receiver' ? castyReceiver(process.argv[3] ?? HERE)
  : role === 'casty-receiver-otel' ? castyReceiver(process.argv[3] ?? HERE, installOtelSdk()) : parent()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
