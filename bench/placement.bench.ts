// Placement speed: shardOf (entity id -> shard, on every message to an entity) against two baselines in the
// same run, and how long a HashRing takes to build and to fill its shard table.
//
//   npx --yes pnpm@10.34.9 --filter @casty/bench run bench:placement   (= node --import tsx placement.bench.ts)
//
// Against the built packages (npm run build first). Ids: 1,000,000 generated before timing, half short
// (`user-<n>`, 6-12 bytes), half UUID-like (36 bytes). Baselines on the same ids and the same loop:
//   js 31-hash   Java's String.hashCode over UTF-16 units, mod the shard count: about the floor of a JS hash
//                (32 bits, not stable across languages' string encodings, poor spread; not a candidate)
//   md5          node:crypto createHash('md5') of the id, first 4 bytes, mod the shard count (a common choice)
// The three take turns in each round, each after a full garbage collection; figures are medians of ROUNDS rounds after one warm-up round. Then ring
// build time (HashRing.of, DEFAULT_VIRTUAL_NODES tokens per member) and assignment time (the owner of every shard) for 10 and
// 100 members, medians of RING_ROUNDS builds. Not a test: nothing here asserts a speed.

import { createHash } from 'node:crypto';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { DEFAULT_SHARD_COUNT, DEFAULT_VIRTUAL_NODES, HashRing, shardOf } from '@casty/sharding';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RING_ROUNDS = Number(process.env.BENCH_RING_ROUNDS ?? 15);
const IDS = 1_000_000;
const SHARDS = DEFAULT_SHARD_COUNT;

/** Collects garbage before each measurement, so md5's garbage is not collected on shardOf's time. */
const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

function makeIds(): string[] {
  const ids: string[] = [];
  let x = 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x >>> 0;
  };
  const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0').slice(-width);
  for (let i = 0; i < IDS; i++) {
    ids.push(i % 2 === 0 ? `user-${next() % 10_000_000}`
      : `${hex(next(), 8)}-${hex(next(), 4)}-4${hex(next(), 3)}-${hex(next(), 4)}-${hex(next(), 8)}${hex(next(), 4)}`);
  }
  return ids;
}

function javaHash(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) | 0;
  return (h >>> 0) % SHARDS;
}

function md5Shard(id: string): number {
  return createHash('md5').update(id).digest().readUInt32LE(0) % SHARDS;
}

/** Ids hashed per second by `fn` over all ids; the checksum keeps the calls from being optimized away. */
function rate(ids: readonly string[], fn: (id: string) => number): { perSecond: number; checksum: number } {
  const started = performance.now();
  let checksum = 0;
  for (let i = 0; i < ids.length; i++) checksum += fn(ids[i]!);
  return { perSecond: ids.length / ((performance.now() - started) / 1000), checksum };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmtRate = (x: number): string => `${(x / 1e6).toFixed(2)}M/s`;
const fmtMs = (x: number): string => `${x.toFixed(2)} ms`;

function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
}

function hashing(): void {
  const ids = makeIds();
  const fns = { shardOf: (id: string) => shardOf(id, SHARDS), 'js 31-hash': javaHash, md5: md5Shard };
  const samples: Record<string, number[]> = { shardOf: [], 'js 31-hash': [], md5: [] };
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, fn] of Object.entries(fns)) {
      gc();
      const { perSecond, checksum } = rate(ids, fn);
      if (checksum < 0) console.log(checksum);
      if (round > 0) samples[name]!.push(perSecond);
    }
  }
  const ours = median(samples.shardOf!);
  console.log(`\nentity id -> shard (${IDS.toLocaleString('en-US')} ids, ${SHARDS} shards; median of ${ROUNDS} rounds)\n`);
  printTable(['hash', 'ids/s', 'shardOf / this'],
    Object.keys(fns).map((name) => [name === 'shardOf' ? 'shardOf (XXH64)' : name, fmtRate(median(samples[name]!)),
      `${(ours / median(samples[name]!)).toFixed(2)}x`]));
}

function rings(): void {
  const rows: string[][] = [];
  for (const size of [10, 100]) {
    const members = Array.from({ length: size }, (_, i) => `10.0.${i >> 8}.${i & 255}:7946`);
    const builds: number[] = [], tables: number[] = [];
    for (let round = 0; round <= RING_ROUNDS; round++) {
      let started = performance.now();
      const ring = HashRing.of(members);
      const built = performance.now() - started;
      started = performance.now();
      ring.assignment();
      const filled = performance.now() - started;
      if (round > 0) {
        builds.push(built);
        tables.push(filled);
      }
    }
    rows.push([`${size} members`, `${(size * DEFAULT_VIRTUAL_NODES).toLocaleString('en-US')}`, fmtMs(median(builds)), fmtMs(median(tables))]);
  }
  console.log(`\nHashRing, ${DEFAULT_VIRTUAL_NODES} tokens per member, ${SHARDS} shards (median of ${RING_ROUNDS} builds)\n`);
  printTable(['ring', 'tokens', 'HashRing.of', 'assignment()'], rows);
}

console.log(`Casty placement benchmark — node ${process.version}, ${process.platform}/${process.arch}, ` +
  `${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
hashing();
rings();
