// shardOf and the XXH64 under it: xxHash's own sanity vectors (cli/xsum_sanity_check.c, seeds 0 and PRIME32,
// lengths that take every branch), vectors for strings published with python-xxhash, a BigInt transcription
// of the spec agreeing on random strings of every length up to 100, and argument checks.

import { InvalidArgumentError } from '@casty/core';
import { DEFAULT_SHARD_COUNT, MAX_SHARD_COUNT, shardOf } from '../src';
import { hashHi, hashLo, xxh64Into, xxh64StringInto } from '../src/internal/xxhash64';
import { seededRandom } from '@casty/cluster/testing';

const MASK = (1n << 64n) - 1n;
const PRIME32 = 2654435761;

const lastHash = (): bigint => (BigInt(hashHi()) << 32n) | BigInt(hashLo());

/** xxHash's sanity buffer: byte i is the top byte of PRIME32 * PRIME64^i (mod 2^64). */
function sanityBuffer(length: number): Uint8Array {
  const buffer = new Uint8Array(length);
  let gen = BigInt(PRIME32);
  for (let i = 0; i < length; i++) {
    buffer[i] = Number(gen >> 56n);
    gen = (gen * 11400714785074694797n) & MASK;
  }
  return buffer;
}

/** XXH64 as the spec writes it, in BigInt: slow and plain, to check the 32-bit-halves version against. */
function referenceXxh64(bytes: Uint8Array, seed = 0n): bigint {
  const P1 = 0x9e3779b185ebca87n, P2 = 0xc2b2ae3d27d4eb4fn, P3 = 0x165667b19e3779f9n, P4 = 0x85ebca77c2b2ae63n, P5 = 0x27d4eb2f165667c5n;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & MASK;
  const round = (acc: bigint, input: bigint) => (rotl((acc + input * P2) & MASK, 31n) * P1) & MASK;
  const merge = (acc: bigint, v: bigint) => (((acc ^ round(0n, v)) * P1) + P4) & MASK;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 0, h: bigint;
  if (bytes.length >= 32) {
    const v = [(seed + P1 + P2) & MASK, (seed + P2) & MASK, seed, (seed - P1) & MASK];
    for (; i + 32 <= bytes.length; i += 32) for (let k = 0; k < 4; k++) v[k] = round(v[k]!, view.getBigUint64(i + 8 * k, true));
    h = (rotl(v[0]!, 1n) + rotl(v[1]!, 7n) + rotl(v[2]!, 12n) + rotl(v[3]!, 18n)) & MASK;
    for (const lane of v) h = merge(h, lane);
  } else {
    h = (seed + P5) & MASK;
  }
  h = (h + BigInt(bytes.length)) & MASK;
  for (; i + 8 <= bytes.length; i += 8) h = ((rotl(h ^ round(0n, view.getBigUint64(i, true)), 27n) * P1) + P4) & MASK;
  if (i + 4 <= bytes.length) {
    h = ((rotl(h ^ ((BigInt(view.getUint32(i, true)) * P1) & MASK), 23n) * P2) + P3) & MASK;
    i += 4;
  }
  for (; i < bytes.length; i++) h = (rotl(h ^ ((BigInt(bytes[i]!) * P5) & MASK), 11n) * P1) & MASK;
  h = ((h ^ (h >> 33n)) * P2) & MASK;
  h = ((h ^ (h >> 29n)) * P3) & MASK;
  return h ^ (h >> 32n);
}

test.each([
  [0, 0, 0xef46db3751d8e999n],
  [0, PRIME32, 0xac75fda2929b17efn],
  [1, 0, 0xe934a84adb052768n],
  [1, PRIME32, 0x5014607643a9b4c3n],
  [4, 0, 0x9136a0dca57457een],
  [14, 0, 0x8282dcc4994e35c8n],
  [14, PRIME32, 0xc3bd6bf63deb6df0n],
  [222, 0, 0xb641ae8cb691c174n],
  [222, PRIME32, 0x20cb8ab7ae10c14an],
])('XXH64 of xxHash\'s sanity buffer, %i bytes, seed %i', (length, seed, expected) => {
  xxh64Into(sanityBuffer(length), length, 0, seed);
  expect(lastHash().toString(16)).toBe(expected.toString(16));
  expect(referenceXxh64(sanityBuffer(length), BigInt(seed))).toBe(expected);
});

