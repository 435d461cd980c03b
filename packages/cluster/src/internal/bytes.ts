// A small big-endian binary writer and reader for the membership and gossip messages. Hand-rolled rather
// than msgpack: the fields are few and fixed, every byte counts when updates are packed into a 1400-byte
// probe, and a message's exact size is known before it is packed.

import { MalformedMessageError } from '@casty/core';
import type { NodeAddress } from '../transport/Transport';

/** Largest string a message carries, in UTF-8 bytes (u16 length prefix). */
export const MAX_STRING_BYTES = 0xffff;

/** Appends fields to a growing buffer. */
export class ByteWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialBytes = 64) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  u8(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value;
    return this;
  }

  u16(value: number): this {
    this.reserve(2);
    this.buffer.writeUInt16BE(value, this.length);
    this.length += 2;
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    this.buffer.writeUInt32BE(value >>> 0, this.length);
    this.length += 4;
    return this;
  }

  /** A u16 byte length and the UTF-8 bytes; throws MalformedMessageError past MAX_STRING_BYTES. */
  str(value: string): this {
    const bytes = Buffer.byteLength(value);
    if (bytes > MAX_STRING_BYTES) {
      throw new MalformedMessageError(`a string of ${bytes} bytes is over the ${MAX_STRING_BYTES}-byte limit of membership messages`);
    }
    this.u16(bytes);
    this.reserve(bytes);
    this.buffer.write(value, this.length, 'utf8');
    this.length += bytes;
    return this;
  }

  /** A u32 byte length and the bytes. */
  bytes(value: Uint8Array): this {
    this.u32(value.length);
    this.raw(value);
    return this;
  }

  /** The bytes as they are, without a length. */
  raw(value: Uint8Array): this {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  address(value: NodeAddress): this {
    return this.str(value.host).u16(value.port);
  }

  /** The bytes written (a copy-free view; the writer must not be used afterwards). */
  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
}

/** Reads fields in order; throws MalformedMessageError when the bytes end inside a field. */
export class ByteReader {
  private readonly view: Buffer;
  private offset = 0;

  constructor(bytes: Uint8Array, private readonly what: string) {
    this.view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** True when every byte has been read. */
  get done(): boolean {
    return this.offset >= this.view.length;
  }

  u8(): number {
    this.need(1);
    return this.view[this.offset++] as number;
  }

  u16(): number {
    this.need(2);
    const value = this.view.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.view.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  str(): string {
    const length = this.u16();
    this.need(length);
    const value = this.view.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** A u32-length-prefixed byte string, copied (the frame's buffer is not kept alive by it). */
  bytes(): Uint8Array {
    const length = this.u32();
    this.need(length);
    const value = Uint8Array.prototype.slice.call(this.view, this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  address(): NodeAddress {
    return { host: this.str(), port: this.u16() };
  }

  /** Throws a MalformedMessageError for `reason`, naming what was being read. */
  fail(reason: string): never {
    throw new MalformedMessageError(`${this.what}: ${reason}`);
  }

  private need(bytes: number): void {
    if (this.offset + bytes > this.view.length) {
      this.fail(`${this.view.length} bytes end inside a field at offset ${this.offset}`);
    }
  }
}

/** `parts` concatenated into one buffer. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/**
 * Groups `items` (each already encoded) into chunks whose total stays within `budget` bytes after
 * `headerBytes` each; an item larger than a whole chunk goes alone (the caller decides whether that is an error).
 */
export function chunkBySize(items: readonly Uint8Array[], headerBytes: number, budget: number): Uint8Array[][] {
  const chunks: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let used = headerBytes;
  for (const item of items) {
    if (current.length > 0 && used + item.length > budget) {
      chunks.push(current);
      current = [];
      used = headerBytes;
    }
    current.push(item);
    used += item.length;
  }
  if (current.length > 0 || chunks.length === 0) chunks.push(current);
  return chunks;
}
