// The codec's decoder: reads what WireWriter writes (any msgpack, in fact) in one recursive pass over the
// input, extension payloads included, in place: no nested decoder and no copy of a payload. Field names and
// @message wire names are looked up in a small cache instead of being decoded from UTF-8 each time, and a
// message's fields are assigned straight onto its instance.
//
// Garbage never makes it allocate more than the input holds: every length is checked against the bytes left
// before anything is built. Every failure is a MalformedMessageError (or UnknownMessageClassError).

import { messageClassOf } from '../message';
import type { RefHook } from './CodecOptions';
import { MalformedMessageError, UnknownMessageClassError } from './errors';
import { planOf, restoreMessage } from './messageInstances';
import { bigintFromWire } from './scalars';
import { errorFromParts } from './wireErrors';
import { WireType } from './wireTypes';
import type { WireLimits } from './WireWriter';

const EMPTY = new Uint8Array(0);
const NOT_A_PAIR = 'a message payload is not [wireName, fields]';

const utf8Slice = (Buffer.prototype as unknown as {
  utf8Slice(this: Uint8Array, start: number, end: number): string;
}).utf8Slice;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads one message at a time; see `decode`. */
export class WireReader {
  private bytes: Uint8Array = EMPTY;
  private pos = 0;
  /** Where the value being read must end: the input's end, or the end of the extension payload it is in. */
  private end = 0;

  constructor(private readonly refs: RefHook | undefined, private readonly limits: WireLimits) {}

  /** The value encoded in `bytes`, which must hold exactly one. Keeps no reference to `bytes`. */
  decode(bytes: Uint8Array): unknown {
    this.bytes = bytes;
    this.pos = 0;
    this.end = bytes.length;
    try {
      const value = this.read(1);
      if (this.pos !== this.end) throw malformed(`${this.end - this.pos} bytes follow the value`);
      return value;
    } finally {
      this.bytes = EMPTY;
    }
  }

