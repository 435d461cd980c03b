// What the benches share: figures (median, quantile, formats), the table they print, node processes that talk
// in `KIND {json}` lines, and the remote load of remote-messaging.bench.ts (tells in windows, asks with 64
// outstanding, sequential asks) for any pair of clients measured side by side.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

// ------------------------------------------------------------------------------------------------ figures

/** The median (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The q-quantile (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A rate: 1.23M or 456k. */
export function k(value: number): string {
  return value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : `${(value / 1e3).toFixed(0)}k`;
}

/** Microseconds. */
export function us(value: number): string {
  return `${value.toFixed(0)} us`;
}

/** Milliseconds, as seconds from 100 ms. */
export function ms(value: number): string {
  return value >= 100 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}

/** The load averages, for the lines around a table. */
export function loadAverage(digits = 1): string {
  return os.loadavg().map((x) => x.toFixed(digits)).join(' ');
}

/** Prints rows (the first is the header) in aligned columns: the first left-aligned, the others right-aligned. */
export function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

/**
 * Prints the verdict table (`rows` under `header`; the last column is PASS, FAIL or anything else), `note`, the load
 * averages and the verdict; returns how many rows failed.
 */
export function verdicts(header: string[], rows: string[][], note: string, loadAtStart: string): number {
  console.log('');
  table([header, ...rows]);
  console.log(`\n${note}`);
  console.log(`Load average at start ${loadAtStart}, at end ${loadAverage()} (${os.cpus().length} cores).`);
  const failed = rows.filter((row) => row[row.length - 1] === 'FAIL').length;
  console.log(failed === 0 ? 'PASS: every target met.' : `FAIL: ${failed} target(s) missed.`);
  return failed;
}

// ------------------------------------------------------------------------------------------------ processes

/** Runs until the parent closes our stdin (so a child never outlives the bench), then `close`s and exits. */
export async function exitWithStdin(close: () => Promise<void>): Promise<void> {
  process.stdin.resume();
  await once(process.stdin, 'end');
  await close();
  process.exit(0);
}

/** Writes one `KIND {json}` line for the parent. */
export function print(kind: string, value: object): void {
  console.log(`${kind} ${JSON.stringify(value)}`);
}

