// Speed and memory of Casty's local runtime, side by side with nact and with a minimal "raw" actor (an array
// mailbox drained in a microtask with a sync handler: about the floor Node allows), all in ONE process.
//
//   npx --yes pnpm@10.34.9 --filter @casty/bench run bench      (= node --expose-gc --import tsx local-runtime.bench.ts)
//
// Honesty rules this file keeps:
//  - every framework gets the same message counts, the same message classes and the same send loops (nact's
//    query message has to carry its temporary reply ref, so its ask message is a small class holding it);
//  - sends are fire-and-forget in all three (Casty's send returns a resolved promise that is not awaited);
//  - completion is detected by the actors' handlers counting what they processed (never by timers);
//  - each measurement runs in a fresh system, the heap is collected before every measurement, and the
//    frameworks take turns within each round so background load hits them alike;
//  - Casty runs with ActorSystem.create() defaults through its public API only (no throughput tuning).
// Figures are medians of ROUNDS measured rounds after WARMUP unmeasured rounds.

import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Actor, ActorSystem, message, Request, type ActorRef, type Context } from '@casty/core';
import * as nact from 'nact';

// ---------------------------------------------------------------------------------------------- config

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Unmeasured rounds first: JIT tiering of an ask loop takes a few hundred thousand asks to settle. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const TELL_N = 1_000_000;
const ASK_N = 100_000;
const FAN_ACTORS = 10_000;
const FAN_MSGS = 100;
const SPAWN_N = 100_000;
const HEAP_N = 100_000;
const HEAP_ROUNDS = Math.max(1, Math.min(ROUNDS, 3));
const ASK_TIMEOUT = 5_000;

// ----------------------------------------------------------------------------------------------- gc

const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

async function settle(): Promise<void> {
  gc();
  await new Promise<void>((resolve) => setImmediate(resolve));
  gc();
}

function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

// ----------------------------------------------------------------------------------------- messages
// The same classes go to every framework.

@message('bench.Ping') class Ping {}
@message('bench.Get') class Get extends Request<number> {}

// ---------------------------------------------------------------------------------------- raw actor
// The floor: an array mailbox with a moving head, drained in one microtask, a sync handler; an ask is a
// promise whose resolve travels in the mailbox and is called by the handler.

class RawAsk {
  constructor(readonly msg: unknown, readonly resolve: (value: number) => void) {}
}

abstract class RawActor {
  private mailbox: unknown[] = [];
  private head = 0;
  private scheduled = false;
  stopped = false;

  abstract receive(msg: unknown): void;

  send(msg: unknown): void {
    if (this.stopped) return;
    this.mailbox.push(msg);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.drain());
    }
  }

  ask(msg: unknown): Promise<number> {
    return new Promise<number>((resolve) => this.send(new RawAsk(msg, resolve)));
  }

  private drain(): void {
    const box = this.mailbox;
    while (this.head < box.length) {
      const msg = box[this.head];
      box[this.head++] = undefined;
      this.receive(msg);
    }
    box.length = 0;
    this.head = 0;
    this.scheduled = false;
  }
}

class RawCounter extends RawActor {
  n = 0;
  constructor(private readonly target: number, private readonly done: () => void) {
    super();
  }
  receive(_msg: unknown): void {
    if (++this.n === this.target) this.done();
  }
}

class RawGetter extends RawActor {
  n = 0;
  receive(msg: unknown): void {
    if (msg instanceof RawAsk) msg.resolve(++this.n);
  }
}

class RawIdle extends RawActor {
  n = 0;
  receive(_msg: unknown): void {
    this.n++;
  }
}

// -------------------------------------------------------------------------------------- casty actors

class CastyCounter extends Actor<Ping> {
  n = 0;
  constructor(private readonly target: number, private readonly done: () => void) {
    super();
  }
  override receive(_msg: Ping): void {
    if (++this.n === this.target) this.done();
  }
}

class CastyAsyncCounter extends Actor<Ping> {
  n = 0;
  constructor(private readonly target: number, private readonly done: () => void) {
    super();
  }
  override async receive(_msg: Ping): Promise<void> {
    if (++this.n === this.target) this.done();
  }
}

class CastyGetter extends Actor<Get> {
  n = 0;
  override receive(_msg: Get, ctx: Context<Get>): void {
    ctx.reply(++this.n);
  }
}