  private read(depth: number): unknown {
    if (depth > this.limits.maxDepth) {
      throw malformed(`values are nested deeper than maxDepth (${this.limits.maxDepth})`);
    }
    if (this.pos >= this.end) throw truncated();
    const head = this.bytes[this.pos++]!;
    if (head < 0x80) return head;
    if (head >= 0xe0) return head - 0x100;
    if (head < 0x90) return this.readRecord(head & 0x0f, depth);
    if (head < 0xa0) return this.readArray(head & 0x0f, depth);
    if (head < 0xc0) return this.readString(head & 0x1f);
    switch (head) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.readBinary(this.u8());
      case 0xc5: return this.readBinary(this.u16());
      case 0xc6: return this.readBinary(this.u32());
      case 0xc7: return this.readExt(this.u8(), depth);
      case 0xc8: return this.readExt(this.u16(), depth);
      case 0xc9: return this.readExt(this.u32(), depth);
      case 0xca: return this.float32();
      case 0xcb: return this.float64();
      case 0xcc: return this.u8();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xcf: return this.u32() * 0x100000000 + this.u32();
      case 0xd0: return (this.u8() << 24) >> 24;
      case 0xd1: return (this.u16() << 16) >> 16;
      case 0xd2: return this.u32() | 0;
      case 0xd3: return (this.u32() | 0) * 0x100000000 + this.u32();
      case 0xd4: return this.readExt(1, depth);
      case 0xd5: return this.readExt(2, depth);
      case 0xd6: return this.readExt(4, depth);
      case 0xd7: return this.readExt(8, depth);
      case 0xd8: return this.readExt(16, depth);
      case 0xd9: return this.readString(this.u8());
      case 0xda: return this.readString(this.u16());
      case 0xdb: return this.readString(this.u32());
      case 0xdc: return this.readArray(this.u16(), depth);
      case 0xdd: return this.readArray(this.u32(), depth);
      case 0xde: return this.readRecord(this.u16(), depth);
      case 0xdf: return this.readRecord(this.u32(), depth);
      default: throw malformed(`byte 0x${head.toString(16)} does not start a msgpack value`);
    }
  }

  private readArray(count: number, depth: number): unknown[] {
    if (count > this.end - this.pos) throw claims(count, 'array items', this.end - this.pos);
    const array = new Array<unknown>(count);
    for (let i = 0; i < count; i++) array[i] = this.read(depth + 1);
    return array;
  }

  private readRecord(count: number, depth: number): Record<string, unknown> {
    if (count * 2 > this.end - this.pos) throw claims(count, 'map entries', this.end - this.pos);
    const record: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const key = this.readKey(depth);
      record[key] = this.read(depth + 1);
    }
    return record;
  }

  /** A map key: a string (cached), or a number (as a property name). */
  private readKey(depth: number): string {
    const key = this.readCachedString();
    if (key !== undefined) {
      if (key === '__proto__') throw malformed('a map has the key __proto__');
      return key;
    }
    const other = this.read(depth + 1);
    if (typeof other !== 'number') throw malformed(`a map key is a ${other === null ? 'null' : typeof other}, not a string`);
    return String(other);
  }

  /** The string at `pos` through the key cache, or undefined (nothing read) when no string is there. */
  private readCachedString(): string | undefined {
    if (this.pos >= this.end) throw truncated();
    const head = this.bytes[this.pos]!;
    let length: number;
    if (head >= 0xa0 && head < 0xc0) {
      this.pos++;
      length = head & 0x1f;
    } else if (head === 0xd9) {
      this.pos++;
      length = this.u8();
    } else if (head === 0xda || head === 0xdb) {
      this.pos++;
      length = head === 0xda ? this.u16() : this.u32();
    } else {
      return undefined;
    }
    if (length > this.end - this.pos) throw truncated();
    const start = this.pos;
    this.pos = start + length;
    return length <= MAX_CACHED_BYTES ? cachedString(this.bytes, start, length) : utf8Slice.call(this.bytes, start, start + length);
  }

  private readString(length: number): string {
    if (length > this.end - this.pos) throw truncated();
    const start = this.pos;
    this.pos = start + length;
    if (length === 0) return '';
    return length <= MAX_INTERNED_BYTES ? internedString(this.bytes, start, length) : utf8Slice.call(this.bytes, start, start + length);
  }

  /** msgpack bin (Casty writes Uint8Array as an extension, but accepts this too): a copy. */
  private readBinary(length: number): Uint8Array {
    if (length > this.end - this.pos) throw truncated();
    // a copy (the decoded value must not alias the frame it came in); slice of a plain view allocates without
    // zeroing first, which took half as long as new Uint8Array + set for the 10 KiB states of a replica transfer
    const bytes = this.bytes;
    const copy = new Uint8Array(bytes.buffer, bytes.byteOffset + this.pos, length).slice();
    this.pos += length;
    return copy;
  }

  /** An extension of `size` payload bytes; its type byte comes first. */
  private readExt(size: number, depth: number): unknown {
    const rawType = this.u8();
    if (size > this.end - this.pos) throw truncated();
    const start = this.pos;
    const stop = start + size;
    const outerEnd = this.end;
    this.end = stop;
    let value: unknown;
    switch (rawType) {
      case WireType.Undefined:
        this.pos = stop;
        value = undefined;
        break;
      case WireType.Message: value = this.readMessage(depth); break;
      case WireType.Map: value = this.readMap(depth); break;
      case WireType.Set: value = new Set(this.readPayloadArray('Set', depth)); break;
      case WireType.Date: value = this.readDate(size); break;
      case WireType.BigInt:
        value = bigintFromWire(this.bytes.subarray(start, stop));
        this.pos = stop;
        break;
      case WireType.Error: value = errorFromParts(this.read(depth)); break;
      case WireType.ActorRef: value = this.readRef(depth); break;
      case WireType.Bytes: value = this.readBinary(size); break;
      default: {
        const type = rawType > 127 ? rawType - 256 : rawType;
        throw malformed(`unknown extension type ${type} (a newer Casty version may have sent it)`);
      }
    }
    if (this.pos !== stop) throw malformed(`an extension of type ${rawType} has ${stop - this.pos} bytes after its value`);
    this.end = outerEnd;
    return value;
  }

  /** The payload of a @message instance, `[wireName, {fields}]`: the fields go straight onto the instance. */
  private readMessage(depth: number): object {
    if (this.arrayHeader() !== 2) return this.misshapen(NOT_A_PAIR, depth);
    const name = this.readCachedString();
    if (name === undefined) throw malformed(NOT_A_PAIR);
    const count = this.mapHeader();
    if (count < 0) throw malformed(NOT_A_PAIR);
    const cls = messageClassOf(name);
    if (cls === undefined) {
      this.readRecord(count, depth + 1); // a corrupt payload is reported as such first
      throw new UnknownMessageClassError(name);
    }
    const plan = planOf(cls);
    if (plan.classLevel) return restoreMessage(cls, this.readRecord(count, depth + 1));
    if (count * 2 > this.end - this.pos) throw claims(count, 'map entries', this.end - this.pos);
    const instance = Object.create(plan.prototype) as Record<string, unknown>;
    for (let i = 0; i < count; i++) {
      const key = this.readKey(depth + 1);
      if (plan.kindOf(key) !== 'plain') {
        // A class-transformer decorator has a say on this field: gather all fields and let it decide.
        const fields: Record<string, unknown> = { ...instance };
        fields[key] = this.read(depth + 2);
        for (i++; i < count; i++) {
          const next = this.readKey(depth + 1);
          fields[next] = this.read(depth + 2);
        }
        return restoreMessage(cls, fields);
      }
      instance[key] = this.read(depth + 2);
    }
    return instance;
  }

  private readMap(depth: number): Map<unknown, unknown> {
    const count = this.arrayHeader();
    if (count < 0) return this.misshapen('a Map payload is not an array', depth);
    if (count % 2 !== 0) throw malformed('a Map payload has an odd number of items');
    if (count > this.end - this.pos) throw claims(count, 'array items', this.end - this.pos);
    const map = new Map<unknown, unknown>();
    for (let i = 0; i < count; i += 2) {
      const key = this.read(depth + 1);
      map.set(key, this.read(depth + 1));
    }
    return map;
  }

  private readPayloadArray(what: string, depth: number): unknown[] {
    const count = this.arrayHeader();
    if (count < 0) return this.misshapen(`a ${what} payload is not an array`, depth);
    return this.readArray(count, depth);
  }

  /**
   * Fails an extension payload of the wrong shape, after reading what it holds one level deeper: so a payload
   * nesting further extensions fails at maxDepth, not by exhausting the stack.
   */
  private misshapen(reason: string, depth: number): never {
    if (this.pos < this.end) this.read(depth + 1);
    throw malformed(reason);
  }

  private readDate(size: number): Date {
    if (size !== 8) throw malformed(`a Date needs 8 bytes, got ${size}`);
    return new Date(this.float64());
  }

  private readRef(depth: number): unknown {
    if (this.refs === undefined) {
      throw malformed('it holds an actor ref, but this codec has no refs hook to rebuild it; ' +
        'give the Codec the same refs option on every node');
    }
    return this.refs.fromWire(this.read(depth + 1));
  }

  // ---- headers and raw reads ----

  /** The item count of the array header at `pos` (consumed), or -1 (nothing consumed) if there is none. */
  private arrayHeader(): number {
    return this.header(0x90, 0xdc);
  }

  /** Like `arrayHeader`, for a map. */
  private mapHeader(): number {
    return this.header(0x80, 0xde);
  }

  /** A container header: fix form `fixCode | count`, else `code16` / `code16 + 1` with a 16 / 32-bit count. */
  private header(fixCode: number, code16: number): number {
    if (this.pos >= this.end) throw truncated();
    const head = this.bytes[this.pos]!;
    if (head >= fixCode && head < fixCode + 16) {
      this.pos++;
      return head & 0x0f;
    }
    if (head === code16 || head === code16 + 1) {
      this.pos++;
      return head === code16 ? this.u16() : this.u32();
    }
    return -1;
  }

  private u8(): number {
    if (this.pos >= this.end) throw truncated();
    return this.bytes[this.pos++]!;
  }

  private u16(): number {
    if (this.pos + 2 > this.end) throw truncated();
    const bytes = this.bytes;
    const value = (bytes[this.pos]! << 8) | bytes[this.pos + 1]!;
    this.pos += 2;
    return value;
  }

  private u32(): number {
    if (this.pos + 4 > this.end) throw truncated();
    const bytes = this.bytes;
    const at = this.pos;
    this.pos = at + 4;
    return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  }

  private float64(): number {
    this.readFloat(f64Bytes);
    return f64[0]!;
  }

  private float32(): number {
    this.readFloat(f32Bytes);
    return f32[0]!;
  }

  /** Copies a big-endian float's bytes into `scratch` (the bytes of a Float64Array or Float32Array) in host order. */
  private readFloat(scratch: Uint8Array): void {
    const size = scratch.length;
    if (this.pos + size > this.end) throw truncated();
    const bytes = this.bytes;
    const at = this.pos;
    if (LITTLE_ENDIAN) for (let i = 0; i < size; i++) scratch[size - 1 - i] = bytes[at + i]!;
    else for (let i = 0; i < size; i++) scratch[i] = bytes[at + i]!;
    this.pos = at + size;
  }
}