/** Polls `predicate` every 10 ms until it holds; throws after `timeoutMs`, with `state()` in the message. */
export async function until(what: string, predicate: () => boolean, timeoutMs: number, state: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}\n${state()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A line a child printed as `KIND {json}`. */
export interface Line { readonly kind: string; readonly [field: string]: unknown }

/**
 * A bench file run again as a child process (`node [execArgv] --import tsx <file> <role> <json>`) with the bench's
 * tsconfig; it keeps every `KIND {json}` line the child prints, and the tail of its stderr. `request` sends
 * `{id, cmd, ...fields}` on its stdin and resolves with the child's `REPLY {id, ...}`.
 */
export class LineChild {
  readonly lines: Line[] = [];
  protected readonly process: ChildProcess;
  private partial = '';
  protected stderr = '';
  private nextId = 1;
  private readonly replies = new Map<number, { resolve(reply: Line): void; reject(error: Error): void }>();

  constructor(file: string, role: string, args: object, execArgv: readonly string[] = []) {
    this.process = spawn(process.execPath, [...execArgv, '--import', 'tsx', file, role, JSON.stringify(args)], {
      env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, 'tsconfig.json') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.process.stdin!.on('error', () => undefined);
    this.process.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2_000)));
    this.process.stdout!.on('data', (chunk: Buffer) => {
      const lines = (this.partial + chunk.toString()).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        const space = line.indexOf(' ');
        if (space <= 0) continue;
        const parsed = { kind: line.slice(0, space), ...(JSON.parse(line.slice(space + 1)) as object) } as Line;
        this.lines.push(parsed);
        this.onLine(parsed);
        if (parsed.kind === 'REPLY') {
          this.replies.get(parsed.id as number)?.resolve(parsed);
          this.replies.delete(parsed.id as number);
        }
      }
    });
    this.process.once('exit', (code, signal) => {
      for (const { reject } of this.replies.values()) reject(new Error(`child exited (${code ?? signal}) before answering:\n${this.stderr}`));
      this.replies.clear();
    });
  }

  /** Called for each line as it comes. */
  protected onLine(_line: Line): void {}

  /** The child's process id (undefined if it did not start). */
  get pid(): number | undefined {
    return this.process.pid;
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  send(line: string): void {
    this.process.stdin!.write(`${line}\n`);
  }

  /** Sends a command; resolves with the reply, rejects on an `error` field, after `timeoutMs`, or if the child exits. */
  request(cmd: string, fields: object = {}, timeoutMs = 60_000): Promise<Line> {
    const id = this.nextId++;
    return new Promise<Line>((resolve, reject) => {
      if (this.exited) {
        reject(new Error(`child exited before ${cmd}:\n${this.stderr}`));
        return;
      }
      const timer = setTimeout(() => {
        this.replies.delete(id);
        reject(new Error(`no answer to ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.replies.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          if (reply.error !== undefined) reject(new Error(`${cmd}: ${String(reply.error)}`));
          else resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.send(JSON.stringify({ id, cmd, ...fields }));
    });
  }

  /** SIGKILLs the child if it still runs. */
  kill(): void {
    if (!this.exited) this.process.kill('SIGKILL');
  }

  /** Closes its stdin (a child in exitWithStdin shuts down) and waits for it to exit. */
  async close(): Promise<void> {
    this.process.stdin!.end();
    if (!this.exited) await once(this.process, 'exit');
  }
}

/** A cluster node in a child process (a LineChild that printed `LISTENING {port}`): its id and address. */
export type NodeChild = LineChild & { readonly nodeId: string; readonly address: string };

/** Runs `file` as a child in role 'node' with `{nodeId, seeds}` (and `extra`); resolves once it printed its port. */
export async function startNodeChild(file: string, nodeId: string, seeds: string[], execArgv: readonly string[] = [],
  extra: object = {}): Promise<NodeChild> {
  const child = new LineChild(file, 'node', { ...extra, nodeId, seeds }, execArgv);
  let port = 0;
  await until(`node ${nodeId} listens`, () => {
    if (child.exited) throw new Error(`node ${nodeId} exited`);
    port = (child.lines.find((l) => l.kind === 'LISTENING')?.port as number | undefined) ?? 0;
    return port > 0;
  }, 60_000, () => '');
  return Object.assign(child, { nodeId, address: `127.0.0.1:${port}` });
}

/**
 * Until `local()` (this process's ring, when given) and each child's ring (its answer to a `view` command, field
 * `ring`) have exactly `ids`.
 */
export async function ringsAre(ids: string[], children: LineChild[], local?: () => readonly string[]): Promise<void> {
  const want = [...ids].sort().join();
  const same = (ring: readonly string[]) => [...ring].sort().join() === want;
  const deadline = performance.now() + 60_000;
  while (!(local === undefined || same(local())) || !(await Promise.all(children.map((c) => c.request('view')))).every((v) => same(v.ring as string[]))) {
    if (performance.now() > deadline) throw new Error(`timed out after 60000 ms waiting until every ring is ${want}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs `work(i)` for i in [0, n) with `outstanding` at once. */
export async function pool(n: number, outstanding: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, outstanding) }, async () => {
    while (next < n) await work(next++);
  }));
}

/**
 * In a child: answers each `{id, cmd, ...}` line on stdin with `REPLY {id, ...handler's result}` (or `{id, error}`),
 * one command at a time; exits when stdin closes, after `close`.
 */
export function serveCommands(handle: (cmd: string, fields: Record<string, unknown>) => Promise<object>, close: () => Promise<void>): void {
  let partial = '';
  let queue = Promise.resolve();
  process.stdin.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim() !== '')) {
      const { id, cmd, ...fields } = JSON.parse(line) as { id: number; cmd: string } & Record<string, unknown>;
      queue = queue.then(() => handle(cmd, fields)).then((reply) => print('REPLY', { id, ...reply }),
        (error: unknown) => print('REPLY', { id, error: error instanceof Error ? error.stack ?? error.message : String(error) }));
    }
  });
  void exitWithStdin(close);
}

// ------------------------------------------------------------------------------------------------ remote load

/** One framework's way to talk to its receiver: tells counted there, and asks echoed. */
export interface Client {
  tell(n: number): Promise<void> | void;
  count(): Promise<number>;
  ask(n: number): Promise<number>;
  close(): Promise<void>;
}

/** Sizes of a round of remote load. */
export interface LoadSettings {
  /** Turns each client takes per phase and round. */
  readonly chunks: number;
  /** Tells per chunk, in windows of `tellWindow`, the sender's event loop turning every `tellBatch`. */
  readonly tellN: number;
  readonly tellWindow: number;
  readonly tellBatch: number;
  /** Asks per chunk, `askConcurrency` outstanding. */
  readonly askN: number;
  readonly askConcurrency: number;
  /** Sequential asks per chunk, after `seqWarmup` per round. */
  readonly seqN: number;
  readonly seqWarmup: number;
}

