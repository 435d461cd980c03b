// XXH64 (Yann Collet's xxHash, 64-bit variant, as specified in xxHash's doc/xxhash_spec.md) over bytes, in
// 32-bit halves: no BigInt, no allocation per call, because shardOf runs for every message sent to an entity.
// A 64-bit value is a pair (hi, lo) of 32-bit words, held as int32s (bit patterns: signedness does not matter
// to xor, shifts and Math.imul, and an int32 never needs a heap number, where a uint32 above 2^31 stored in a
// module variable would allocate one). The helpers leave their result in the registers `rh`/`rl` instead of
// returning an object. Checked against xxHash's own sanity vectors (xsum_sanity_check.c).

/** High and low words of the last helper's 64-bit result, and of the last hash (int32 bit patterns). */
let rh = 0;
let rl = 0;

// The five 64-bit primes of the spec, as (hi, lo).
const P1H = 0x9e3779b1 | 0, P1L = 0x85ebca87 | 0;
const P2H = 0xc2b2ae3d | 0, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9 | 0;
const P4H = 0x85ebca77 | 0, P4L = 0xc2b2ae63 | 0;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

/**
 * r = a * b mod 2^64: the low words' full product from 16-bit pieces (each below 2^32, so integer-exact),
 * plus the two cross products' low halves (Math.imul) in the high word.
 */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const p10 = a1 * b0, p01 = a0 * b1;
  const carry = (((a0 * b0) >>> 16) + (p10 & 0xffff) + (p01 & 0xffff)) >>> 16;
  rl = Math.imul(al, bl);
  rh = (a1 * b1 + (p10 >>> 16) + (p01 >>> 16) + carry + Math.imul(ah, bl) + Math.imul(al, bh)) | 0;
}

/** r = a + b mod 2^64. */
function add(ah: number, al: number, bh: number, bl: number): void {
  const low = (al + bl) | 0;
  rl = low;
  rh = (ah + bh + ((low >>> 0) < (al >>> 0) ? 1 : 0)) | 0; // the unsigned sum wrapped: carry one
}

/** r = rotate-left(a, n) for 0 < n < 32 (every rotation XXH64 uses). */
function rotl(ah: number, al: number, n: number): void {
  rh = (ah << n) | (al >>> (32 - n));
  rl = (al << n) | (ah >>> (32 - n));
}

/** r = round(acc, input) = rotl(acc + input * P2, 31) * P1. */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2H, P2L);
  add(acch, accl, rh, rl);
  rotl(rh, rl, 31);
  mul(rh, rl, P1H, P1L);
}

/** r = (acc ^ round(0, v)) * P1 + P4: folds one of the four lane accumulators into the result. */
function mergeRound(acch: number, accl: number, vh: number, vl: number): void {
  round(0, 0, vh, vl);
  mul(acch ^ rh, accl ^ rl, P1H, P1L);
  add(rh, rl, P4H, P4L);
}

function read32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/**
 * XXH64 of `bytes[0, length)` with the seed (seedHi, seedLo). The hash is left in `hashHi()`/`hashLo()`
 * (read them before the next call).
 */
export function xxh64Into(bytes: Uint8Array, length: number, seedHi = 0, seedLo = 0): void {
  let i = 0;
  let h: number, l: number;
  if (length >= 32) {
    add(seedHi, seedLo, P1H, P1L); add(rh, rl, P2H, P2L);
    let v1h = rh, v1l = rl;
    add(seedHi, seedLo, P2H, P2L);
    let v2h = rh, v2l = rl;
    let v3h = seedHi, v3l = seedLo;
    add(seedHi, seedLo, ~P1H, ~P1L); add(rh, rl, 0, 1); // seed - P1 = seed + ~P1 + 1
    let v4h = rh, v4l = rl;
    for (const limit = length - 32; i <= limit; i += 32) {
      round(v1h, v1l, read32(bytes, i + 4), read32(bytes, i)); v1h = rh; v1l = rl;
      round(v2h, v2l, read32(bytes, i + 12), read32(bytes, i + 8)); v2h = rh; v2l = rl;
      round(v3h, v3l, read32(bytes, i + 20), read32(bytes, i + 16)); v3h = rh; v3l = rl;
      round(v4h, v4l, read32(bytes, i + 28), read32(bytes, i + 24)); v4h = rh; v4l = rl;
    }
    rotl(v1h, v1l, 1); h = rh; l = rl;
    rotl(v2h, v2l, 7); add(h, l, rh, rl); h = rh; l = rl;
    rotl(v3h, v3l, 12); add(h, l, rh, rl); h = rh; l = rl;
    rotl(v4h, v4l, 18); add(h, l, rh, rl); h = rh; l = rl;
    mergeRound(h, l, v1h, v1l); mergeRound(rh, rl, v2h, v2l);
    mergeRound(rh, rl, v3h, v3l); mergeRound(rh, rl, v4h, v4l);
    h = rh; l = rl;
  } else {
    add(seedHi, seedLo, P5H, P5L);
    h = rh; l = rl;
  }
  add(h, l, 0, length); // length < 2^32 here
  h = rh; l = rl;
  for (; i + 8 <= length; i += 8) {
    round(0, 0, read32(bytes, i + 4), read32(bytes, i));
    rotl(h ^ rh, l ^ rl, 27);
    mul(rh, rl, P1H, P1L); add(rh, rl, P4H, P4L);
    h = rh; l = rl;
  }
  if (i + 4 <= length) {
    mul(0, read32(bytes, i), P1H, P1L);
    rotl(h ^ rh, l ^ rl, 23);
    mul(rh, rl, P2H, P2L); add(rh, rl, P3H, P3L);
    h = rh; l = rl;
    i += 4;
  }
  for (; i < length; i++) {
    mul(0, bytes[i]!, P5H, P5L);
    rotl(h ^ rh, l ^ rl, 11);
    mul(rh, rl, P1H, P1L);
    h = rh; l = rl;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  mul(h, l ^ (h >>> 1), P2H, P2L);
  h = rh; l = rl;
  mul(h ^ (h >>> 29), l ^ ((h << 3) | (l >>> 29)), P3H, P3L);
  h = rh; l = rl;
  rh = h;
  rl = l ^ h;
}

/** High 32 bits of the last hash, as a uint32. */
export function hashHi(): number {
  return rh >>> 0;
}

/** Low 32 bits of the last hash, as a uint32. */
export function hashLo(): number {
  return rl >>> 0;
}

// -------------------------------------------------------------------------------------- strings

/** Scratch for UTF-8 bytes; grows to the longest string hashed so far (3 bytes per UTF-16 unit at most). */
let scratch = new Uint8Array(256);
const utf8 = new TextEncoder();

/**
 * XXH64 (seed 0) of the UTF-8 bytes of `text`, left in `hashHi()`/`hashLo()`. ASCII is copied byte by byte
 * (most ids); anything else goes through TextEncoder, so a lone surrogate hashes as U+FFFD, as Buffer does.
 */
export function xxh64StringInto(text: string): void {
  const units = text.length;
  if (scratch.length < units * 3) scratch = new Uint8Array(units * 3);
  let i = 0;
  for (; i < units; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) break;
    scratch[i] = c;
  }
  const length = i === units ? units : utf8.encodeInto(text, scratch).written;
  xxh64Into(scratch, length);
}
