// The codec's msgpack extension hook. For every value msgpack does not write natively it picks the extension
// that carries it (see WireType) and writes the payload with a nested encoder; it reads them back the same way.
// One instance per Codec holds the nested encoders and decoders, one per nesting level, so nothing is
// allocated per call but the payloads themselves.

import { Decoder, ExtData, type ExtensionCodecType } from '@msgpack/msgpack';
import { messageClassOf, messageNameOf, type MessageClass } from '../message';
import type { RefHook } from './CodecOptions';
import { MalformedMessageError, UnknownMessageClassError } from './errors';
import { restoreMessage } from './messageInstances';
import { bigintFromWire, bigintToWire, dateFromWire, dateToWire } from './scalars';
import { Unencodable } from './Unencodable';
import { UNDEFINED_MARK, WireEncoder, type DepthTracker } from './WireEncoder';
import { errorFromParts, errorToParts } from './wireErrors';
import { WireType } from './wireTypes';

const UNDEFINED_EXT = new ExtData(WireType.Undefined, new Uint8Array(0));

/** The limits the codec works within; see `CodecOptions`. */
export interface WireLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
}

/** msgpack's extension hook for one Codec, and the owner of its encoders and decoders. */
export class WireExtensions implements ExtensionCodecType<undefined>, DepthTracker {
  /** Depth, in the whole message, of the value being encoded (kept up to date by every WireEncoder). */
  depth = 0;
  private encodeLevel = 0;
  private decodeLevel = 0;
  /** The @message instance whose fields are being written as a plain map (see `encodeMessage`). */
  private expanding: object | undefined;
  /** Errors being written, to cut a cycle through `cause` or a field. */
  private readonly errorsInProgress = new Set<Error>();
  private readonly encoders: WireEncoder[] = [];
  private readonly decoders: Decoder[] = [];

  constructor(private readonly refs: RefHook | undefined, private readonly limits: WireLimits) {}

  /** The encoder for top-level values. */
  get rootEncoder(): WireEncoder {
    return this.encoderAt(0);
  }

  /** The decoder for top-level values. */
  get rootDecoder(): Decoder {
    return this.decoderAt(0);
  }

  /** Forgets the state of a call that failed half-way; called before each top-level encode or decode. */
  reset(): void {
    this.depth = 0;
    this.encodeLevel = 0;
    this.decodeLevel = 0;
    this.expanding = undefined;
    this.errorsInProgress.clear();
  }

  /** Called by msgpack for every value that is not nil, a boolean, a number or a string. */
  tryToEncode(value: unknown): ExtData | null {
    if (typeof value !== 'object') {
      if (typeof value === 'bigint') return new ExtData(WireType.BigInt, bigintToWire(value));
      throw new Unencodable(value, 'value'); // a function or a symbol
    }
    const prototype = Object.getPrototypeOf(value) as object | null;
    // Fast path: msgpack writes plain objects and arrays itself.
    if (prototype === Object.prototype || prototype === Array.prototype || prototype === null) return null;
    if (value === UNDEFINED_MARK) return UNDEFINED_EXT;
    if (value === this.expanding) {
      this.expanding = undefined;
      return null;
    }
    const ctor = (prototype as { constructor?: unknown }).constructor;
    if (ctor === Date) return new ExtData(WireType.Date, dateToWire(value as Date));
    if (ctor === Map) return new ExtData(WireType.Map, this.nested(flattenMap(value as Map<unknown, unknown>)));
    if (ctor === Set) return new ExtData(WireType.Set, this.nested(Array.from(value as Set<unknown>)));
    if (ctor === Uint8Array) return new ExtData(WireType.Bytes, value as Uint8Array);
    if (this.refs?.isRef(value) === true) {
      // One level deeper, unlike the other payloads (whose root is an array that adds the level), in case
      // toWire returns something that is itself written as an extension.
      return new ExtData(WireType.ActorRef, this.nested(this.refs.toWire(value), 1));
    }
    const name = messageNameOf(ctor as MessageClass);
    if (name !== undefined) return new ExtData(WireType.Message, this.encodeMessage(name, value as object));
    if (value instanceof Error) return new ExtData(WireType.Error, this.encodeError(value));
    if (value instanceof Uint8Array) return new ExtData(WireType.Bytes, value); // Buffer
    throw new Unencodable(value, 'value');
  }

  /** Called by msgpack for every extension in the input. */
  decode(data: Uint8Array, type: number): unknown {
    switch (type) {
      case WireType.Undefined: return undefined;
      case WireType.Message: return this.decodeMessage(data);
      case WireType.Map: return unflattenMap(this.nestedArray(data, 'Map'));
      case WireType.Set: return new Set(this.nestedArray(data, 'Set'));
      case WireType.Date: return dateFromWire(data);
      case WireType.BigInt: return bigintFromWire(data);
      case WireType.Error: return errorFromParts(this.nestedDecode(data));
      case WireType.ActorRef: return this.decodeRef(data);
      // A copy, so a decoded message never aliases (and so never pins or sees reuse of) the input buffer.
      case WireType.Bytes: return data.slice();
      default:
        throw new MalformedMessageError(`unknown extension type ${type} (a newer Casty version may have sent it)`);
    }
  }