// ---- the string cache for field names and wire names ----

const MAX_CACHED_BYTES = 64;
const ENTRIES_PER_LENGTH = 16;

interface CachedString {
  readonly bytes: Uint8Array;
  readonly value: string;
}

/** By byte length: the strings of that length seen last (at most ENTRIES_PER_LENGTH). */
const cache: CachedString[][] = Array.from({ length: MAX_CACHED_BYTES + 1 }, () => []);
let evictions = 0;

/** The string of `bytes[start..start+length)`, from the cache when it was seen before. */
function cachedString(bytes: Uint8Array, start: number, length: number): string {
  const bucket = cache[length]!;
  search: for (let e = 0; e < bucket.length; e++) {
    const entry = bucket[e]!;
    const known = entry.bytes;
    for (let i = 0; i < length; i++) if (known[i] !== bytes[start + i]) continue search;
    return entry.value;
  }
  const value = utf8Slice.call(bytes, start, start + length);
  const copy = new Uint8Array(length); // not bytes.slice: on a Buffer that is a view, which would pin the input
  for (let i = 0; i < length; i++) copy[i] = bytes[start + i]!;
  const entry = { bytes: copy, value };
  if (bucket.length < ENTRIES_PER_LENGTH) bucket.push(entry);
  else bucket[evictions++ % ENTRIES_PER_LENGTH] = entry;
  return value;
}

