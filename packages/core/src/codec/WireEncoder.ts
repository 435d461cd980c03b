// msgpack's Encoder, taught what its options cannot express: `undefined` stays apart from `null` (msgpack
// writes both as nil before any extension is asked), -0 stays -0 (msgpack writes it as the integer 0), and the
// nesting depth is counted across the nested encoders that write extension payloads, so one limit bounds the
// whole message (and a cycle fails fast instead of overflowing the stack).

import { Encoder, type EncoderOptions } from '@msgpack/msgpack';
import { Unencodable } from './Unencodable';

/** Stands in for `undefined` on its way to the extension hook, which writes it as `WireType.Undefined`. */
export const UNDEFINED_MARK: object = Object.freeze(new (class UndefinedMark {})());

/** Shared by all encoders of one codec: the depth, within the whole message, of the value being written. */
export interface DepthTracker {
  depth: number;
}

// Encoder's own steps that we wrap. They are private in its typings, so this is the one place that names
// them; `assertEncoderInternals` turns a msgpack release that renamed them into a clear error.
interface EncoderInternals {
  doEncode(object: unknown, depth: number): void;
  encodeNumberAsFloat(object: number): void;
}
const base = Encoder.prototype as unknown as EncoderInternals;

/** Throws if the installed @msgpack/msgpack lacks the internal steps `WireEncoder` relies on. */
export function assertEncoderInternals(): void {
  if (typeof base.doEncode !== 'function' || typeof base.encodeNumberAsFloat !== 'function') {
    throw new Error('The installed @msgpack/msgpack is not compatible with the Casty codec (Encoder.doEncode is ' +
      'missing); install the @msgpack/msgpack 3.x version that @casty/core declares');
  }
}

/** An Encoder that writes `undefined` and -0 faithfully and enforces a message-wide depth limit. */
export class WireEncoder extends Encoder<undefined> {
  /** Depth, within the whole message, of the value this encoder was asked to write. */
  depthBase = 0;

  constructor(options: EncoderOptions<undefined>, readonly tracker: DepthTracker, readonly depthLimit: number) {
    super(options);
  }
}

(WireEncoder.prototype as unknown as EncoderInternals).doEncode = function doEncode(
  this: WireEncoder, object: unknown, depth: number): void {
  const total = this.depthBase + depth;
  if (total > this.depthLimit) throw new Unencodable(object, 'depth');
  this.tracker.depth = total;
  if (object === undefined) {
    base.doEncode.call(this, UNDEFINED_MARK, depth);
  } else if (object === 0 && 1 / object < 0) {
    base.encodeNumberAsFloat.call(this, object);
  } else {
    base.doEncode.call(this, object, depth);
  }
};
