// Payloads of the fixed-shape extensions, Date and bigint, which need no nested msgpack.

import { MalformedMessageError } from './errors';

/** 8 bytes: the big-endian float64 of `getTime()`, so millisecond precision and invalid Dates (NaN) survive. */
export function dateToWire(date: Date): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, date.getTime());
  return bytes;
}

export function dateFromWire(data: Uint8Array): Date {
  if (data.byteLength !== 8) throw new MalformedMessageError(`a Date needs 8 bytes, got ${data.byteLength}`);
  return new Date(new DataView(data.buffer, data.byteOffset, 8).getFloat64(0));
}

const MINUS = 0x2d;

/** ASCII hex digits with a leading `-` when negative: any size, and cheap to parse (hex is a power of 2). */
export function bigintToWire(value: bigint): Uint8Array {
  return Buffer.from(value < 0n ? `-${(-value).toString(16)}` : value.toString(16), 'latin1');
}

export function bigintFromWire(data: Uint8Array): bigint {
  const negative = data[0] === MINUS;
  const digits = Buffer.from(data.buffer, data.byteOffset + (negative ? 1 : 0),
    data.byteLength - (negative ? 1 : 0)).toString('latin1');
  if (!/^[0-9a-f]+$/.test(digits)) throw new MalformedMessageError('a bigint payload is not hex digits');
  const magnitude = BigInt(`0x${digits}`);
  return negative ? -magnitude : magnitude;
}