export const REMOTE_LOAD: LoadSettings = {
  chunks: 5, tellN: 200_000, tellWindow: 50_000, tellBatch: 1_000, askN: 40_000, askConcurrency: 64, seqN: 4_000, seqWarmup: 2_000,
};

/** A client's figures of a round: tells/s, asks/s with 64 outstanding, one-at-a-time ask p50 and p99 (us). */
export interface Figures { tell: number; ask64: number; p50: number; p99: number }

/** Tells in windows, each closed by a count (a round trip): the ms until the receiver counted all of them. */
export async function tellChunk(client: Client, s: LoadSettings = REMOTE_LOAD): Promise<number> {
  const before = await client.count();
  const t = performance.now();
  let barrier: Promise<number> | undefined;
  for (let sent = 0; sent < s.tellN;) {
    for (const end = sent + s.tellWindow; sent < end; sent++) {
      await client.tell(sent);
      // Let the event loop turn now and then, as a sender doing anything else would: the frames queued so far
      // go out while the next ones are encoded, so both processes work at once.
      if (sent % s.tellBatch === s.tellBatch - 1) await new Promise((resolve) => setImmediate(resolve));
    }
    const previous = barrier;
    barrier = client.count(); // at most two windows in flight
    if (previous !== undefined) await previous;
  }
  const counted = await barrier!;
  if (counted - before !== s.tellN) throw new Error(`receiver counted ${counted - before} of ${s.tellN} tells`);
  return performance.now() - t;
}

/** `askN` asks, `askConcurrency` loops each awaiting its reply before the next: the ms they took. */
export async function askChunk(client: Client, s: LoadSettings = REMOTE_LOAD): Promise<number> {
  const t = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: s.askConcurrency }, async () => {
    while (next < s.askN) {
      const n = next++;
      if ((await client.ask(n)) !== n) throw new Error(`ask ${n} got a wrong reply`);
    }
  }));
  return performance.now() - t;
}

/** `count` asks one at a time, each one's latency (us) pushed onto `latencies`. */
export async function seqChunk(client: Client, latencies: number[], count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await client.ask(i);
    latencies.push((performance.now() - start) * 1000);
  }
}

/** One round: the clients measured in alternating chunks (so load from elsewhere hits all alike); their figures. */
export async function measureRound<K extends string>(clients: Partial<Record<K, Client>>, s: LoadSettings = REMOTE_LOAD): Promise<Partial<Record<K, Figures>>> {
  const kinds = Object.keys(clients) as K[];
  const zero = <T>(value: () => T) => Object.fromEntries(kinds.map((kind) => [kind, value()])) as Record<K, T>;
  const tellMs = zero(() => 0);
  const askMs = zero(() => 0);
  const latencies = zero((): number[] => []);
  const turns = (chunk: number) => (chunk % 2 === 0 ? kinds : [...kinds].reverse());
  for (let chunk = 0; chunk < s.chunks; chunk++) for (const kind of turns(chunk)) tellMs[kind] += await tellChunk(clients[kind]!, s);
  for (let chunk = 0; chunk < s.chunks; chunk++) for (const kind of turns(chunk)) askMs[kind] += await askChunk(clients[kind]!, s);
  for (const kind of kinds) await seqChunk(clients[kind]!, [], s.seqWarmup);
  for (let chunk = 0; chunk < 2 * s.chunks; chunk++) for (const kind of turns(chunk)) await seqChunk(clients[kind]!, latencies[kind], s.seqN);
  const figures = (kind: K): Figures => {
    const sorted = latencies[kind].sort((a, b) => a - b);
    return {
      tell: (s.chunks * s.tellN) / (tellMs[kind] / 1000),
      ask64: (s.chunks * s.askN) / (askMs[kind] / 1000),
      p50: sorted[Math.floor(sorted.length * 0.5)]!,
      p99: sorted[Math.floor(sorted.length * 0.99)]!,
    };
  };
  return Object.fromEntries(kinds.map((kind) => [kind, figures(kind)])) as Partial<Record<K, Figures>>;
}

/**
 * CPU time a process has used so far (user + system, all its threads), in ms; undefined where /proc is not there
 * (not Linux). Its resolution is the kernel's clock tick (10 ms at 100 Hz): sum it over enough work.
 */
export function processCpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}
/** The kernel's clock ticks per second, which /proc/<pid>/stat counts in (100 on Linux's usual builds). */
const CLOCK_TICKS_PER_S = 100;