class CastyAsyncGetter extends Actor<Get> {
  n = 0;
  override async receive(_msg: Get, ctx: Context<Get>): Promise<void> {
    ctx.reply(++this.n);
  }
}

class CastyIdle extends Actor<Ping> {
  n = 0;
  override receive(_msg: Ping): void {
    this.n++;
  }
}

/** Counts actors stopped (onStop) so a stop phase's end is seen by the actors themselves. */
const stopCounter = { n: 0 };
class CastyStoppable extends Actor<Ping> {
  n = 0;
  override receive(_msg: Ping): void {
    this.n++;
  }
  override onStop(): void {
    stopCounter.n++;
  }
}

// --------------------------------------------------------------------------------------- nact glue

class NactGet {
  constructor(readonly sender: nact.Ref<number>) {}
}

function nactCounter(system: nact.ActorSystemRef, name: string, target: number, done: () => void): nact.Ref<Ping> {
  return nact.spawn(system, (state: number, _msg: Ping) => {
    const n = state + 1;
    if (n === target) done();
    return n;
  }, name, { initialState: 0 });
}

function nactStop(system: nact.ActorSystemRef): void {
  nact.stop(system);
}

// ------------------------------------------------------------------------------------------ helpers

type Deferred = { promise: Promise<void>; resolve: () => void };
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const name36 = (i: number): string => `$${i.toString(36)}`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function percentile(sorted: Float64Array, p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** A rate measured two ways: by the wall clock (the figure reported) and by this process's CPU time. */
interface Rate { wall: number; cpu: number }

/**
 * Wall time plus process CPU time (all threads, so GC helper threads count: a framework that allocates more
 * pays for it here). When other work competes for the cores the wall rate drops and the CPU rate barely moves,
 * which tells noise from a real slowdown.
 */
class Stopwatch {
  private readonly wall0 = performance.now();
  private readonly cpu0 = process.cpuUsage();
  rate(n: number): Rate {
    const wall = (performance.now() - this.wall0) / 1000;
    const c = process.cpuUsage(this.cpu0);
    return { wall: n / wall, cpu: n / ((c.user + c.system) / 1e6) };
  }
}

// ---------------------------------------------------------------------------------------- scenarios
// Each returns the figure(s) of one measurement. Fresh system per measurement.

type Fw = 'raw' | 'casty' | 'castyAsync' | 'nact';
const FWS: Fw[] = ['raw', 'casty', 'castyAsync', 'nact'];
const LABEL: Record<Fw, string> = { raw: 'raw', casty: 'Casty (sync receive)', castyAsync: 'Casty (async receive)', nact: 'nact' };

// 1. tell throughput to one actor ---------------------------------------------------------------------

async function tellRaw(): Promise<Rate> {
  const d = deferred();
  const actor = new RawCounter(TELL_N, d.resolve);
  const sw = new Stopwatch();
  for (let i = 0; i < TELL_N; i++) actor.send(new Ping());
  await d.promise;
  return sw.rate(TELL_N);
}

async function tellCasty(async: boolean): Promise<Rate> {
  const system = ActorSystem.create();
  const d = deferred();
  const ref: ActorRef<Ping> = async
    ? await system.spawn(CastyAsyncCounter, { args: [TELL_N, d.resolve] })
    : await system.spawn(CastyCounter, { args: [TELL_N, d.resolve] });
  const sw = new Stopwatch();
  for (let i = 0; i < TELL_N; i++) void ref.send(new Ping());
  await d.promise;
  const rate = sw.rate(TELL_N);
  await system.shutdown();
  return rate;
}

async function tellNact(): Promise<Rate> {
  const system = nact.start();
  const d = deferred();
  const ref = nactCounter(system, 'counter', TELL_N, d.resolve);
  const sw = new Stopwatch();
  for (let i = 0; i < TELL_N; i++) nact.dispatch(ref, new Ping());
  await d.promise;
  const rate = sw.rate(TELL_N);
  nactStop(system);
  return rate;
}

// 2. sequential asks: a rate pass (no per-ask clock reads), then a latency pass --------------------------

interface AskResult { rate: Rate; p50: number; p99: number }

async function askLoop(ask: () => Promise<number>): Promise<AskResult> {
  const sw = new Stopwatch();
  let last = 0;
  for (let i = 0; i < ASK_N; i++) last = await ask();
  const rate = sw.rate(ASK_N);
  const lat = new Float64Array(ASK_N);
  for (let i = 0; i < ASK_N; i++) {
    const t0 = performance.now();
    last = await ask();
    lat[i] = (performance.now() - t0) * 1000; // µs
  }
  if (last !== 2 * ASK_N) throw new Error(`ask loop: expected the last reply to be ${2 * ASK_N}, got ${last}`);
  lat.sort();
  return { rate, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function askRaw(): Promise<AskResult> {
  const actor = new RawGetter();
  return askLoop(() => actor.ask(new Get()));
}

async function askCasty(async: boolean): Promise<AskResult> {
  const system = ActorSystem.create();
  const ref: ActorRef<Get> = async ? await system.spawn(CastyAsyncGetter) : await system.spawn(CastyGetter);
  const result = await askLoop(() => ref.ask(new Get(), { timeout: ASK_TIMEOUT }));
  await system.shutdown();
  return result;
}

async function askNact(): Promise<AskResult> {
  const system = nact.start();
  const ref = nact.spawn(system, (state: number, msg: NactGet) => {
    const n = state + 1;
    nact.dispatch(msg.sender, n);
    return n;
  }, 'getter', { initialState: 0 });
  const result = await askLoop(() => nact.query(ref, (tmp: nact.Ref<number>) => new NactGet(tmp), ASK_TIMEOUT) as Promise<number>);
  nactStop(system);
  return result;
}

// 3. fan-out: FAN_ACTORS actors x FAN_MSGS messages each, sent round-robin ------------------------------

async function fanRaw(): Promise<Rate> {
  const d = deferred();
  let remaining = FAN_ACTORS;
  const done = (): void => {
    if (--remaining === 0) d.resolve();
  };
  const actors: RawCounter[] = [];
  for (let i = 0; i < FAN_ACTORS; i++) actors.push(new RawCounter(FAN_MSGS, done));
  const sw = new Stopwatch();
  for (let m = 0; m < FAN_MSGS; m++) for (let i = 0; i < FAN_ACTORS; i++) actors[i]!.send(new Ping());
  await d.promise;
  return sw.rate(FAN_ACTORS * FAN_MSGS);
}

async function fanCasty(async: boolean): Promise<Rate> {
  const system = ActorSystem.create();
  const d = deferred();
  let remaining = FAN_ACTORS;
  const done = (): void => {
    if (--remaining === 0) d.resolve();
  };
  const refs: ActorRef<Ping>[] = [];
  for (let i = 0; i < FAN_ACTORS; i++) {
    refs.push(async
      ? await system.spawn(CastyAsyncCounter, { args: [FAN_MSGS, done] })
      : await system.spawn(CastyCounter, { args: [FAN_MSGS, done] }));
  }
  const sw = new Stopwatch();
  for (let m = 0; m < FAN_MSGS; m++) for (let i = 0; i < FAN_ACTORS; i++) void refs[i]!.send(new Ping());
  await d.promise;
  const rate = sw.rate(FAN_ACTORS * FAN_MSGS);
  await system.shutdown();
  return rate;
}

async function fanNact(): Promise<Rate> {
  const system = nact.start();
  const d = deferred();
  let remaining = FAN_ACTORS;
  const done = (): void => {
    if (--remaining === 0) d.resolve();
  };
  const refs: nact.Ref<Ping>[] = [];
  for (let i = 0; i < FAN_ACTORS; i++) refs.push(nactCounter(system, name36(i), FAN_MSGS, done));
  const sw = new Stopwatch();
  for (let m = 0; m < FAN_MSGS; m++) for (let i = 0; i < FAN_ACTORS; i++) nact.dispatch(refs[i]!, new Ping());
  await d.promise;
  const rate = sw.rate(FAN_ACTORS * FAN_MSGS);
  nactStop(system);
  return rate;
}

// 4. spawn SPAWN_N actors (each awaited as users write it), then stop them all --------------------------

interface SpawnResult { spawn: Rate; stop: Rate }

async function spawnRaw(): Promise<SpawnResult> {
  const actors: RawIdle[] = new Array(SPAWN_N);
  let sw = new Stopwatch();
  for (let i = 0; i < SPAWN_N; i++) actors[i] = new RawIdle();
  const spawn = sw.rate(SPAWN_N);
  sw = new Stopwatch();
  let stopped = 0;
  for (let i = 0; i < SPAWN_N; i++) {
    actors[i]!.stopped = true;
    stopped++;
  }
  actors.length = 0;
  if (stopped !== SPAWN_N) throw new Error('raw stop count');
  return { spawn, stop: sw.rate(SPAWN_N) };
}

async function spawnCasty(): Promise<SpawnResult> {
  const system = ActorSystem.create();
  const refs: ActorRef<Ping>[] = new Array(SPAWN_N);
  let sw = new Stopwatch();
  for (let i = 0; i < SPAWN_N; i++) refs[i] = await system.spawn(CastyStoppable);
  const spawn = sw.rate(SPAWN_N);
  stopCounter.n = 0;
  sw = new Stopwatch();
  await system.shutdown();
  const stop = sw.rate(SPAWN_N);
  if (stopCounter.n !== SPAWN_N) throw new Error(`casty: ${stopCounter.n} of ${SPAWN_N} actors ran onStop`);
  return { spawn, stop };
}

async function spawnNact(): Promise<SpawnResult> {
  const system = nact.start();
  const refs: nact.Ref<Ping>[] = new Array(SPAWN_N);
  const d = deferred();
  let stopped = 0;
  const afterStop = (): void => {
    if (++stopped === SPAWN_N) d.resolve();
  };
  const f = (state: number, _msg: Ping): number => state + 1;
  let sw = new Stopwatch();
  for (let i = 0; i < SPAWN_N; i++) refs[i] = nact.spawn(system, f, name36(i), { initialState: 0, afterStop });
  const spawn = sw.rate(SPAWN_N);
  // nact.stop(systemRef) does not stop the children in nact 7.6.2 (ActorSystem.stop passes the concrete
  // actors to stop(), whose lookup needs a reference), so each actor is stopped through its ref.
  sw = new Stopwatch();
  for (let i = 0; i < SPAWN_N; i++) nact.stop(refs[i]!);
  await d.promise;
  const stop = sw.rate(SPAWN_N);
  nactStop(system);
  return { spawn, stop };
}

// 5. heap bytes per idle actor -------------------------------------------------------------------------
// The array holding the N refs is allocated before the baseline, so only the actors are measured. Casty's
// system and nact's system exist before the baseline too. `touched` = after each actor handled one message
// (Casty allocates a mailbox lazily, so never-messaged actors flatter it; both figures are printed).

interface HeapResult { idle: number; touched: number }

async function heapRaw(): Promise<HeapResult> {
  const holder: RawIdle[] = new Array(HEAP_N).fill(null);
  await settle();
  const before = heapUsed();
  for (let i = 0; i < HEAP_N; i++) holder[i] = new RawIdle();
  await settle();
  const idle = (heapUsed() - before) / HEAP_N;
  for (let i = 0; i < HEAP_N; i++) holder[i]!.send(new Ping());
  await settle();
  const touched = (heapUsed() - before) / HEAP_N;
  let sum = 0;
  for (let i = 0; i < HEAP_N; i++) sum += holder[i]!.n;
  if (sum !== HEAP_N) throw new Error('raw heap: not every actor handled its message');
  return { idle, touched };
}

async function heapCasty(): Promise<HeapResult> {
  const system = ActorSystem.create();
  const holder: ActorRef<Ping>[] = new Array(HEAP_N).fill(null);
  const probe = await system.spawn(CastyGetter); // warms the system's lazily created parts (the child map...)
  await probe.ask(new Get());
  await settle();
  const before = heapUsed();
  for (let i = 0; i < HEAP_N; i++) holder[i] = await system.spawn(CastyIdle);
  await settle();
  const idle = (heapUsed() - before) / HEAP_N;
  for (let i = 0; i < HEAP_N; i++) void holder[i]!.send(new Ping());
  await probe.ask(new Get()); // a barrier: queued after every Ping in the dispatcher's FIFO run queue
  await settle();
  const touched = (heapUsed() - before) / HEAP_N;
  holder.length = 0;
  await system.shutdown();
  return { idle, touched };
}

async function heapNact(): Promise<HeapResult> {
  const system = nact.start();
  const holder: nact.Ref<Ping>[] = new Array(HEAP_N).fill(null);
  const d = deferred();
  let handled = 0;
  const f = (state: number, _msg: Ping): number => {
    if (++handled === HEAP_N) d.resolve();
    return state + 1;
  };
  nact.spawn(system, f, 'probe', { initialState: 0 });
  await settle();
  const before = heapUsed();
  for (let i = 0; i < HEAP_N; i++) holder[i] = nact.spawn(system, f, name36(i), { initialState: 0 });
  await settle();
  const idle = (heapUsed() - before) / HEAP_N;
  for (let i = 0; i < HEAP_N; i++) nact.dispatch(holder[i]!, new Ping());
  await d.promise;
  await settle();
  const touched = (heapUsed() - before) / HEAP_N;
  holder.length = 0;
  nactStop(system);
  return { idle, touched };
}

// ------------------------------------------------------------------------------------------- runner

type Samples<T> = Record<Fw, T[]>;
const empty = <T>(): Samples<T> => ({ raw: [], casty: [], castyAsync: [], nact: [] });

// BENCH_ONLY=tell,ask,fan,spawn,heap runs some phases only (for investigation; targets then show '—').
const ONLY = process.env.BENCH_ONLY?.split(',');
// BENCH_FW=raw,casty,castyAsync,nact runs some frameworks only (for investigation).
const ONLY_FW = process.env.BENCH_FW?.split(',');

async function measure<T>(title: string, rounds: number, fns: Partial<Record<Fw, () => Promise<T>>>): Promise<Samples<T>> {
  const samples = empty<T>();
  if (ONLY !== undefined && !ONLY.some((p) => title.includes(p))) return samples;
  const started = performance.now();
  for (let round = 1 - WARMUP; round <= rounds; round++) { // rounds <= 0 are the warm-up
    for (const fw of FWS) {
      const fn = fns[fw];
      if (fn === undefined || (ONLY_FW !== undefined && !ONLY_FW.includes(fw))) continue;
      await settle();
      const value = await fn();
      if (round > 0) samples[fw].push(value);
    }
  }
  process.stderr.write(`  ${title}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return samples;
}

const fmtRate = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M/s` : `${(x / 1e3).toFixed(0)}k/s`);
const fmtUs = (x: number): string => `${x.toFixed(2)} µs`;
const fmtBytes = (x: number): string => `${Math.round(x).toLocaleString('en-US')} B`;
const fmtRatio = (x: number): string => `${x.toFixed(2)}x`;

function pad(s: string, n: number, right = false): string {
  return right ? s.padEnd(n) : s.padStart(n);
}

function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i]!, i === 0)).join(' | ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const loadAtStart = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`Casty local runtime benchmark — node ${process.version}, ${process.platform}/${process.arch}, ` +
    `median of ${ROUNDS} rounds after ${WARMUP} warm-up rounds (heap: ${HEAP_ROUNDS} rounds)`);
  console.log(`tell ${TELL_N.toLocaleString('en-US')} msgs to 1 actor; ${ASK_N.toLocaleString('en-US')} sequential asks; ` +
    `fan-out ${FAN_ACTORS.toLocaleString('en-US')} actors x ${FAN_MSGS} msgs; spawn/stop ${SPAWN_N.toLocaleString('en-US')}; ` +
    `heap ${HEAP_N.toLocaleString('en-US')} idle actors\n`);

  process.stderr.write('running:\n');
  const tell = await measure('1 tell', ROUNDS, { raw: tellRaw, casty: () => tellCasty(false), castyAsync: () => tellCasty(true), nact: tellNact });
  const ask = await measure('2 ask', ROUNDS, { raw: askRaw, casty: () => askCasty(false), castyAsync: () => askCasty(true), nact: askNact });
  const fan = await measure('3 fan-out', ROUNDS, { raw: fanRaw, casty: () => fanCasty(false), castyAsync: () => fanCasty(true), nact: fanNact });
  const spawn = await measure('4 spawn/stop', ROUNDS, { raw: spawnRaw, casty: spawnCasty, nact: spawnNact });
  const heap = await measure('5 heap', HEAP_ROUNDS, { raw: heapRaw, casty: heapCasty, nact: heapNact });

  const med = <T>(s: Samples<T>, pick: (t: T) => number): Record<Fw, number> => ({
    raw: s.raw.length ? median(s.raw.map(pick)) : NaN,
    casty: s.casty.length ? median(s.casty.map(pick)) : NaN,
    castyAsync: s.castyAsync.length ? median(s.castyAsync.map(pick)) : NaN,
    nact: s.nact.length ? median(s.nact.map(pick)) : NaN,
  });
  const m = {
    tell: med(tell, (x) => x.wall),
    askRate: med(ask, (x) => x.rate.wall),
    askP50: med(ask, (x) => x.p50),
    askP99: med(ask, (x) => x.p99),
    fan: med(fan, (x) => x.wall),
    spawn: med(spawn, (x) => x.spawn.wall),
    stop: med(spawn, (x) => x.stop.wall),
    heapIdle: med(heap, (x) => x.idle),
    heapTouched: med(heap, (x) => x.touched),
  };
  const cpu = {
    tell: med(tell, (x) => x.cpu),
    askRate: med(ask, (x) => x.rate.cpu),
    fan: med(fan, (x) => x.cpu),
    spawn: med(spawn, (x) => x.spawn.cpu),
    stop: med(spawn, (x) => x.stop.cpu),
  };

  type Row = { label: string; v: Record<Fw, number>; fmt: (x: number) => string };
  const rows: Row[] = [
    { label: '1 tell throughput (1 actor)', v: m.tell, fmt: fmtRate },
    { label: '2 sequential ask rate', v: m.askRate, fmt: fmtRate },
    { label: '2 ask latency p50', v: m.askP50, fmt: fmtUs },
    { label: '2 ask latency p99', v: m.askP99, fmt: fmtUs },
    { label: '3 fan-out 10k x 100', v: m.fan, fmt: fmtRate },
    { label: '4 spawn (each awaited)', v: m.spawn, fmt: fmtRate },
    { label: '4 stop all', v: m.stop, fmt: fmtRate },
    { label: '5 heap / idle actor', v: m.heapIdle, fmt: fmtBytes },
    { label: '5 heap / actor after 1 msg', v: m.heapTouched, fmt: fmtBytes },
  ];
  const cell = (fmt: (x: number) => string, x: number): string => (Number.isNaN(x) ? '—' : fmt(x));
  const table = (rs: Row[]): void => printTable(
    ['metric', 'raw', 'Casty (sync receive)', 'Casty (async receive)', 'nact', 'Casty/raw', 'Casty/nact', 'async Casty/nact'],
    rs.map((r) => [
      r.label, cell(r.fmt, r.v.raw), cell(r.fmt, r.v.casty), cell(r.fmt, r.v.castyAsync), cell(r.fmt, r.v.nact),
      cell(fmtRatio, r.v.casty / r.v.raw), cell(fmtRatio, r.v.casty / r.v.nact), cell(fmtRatio, r.v.castyAsync / r.v.nact),
    ]),
  );
  console.log('\nMedians by the wall clock (rates: higher is better; latency and bytes: lower is better).');
  console.log('Ratios are Casty / other in the metric\'s own units ("Casty" = sync receive; the last column = async receive).');
  console.log('Casty (async receive) = the same actors written `async receive(...)`; spawn and heap use sync actors only.\n');
  table(rows);

  console.log('\nCross-check: the same rates by process CPU time. It counts every thread (GC helpers too), so it is lower than');
  console.log('the wall-clock rate on a quiet machine, but other processes competing for the cores barely move it.\n');
  table([
    { label: '1 tell throughput (1 actor)', v: cpu.tell, fmt: fmtRate },
    { label: '2 sequential ask rate', v: cpu.askRate, fmt: fmtRate },
    { label: '3 fan-out 10k x 100', v: cpu.fan, fmt: fmtRate },
    { label: '4 spawn (each awaited)', v: cpu.spawn, fmt: fmtRate },
    { label: '4 stop all', v: cpu.stop, fmt: fmtRate },
  ]);

  // Per-round spread, so noise is visible.
  console.log('\nSpread (min – max over rounds, wall clock) of the targeted figures:');
  const spread = (xs: number[], fmt: (x: number) => string): string =>
    xs.length ? `${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))}` : '—';
  for (const fw of FWS) {
    console.log(`  ${pad(LABEL[fw], 22, true)} tell ${spread(tell[fw].map((x) => x.wall), fmtRate)}; ` +
      `ask ${spread(ask[fw].map((x) => x.rate.wall), fmtRate)}; heap ${spread(heap[fw].map((x) => x.idle), fmtBytes)}`);
  }

  type Target = { name: string; actual: number; need: number; atLeast: boolean; fmt: (x: number) => string; cpuActual?: number; cpuNeed?: number; info?: boolean };
  const targets: Target[] = [
    { name: 'tell >= 0.5x raw', actual: m.tell.casty, need: 0.5 * m.tell.raw, atLeast: true, fmt: fmtRate, cpuActual: cpu.tell.casty, cpuNeed: 0.5 * cpu.tell.raw },
    { name: 'tell >= 3x nact', actual: m.tell.casty, need: 3 * m.tell.nact, atLeast: true, fmt: fmtRate, cpuActual: cpu.tell.casty, cpuNeed: 3 * cpu.tell.nact },
    { name: 'sequential ask >= 2x nact', actual: m.askRate.casty, need: 2 * m.askRate.nact, atLeast: true, fmt: fmtRate, cpuActual: cpu.askRate.casty, cpuNeed: 2 * cpu.askRate.nact },
    { name: 'heap per idle actor <= 0.5x nact', actual: m.heapIdle.casty, need: 0.5 * m.heapIdle.nact, atLeast: false, fmt: fmtBytes },
    { name: '(info) heap after 1 msg <= 0.5x nact', actual: m.heapTouched.casty, need: 0.5 * m.heapTouched.nact, atLeast: false, fmt: fmtBytes, info: true },
    { name: '(info) async receive: tell >= 0.5x raw', actual: m.tell.castyAsync, need: 0.5 * m.tell.raw, atLeast: true, fmt: fmtRate, cpuActual: cpu.tell.castyAsync, cpuNeed: 0.5 * cpu.tell.raw, info: true },
    { name: '(info) async receive: tell >= 3x nact', actual: m.tell.castyAsync, need: 3 * m.tell.nact, atLeast: true, fmt: fmtRate, cpuActual: cpu.tell.castyAsync, cpuNeed: 3 * cpu.tell.nact, info: true },
    { name: '(info) async receive: ask >= 2x nact', actual: m.askRate.castyAsync, need: 2 * m.askRate.nact, atLeast: true, fmt: fmtRate, cpuActual: cpu.askRate.castyAsync, cpuNeed: 2 * cpu.askRate.nact, info: true },
  ];
  const ok = (t: Target, actual: number, need: number): boolean => (Number.isNaN(actual) || Number.isNaN(need) ? false : t.atLeast ? actual >= need : actual <= need);
  const verdict = (t: Target, pass: boolean): string => (pass ? 'PASS' : t.info === true ? 'fail (info)' : 'FAIL');
  console.log('\nTargets (Casty sync receive unless noted). Thresholds are computed from this run\'s medians; the verdict');
  console.log('uses the wall clock, and the last column repeats it with CPU-time rates (a disagreement means noise).\n');
  printTable(['target', 'Casty', 'needed', 'result', 'by CPU time'],
    targets.map((t) => {
      const cpuCol = t.cpuActual === undefined ? 'n/a'
        : `${verdict(t, ok(t, t.cpuActual, t.cpuNeed!))} (${t.fmt(t.cpuActual)} vs ${t.fmt(t.cpuNeed!)})`;
      return [t.name, cell(t.fmt, t.actual), `${t.atLeast ? '>=' : '<='} ${cell(t.fmt, t.need)}`, verdict(t, ok(t, t.actual, t.need)), cpuCol];
    }));
  const failed = targets.filter((t) => t.info !== true && !ok(t, t.actual, t.need)).length;
  const disagree = targets.filter((t) => t.cpuActual !== undefined && ok(t, t.actual, t.need) !== ok(t, t.cpuActual, t.cpuNeed!)).length;
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`\n${failed === 0 ? 'All targets met.' : `${failed} target(s) missed.`}` +
    `${disagree > 0 ? ` ${disagree} verdict(s) differ by CPU time: the machine was busy, re-run for a clean figure.` : ''}` +
    ` Load average at start ${loadAtStart}, at end ${load} (${os.cpus().length} cores). Total time ${((performance.now() - t0) / 1000).toFixed(0)} s.`);
}

let finished = false;
process.on('beforeExit', () => {
  if (!finished) {
    console.error('\nThe event loop emptied while a phase was still waiting: an actor never reported completion.');
    process.exitCode = 1;
  }
});

main().then(() => (finished = true)).catch((error: unknown) => {
  finished = true;
  console.error(error);
  process.exitCode = 1;
});