// ---- the intern table for short string values ----

// Short string values repeat: entity ids, enum-like fields, node ids. Decoding UTF-8 is a native call (~70 ns for
// ten bytes), and a fresh string has its hash computed again by every Map it is looked up in. A string seen
// recently comes back as the same object instead: found by a hash of its bytes, confirmed by comparing them with
// its characters (ASCII only, where a byte is a character). A miss costs the hash loop; nothing is copied.

const MAX_INTERNED_BYTES = 32;
const INTERN_SLOTS = 1024; // a power of two
const interned: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);

/**
 * The UTF-8 string of `bytes[start..start+length)`: a recently seen short ASCII string comes back as the same
 * object (see above), anything else is decoded. For the cluster's envelope headers too (entity ids).
 */
export function internUtf8(bytes: Uint8Array, start: number, length: number): string {
  if (length === 0) return '';
  return length <= MAX_INTERNED_BYTES ? internedString(bytes, start, length) : utf8Slice.call(bytes, start, start + length);
}

function internedString(bytes: Uint8Array, start: number, length: number): string {
  const end = start + length;
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte > 0x7f) return utf8Slice.call(bytes, start, end);
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  const slot = (hash ^ (hash >>> 15)) & (INTERN_SLOTS - 1);
  const known = interned[slot];
  if (known !== undefined && known.length === length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (known.charCodeAt(i) !== bytes[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return known;
  }
  const value = utf8Slice.call(bytes, start, end);
  interned[slot] = value;
  return value;
}

function malformed(reason: string): MalformedMessageError {
  return new MalformedMessageError(reason);
}

function truncated(): MalformedMessageError {
  return new MalformedMessageError('the bytes end inside a value (truncated)');
}

function claims(count: number, what: string, left: number): MalformedMessageError {
  return new MalformedMessageError(`a length field claims ${count} ${what}, more than the ${left} bytes left`);
}
