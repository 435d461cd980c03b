// The codec's encoder: writes msgpack (see wireTypes.ts for the extensions) straight into one reused buffer,
// extension payloads included, in a single pass. A msgpack library's encoder would write each extension's
// payload with a nested encoder and copy it; an encode of a small @message instance cost 7 times a plain
// msgpack encode that way. Everything that depends on the value's kind is decided here, in one switch.
//
// Depth: the message is at level 1, each array, object, Map, Set or error adds a level to what it holds,
// a @message instance adds two (its payload is `[wireName, {fields}]`) and an actor ref's wire form sits one
// level below the ref. A value deeper than maxDepth (or a cycle) stops the encode with `Unencodable`.

import { messageNameOf, type MessageClass } from '../message';
import type { RefHook } from './CodecOptions';
import { bigintToWire } from './scalars';
import { Unencodable } from './Unencodable';
import { errorToParts } from './wireErrors';
import { WireType } from './wireTypes';

/** The limits the codec works within; see `CodecOptions`. */
export interface WireLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
}

const INITIAL_BYTES = 2048;
/** A buffer grown past this (by a large message) is dropped after use, so one message does not pin it. */
const KEEP_BYTES = 1024 * 1024;
/** Strings up to this many UTF-16 units are written by hand when they are ASCII (cheaper than a native call). */
const SHORT_STRING = 48;

const utf8Write = (Buffer.prototype as unknown as {
  utf8Write(this: Uint8Array, text: string, offset: number, length: number): number;
}).utf8Write;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes one message at a time into a reused buffer; see `encode`. */
export class WireWriter {
  /** The bytes written so far: `bytes[0..pos)`. */
  bytes = new Uint8Array(INITIAL_BYTES);
  pos = 0;
  /** Errors being written, to cut a cycle through `cause` or a field. */
  private readonly errorsInProgress = new Set<Error>();

  constructor(private readonly refs: RefHook | undefined, private readonly limits: WireLimits) {}

  /** Writes `value` from the start of the buffer; the bytes are `bytes[0..pos)` until the next call. */
  encode(value: unknown): void {
    if (this.bytes.length > KEEP_BYTES) this.bytes = new Uint8Array(INITIAL_BYTES);
    this.pos = 0;
    if (this.errorsInProgress.size > 0) this.errorsInProgress.clear(); // left over by a failed call
    this.write(value, 1);
  }

  private write(value: unknown, depth: number): void {
    if (depth > this.limits.maxDepth) throw new Unencodable(value, 'depth');
    switch (typeof value) {
      case 'string': return this.writeString(value);
      case 'number': return this.writeNumber(value);
      case 'boolean': return this.byte(value ? 0xc3 : 0xc2);
      case 'undefined': return this.extHeader(WireType.Undefined, 0);
      case 'object':
        if (value === null) return this.byte(0xc0);
        return this.writeObject(value, depth);
      case 'bigint': return this.writeBytesExt(WireType.BigInt, bigintToWire(value));
      default: throw new Unencodable(value, 'value'); // a function or a symbol
    }
  }

  private writeObject(value: object, depth: number): void {
    const prototype = Object.getPrototypeOf(value) as object | null;
    if (prototype === Object.prototype || prototype === null) return this.writeRecord(value as Record<string, unknown>, depth);
    if (prototype === Array.prototype) return this.writeArray(value as unknown[], depth);
    const ctor = (prototype as { constructor?: unknown }).constructor;
    if (ctor === Date) return this.writeDate(value as Date);
    if (ctor === Map) return this.writeMap(value as Map<unknown, unknown>, depth);
    if (ctor === Set) return this.writeSet(value as Set<unknown>, depth);
    if (ctor === Uint8Array) return this.writeBytesExt(WireType.Bytes, value as Uint8Array);
    const refs = this.refs;
    if (refs !== undefined && refs.isRef(value)) {
      // The wire form sits one level below the ref, in case it is itself something written as an extension.
      const start = this.beginExt();
      this.write(refs.toWire(value), depth + 1);
      return this.endExt(start, WireType.ActorRef);
    }
    const name = messageNameOf(ctor as MessageClass);
    if (name !== undefined) return this.writeMessage(name, value, depth);
    if (value instanceof Error) return this.writeError(value, depth);
    if (value instanceof Uint8Array) return this.writeBytesExt(WireType.Bytes, value); // Buffer
    throw new Unencodable(value, 'value');
  }

  /** A @message instance: extension `Message` holding `[wireName, {own enumerable fields}]`. */
  private writeMessage(name: string, instance: object, depth: number): void {
    const start = this.beginExt();
    this.byte(0x92);
    if (depth + 1 > this.limits.maxDepth) throw new Unencodable(name, 'depth');
    this.writeString(name);
    if (depth + 1 > this.limits.maxDepth) throw new Unencodable(instance, 'depth');
    this.writeRecord(instance as Record<string, unknown>, depth + 1);
    this.endExt(start, WireType.Message);
  }