  /** The payload of a @message instance: `[wireName, instance]`, the instance written as a map of its fields. */
  private encodeMessage(name: string, instance: object): Uint8Array {
    // The nested encoder will offer `instance` to tryToEncode again; `expanding` tells it to let msgpack
    // write it as a plain map (its own enumerable fields) this once, which avoids copying the fields.
    this.expanding = instance;
    return this.nested([name, instance]);
  }

  private encodeError(error: Error): Uint8Array {
    if (this.errorsInProgress.has(error)) throw new Unencodable(error, 'value'); // a cycle: dropped below
    const depth = this.depth;
    this.errorsInProgress.add(error);
    try {
      return this.nested(errorToParts(error));
    } catch (problem) {
      if (!(problem instanceof Unencodable)) throw problem;
      // An extra field (or the cause) will not encode: send the error without it rather than not at all,
      // since it is most often the rejection of an ask, which must reach the asker.
      const keep = (value: unknown): boolean => this.encodes(value, depth + 1);
      const parts = errorToParts(error, keep);
      this.depth = depth;
      return this.nested(parts);
    } finally {
      this.errorsInProgress.delete(error);
    }
  }

  /** Whether `value`, sitting at `depth`, encodes. */
  private encodes(value: unknown, depth: number): boolean {
    this.depth = depth;
    try {
      this.nested(value);
      return true;
    } catch (problem) {
      if (problem instanceof Unencodable) return false;
      throw problem;
    }
  }

  /**
   * `payload` encoded by the encoder one level deeper; valid until that encoder is used again. The payload's
   * root counts as sitting at the depth of the value it stands for (plus `extraDepth`), so the items of a Set
   * or the fields of a message count one level below it, as those of an array or object do.
   */
  private nested(payload: unknown, extraDepth = 0): Uint8Array {
    const level = this.encodeLevel + 1;
    const encoder = this.encoderAt(level);
    encoder.depthBase = this.depth - 1 + extraDepth;
    this.encodeLevel = level;
    try {
      // The outer encoder copies these bytes right away, before this level is used again.
      return encoder.encodeSharedRef(payload);
    } finally {
      this.encodeLevel = level - 1;
    }
  }

  private decodeMessage(data: Uint8Array): object {
    const payload = this.nestedDecode(data);
    if (!Array.isArray(payload) || payload.length !== 2 || typeof payload[0] !== 'string' ||
      !isPlainRecord(payload[1])) {
      throw new MalformedMessageError('a message payload is not [wireName, fields]');
    }
    const cls = messageClassOf(payload[0]);
    if (cls === undefined) throw new UnknownMessageClassError(payload[0]);
    return restoreMessage(cls, payload[1]);
  }

  private decodeRef(data: Uint8Array): unknown {
    if (this.refs === undefined) {
      throw new MalformedMessageError('it holds an actor ref, but this codec has no refs hook to rebuild it; ' +
        'give the Codec the same refs option on every node');
    }
    return this.refs.fromWire(this.nestedDecode(data));
  }

  private nestedArray(data: Uint8Array, what: string): unknown[] {
    const items = this.nestedDecode(data);
    if (!Array.isArray(items)) throw new MalformedMessageError(`a ${what} payload is not an array`);
    return items;
  }

  private nestedDecode(data: Uint8Array): unknown {
    const level = this.decodeLevel + 1;
    if (level > this.limits.maxDepth) {
      throw new MalformedMessageError(`values are nested deeper than maxDepth (${this.limits.maxDepth})`);
    }
    const decoder = this.decoderAt(level);
    this.decodeLevel = level;
    try {
      return decoder.decode(data);
    } finally {
      this.decodeLevel = level - 1;
    }
  }

  private encoderAt(level: number): WireEncoder {
    // msgpack's own depth limit is set past ours, so ours (which counts across levels) always fires first.
    return this.encoders[level] ??= new WireEncoder(
      { extensionCodec: this, maxDepth: this.limits.maxDepth + 2 }, this, this.limits.maxDepth);
  }

  private decoderAt(level: number): Decoder {
    const max = this.limits.maxBytes;
    // Every array item takes at least 1 byte and every map entry 2, so no length field can claim more.
    return this.decoders[level] ??= new Decoder({
      extensionCodec: this, maxStrLength: max, maxBinLength: max, maxExtLength: max,
      maxArrayLength: max, maxMapLength: Math.floor(max / 2),
    });
  }
}

function flattenMap(map: Map<unknown, unknown>): unknown[] {
  const flat: unknown[] = [];
  for (const [key, value] of map) flat.push(key, value);
  return flat;
}

function unflattenMap(flat: unknown[]): Map<unknown, unknown> {
  if (flat.length % 2 !== 0) throw new MalformedMessageError('a Map payload has an odd number of items');
  const map = new Map<unknown, unknown>();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
  return map;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
