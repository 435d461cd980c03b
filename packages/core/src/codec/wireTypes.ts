// The msgpack extension type numbers the codec writes. They are part of the wire contract between nodes that
// may run different Casty versions, so this table is ONLY EVER APPENDED TO: never renumber, never reuse a
// retired number (mark it retired instead). msgpack allows 0..127 for applications.

/** Extension type numbers, by what they carry. */
export const WireType = {
  /** `undefined` (msgpack's nil is kept for `null`); empty payload. */
  Undefined: 0,
  /** An instance of a `@message` class: msgpack `[wireName, {own enumerable fields}]`. */
  Message: 1,
  /** A `Map`: msgpack `[k0, v0, k1, v1, ...]`, keys of any type. */
  Map: 2,
  /** A `Set`: msgpack `[v0, v1, ...]`. */
  Set: 3,
  /** A `Date`: 8 bytes, big-endian float64 of `getTime()` (NaN for an invalid Date). */
  Date: 4,
  /** A `bigint`: ASCII hex digits, a leading `-` when negative. */
  BigInt: 5,
  /** An `Error`: msgpack `[name, message, code | null, {extra own fields}]` plus `cause` as a 5th item if set. */
  Error: 6,
  /** An actor ref: msgpack of whatever the `refs` hook's `toWire` returned. */
  ActorRef: 7,
  /** A `Uint8Array` (or Buffer): the raw bytes, copied out on decode so they never alias the input. */
  Bytes: 8,
} as const;

/** One of the numbers in {@link WireType}. */
export type WireTypeNumber = (typeof WireType)[keyof typeof WireType];