  private writeRecord(record: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(record);
    const count = keys.length;
    if (count < 16) this.byte(0x80 | count);
    else this.lengthHeader(0xde, count);
    for (let i = 0; i < count; i++) {
      const key = keys[i]!;
      this.writeString(key);
      this.write(record[key], depth + 1);
    }
  }

  private writeArray(array: readonly unknown[], depth: number): void {
    const count = array.length;
    this.arrayHeader(count);
    for (let i = 0; i < count; i++) this.write(array[i], depth + 1);
  }

  /** A Map: extension `Map` holding `[k0, v0, k1, v1, ...]`. */
  private writeMap(map: Map<unknown, unknown>, depth: number): void {
    const start = this.beginExt();
    this.arrayHeader(map.size * 2);
    for (const [key, item] of map) {
      this.write(key, depth + 1);
      this.write(item, depth + 1);
    }
    this.endExt(start, WireType.Map);
  }

  /** A Set: extension `Set` holding `[v0, v1, ...]`. */
  private writeSet(set: Set<unknown>, depth: number): void {
    const start = this.beginExt();
    this.arrayHeader(set.size);
    for (const item of set) this.write(item, depth + 1);
    this.endExt(start, WireType.Set);
  }

  private writeDate(date: Date): void {
    this.ensure(10);
    this.bytes[this.pos++] = 0xd7; // fixext 8
    this.bytes[this.pos++] = WireType.Date;
    this.float64At(date.getTime(), this.pos);
    this.pos += 8;
  }

  /** An error: extension `Error` holding its parts; fields (or a cause) that do not encode are left out. */
  private writeError(error: Error, depth: number): void {
    if (this.errorsInProgress.has(error)) throw new Unencodable(error, 'value'); // a cycle: dropped below
    const start = this.pos;
    this.errorsInProgress.add(error);
    try {
      try {
        this.writeErrorParts(errorToParts(error), depth);
      } catch (problem) {
        if (!(problem instanceof Unencodable)) throw problem;
        // An extra field (or the cause) will not encode: send the error without it rather than not at all,
        // since it is most often the rejection of an ask, which must reach the asker.
        this.pos = start;
        const parts = errorToParts(error, (value) => this.encodes(value, depth + 1));
        this.writeErrorParts(parts, depth);
      }
    } finally {
      this.errorsInProgress.delete(error);
    }
  }

  private writeErrorParts(parts: unknown[], depth: number): void {
    const start = this.beginExt();
    this.writeArray(parts, depth); // the parts count at the error's own level, their items one below
    this.endExt(start, WireType.Error);
  }

  /** Whether `value`, sitting at `depth`, encodes; writes nothing either way. */
  private encodes(value: unknown, depth: number): boolean {
    const start = this.pos;
    try {
      this.write(value, depth);
      return true;
    } catch (problem) {
      if (problem instanceof Unencodable) return false;
      throw problem;
    } finally {
      this.pos = start;
    }
  }

  // ---- scalars ----

  private writeNumber(n: number): void {
    if (Number.isSafeInteger(n) && (n !== 0 || 1 / n > 0)) {
      if (n >= 0) {
        if (n < 0x80) return this.byte(n);
        if (n < 0x100) return this.u8(0xcc, n);
        if (n < 0x10000) return this.u16(0xcd, n);
        if (n < 0x100000000) return this.u32(0xce, n);
        return this.u64(0xcf, n);
      }
      if (n >= -0x20) return this.byte(n & 0xff);
      if (n >= -0x80) return this.u8(0xd0, n & 0xff);
      if (n >= -0x8000) return this.u16(0xd1, n & 0xffff);
      if (n >= -0x80000000) return this.u32(0xd2, n >>> 0);
      return this.u64(0xd3, n);
    }
    // Fractions, NaN, ±Infinity, -0 and integers past 2^53 go as float64, so each comes back as it was.
    this.ensure(9);
    this.bytes[this.pos] = 0xcb;
    this.float64At(n, this.pos + 1);
    this.pos += 9;
  }

  private writeString(text: string): void {
    const length = text.length;
    if (length < SHORT_STRING) {
      // Optimistically ASCII: one byte per unit, written by hand.
      this.ensure(2 + length);
      const bytes = this.bytes;
      const header = length < 32 ? 1 : 2;
      const start = this.pos + header;
      let i = 0;
      for (; i < length; i++) {
        const unit = text.charCodeAt(i);
        if (unit >= 0x80) break;
        bytes[start + i] = unit;
      }
      if (i === length) {
        if (header === 1) bytes[this.pos] = 0xa0 | length;
        else {
          bytes[this.pos] = 0xd9;
          bytes[this.pos + 1] = length;
        }
        this.pos = start + length;
        return;
      }
    }
    // At most 3 bytes per UTF-16 unit; written after the largest header it may need, then moved back if the
    // actual length needs a smaller one.
    const most = length * 3;
    const header = most < 32 ? 1 : most < 0x100 ? 2 : most < 0x10000 ? 3 : 5;
    this.ensure(header + most);
    const start = this.pos + header;
    const written = utf8Write.call(this.bytes, text, start, most);
    const needed = written < 32 ? 1 : written < 0x100 ? 2 : written < 0x10000 ? 3 : 5;
    if (needed < header) this.bytes.copyWithin(this.pos + needed, start, start + written);
    if (needed === 1) this.byte(0xa0 | written);
    else if (needed === 2) this.u8(0xd9, written);
    else if (needed === 3) this.u16(0xda, written);
    else this.u32(0xdb, written);
    this.pos += written;
  }