test.each([
  ['', 0xef46db3751d8e999n],
  ['a', 0xd24ec4f1a98c6e5bn],
  ['abc', 0x44bc2cf5ad770999n],
  ['Nobody inspects the spammish repetition', 0xfbcea83c8a378bf1n],
])('XXH64 of the UTF-8 of %p', (text, expected) => {
  xxh64StringInto(text);
  expect(lastHash().toString(16)).toBe(expected.toString(16));
});

test('agrees with the BigInt transcription on random strings of 0 to 100 characters, ASCII and not', () => {
  const random = seededRandom(7);
  const alphabet = ['a', 'Z', '0', '-', ':', '#', 'é', 'ß', '中', '😀', '\u0000', '\uffff'];
  for (let length = 0; length <= 100; length++) {
    for (let rep = 0; rep < 5; rep++) {
      const ascii = rep % 2 === 0;
      let text = '';
      while (text.length < length) text += ascii ? String.fromCharCode(32 + Math.floor(random() * 95)) : alphabet[Math.floor(random() * alphabet.length)]!;
      xxh64StringInto(text);
      expect([text, lastHash()]).toEqual([text, referenceXxh64(Buffer.from(text, 'utf8'))]);
    }
  }
});

test('shardOf is the XXH64 of the id modulo the shard count, as an unsigned 64-bit number', () => {
  const random = seededRandom(11);
  for (let i = 0; i < 2_000; i++) {
    const id = `user-${Math.floor(random() * 1e12)}${i % 3 === 0 ? 'ü' : ''}`;
    const count = [1, 2, 7, 1024, 1000, 65_537, MAX_SHARD_COUNT][i % 7]!;
    expect(shardOf(id, count)).toBe(Number(referenceXxh64(Buffer.from(id, 'utf8')) % BigInt(count)));
  }
  // Fixed values: a change here would move the entities of every running cluster.
  expect(['alice', 'bob', 'user-123', '', 'Ölçü', 'player:42'].map((id) => shardOf(id, DEFAULT_SHARD_COUNT)))
    .toEqual([73, 59, 2761, 2457, 450, 36]);
  expect(shardOf('', 1024)).toBe(Number(0xef46db3751d8e999n % 1024n));
  expect(shardOf('abc', 1000)).toBe(Number(0x44bc2cf5ad770999n % 1000n));
});

test('spreads ids evenly over the shards', () => {
  const counts = new Array<number>(DEFAULT_SHARD_COUNT).fill(0);
  const ids = DEFAULT_SHARD_COUNT * 200;
  for (let i = 0; i < ids; i++) counts[shardOf(`entity-${i}`, DEFAULT_SHARD_COUNT)]!++;
  // 200 per shard on average; binomial standard deviation ~14, so 5 deviations is a wide, still meaningful bound.
  expect(Math.max(...counts)).toBeLessThan(200 + 5 * 14);
  expect(Math.min(...counts)).toBeGreaterThan(200 - 5 * 14);
});

test('rejects a non-string id and a shard count that is not an integer from 1 to MAX_SHARD_COUNT, naming them', () => {
  expect(() => shardOf(42 as unknown as string, 1024)).toThrow(InvalidArgumentError);
  expect(() => shardOf(42 as unknown as string, 1024)).toThrow(/entityId must be a string, got 42/);
  for (const bad of [0, -1, 1.5, NaN, Infinity, MAX_SHARD_COUNT + 1, '1024' as unknown as number]) {
    expect(() => shardOf('a', bad)).toThrow(InvalidArgumentError);
    expect(() => shardOf('a', bad)).toThrow(/shardOf: shardCount must be an integer from 1 to 1048576/);
  }
  try {
    shardOf('a', 0);
  } catch (err) {
    expect((err as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
  }
});