  /** An extension whose payload is `data` as is. */
  private writeBytesExt(type: number, data: Uint8Array): void {
    const start = this.beginExt();
    this.ensure(data.length);
    this.bytes.set(data, this.pos);
    this.pos += data.length;
    this.endExt(start, type);
  }

  // ---- headers ----

  private arrayHeader(count: number): void {
    if (count < 16) this.byte(0x90 | count);
    else this.lengthHeader(0xdc, count);
  }

  /** A 16-bit (`code`) or 32-bit (`code + 1`) length header, for arrays and maps. */
  private lengthHeader(code: number, count: number): void {
    if (count < 0x10000) this.u16(code, count);
    else this.u32(code + 1, count);
  }

  /** An extension with an empty or known-size payload that the caller writes next. */
  private extHeader(type: number, size: number): void {
    this.ensure(3);
    this.bytes[this.pos++] = 0xc7;
    this.bytes[this.pos++] = size;
    this.bytes[this.pos++] = type;
  }

  /** Leaves room for an ext 8 header; the payload follows. Returns where the header starts. */
  private beginExt(): number {
    this.ensure(3);
    const start = this.pos;
    this.pos += 3;
    return start;
  }

  /** Fills in the header left by `beginExt`, moving the payload on when it needs a longer one. */
  private endExt(start: number, type: number): void {
    const size = this.pos - start - 3;
    const bytes = this.bytes;
    if (size < 0x100) {
      bytes[start] = 0xc7;
      bytes[start + 1] = size;
      bytes[start + 2] = type;
      return;
    }
    const extra = size < 0x10000 ? 1 : 3;
    this.ensure(extra);
    const moved = this.bytes;
    moved.copyWithin(start + 3 + extra, start + 3, this.pos);
    this.pos += extra;
    if (extra === 1) {
      moved[start] = 0xc8;
      moved[start + 1] = size >>> 8;
      moved[start + 2] = size & 0xff;
      moved[start + 3] = type;
    } else {
      moved[start] = 0xc9;
      moved[start + 1] = size >>> 24;
      moved[start + 2] = (size >>> 16) & 0xff;
      moved[start + 3] = (size >>> 8) & 0xff;
      moved[start + 4] = size & 0xff;
      moved[start + 5] = type;
    }
  }

  // ---- raw writes ----

  private ensure(count: number): void {
    if (this.pos + count <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.pos + count) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
  }

  private byte(value: number): void {
    if (this.pos >= this.bytes.length) this.ensure(1);
    this.bytes[this.pos++] = value;
  }

  private u8(code: number, value: number): void {
    this.ensure(2);
    this.bytes[this.pos++] = code;
    this.bytes[this.pos++] = value;
  }

  private u16(code: number, value: number): void {
    this.ensure(3);
    const bytes = this.bytes;
    bytes[this.pos++] = code;
    bytes[this.pos++] = value >>> 8;
    bytes[this.pos++] = value & 0xff;
  }

  private u32(code: number, value: number): void {
    this.ensure(5);
    const bytes = this.bytes;
    bytes[this.pos++] = code;
    bytes[this.pos++] = value >>> 24;
    bytes[this.pos++] = (value >>> 16) & 0xff;
    bytes[this.pos++] = (value >>> 8) & 0xff;
    bytes[this.pos++] = value & 0xff;
  }

  /** A safe integer as 64 bits (two's complement when negative). */
  private u64(code: number, value: number): void {
    const high = Math.floor(value / 0x100000000);
    const low = value - high * 0x100000000;
    this.ensure(9);
    const bytes = this.bytes;
    bytes[this.pos++] = code;
    for (const word of [high >>> 0, low >>> 0]) {
      bytes[this.pos++] = word >>> 24;
      bytes[this.pos++] = (word >>> 16) & 0xff;
      bytes[this.pos++] = (word >>> 8) & 0xff;
      bytes[this.pos++] = word & 0xff;
    }
  }

  /** Big-endian float64 at `at` (room already ensured). */
  private float64At(value: number, at: number): void {
    f64[0] = value;
    const bytes = this.bytes;
    if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) bytes[at + i] = f64Bytes[7 - i]!;
    else for (let i = 0; i < 8; i++) bytes[at + i] = f64Bytes[i]!;
  }
}
