// The message codec: turns any message value into bytes and back, as the cluster sends it between nodes.
// The bytes are msgpack, written by WireWriter into one reused buffer and read by WireReader in place;
// extensions (see wireTypes.ts) carry what msgpack has no type for: undefined, @message class instances, Map,
// Set, Date, bigint, errors, actor refs.

import { CastyError, InvalidArgumentError, describe } from '../errors';
import { CODEC_DEFAULTS, type CodecOptions } from './CodecOptions';
import { describeUnencodable } from './describeUnencodable';
import { MalformedMessageError, MessageEncodingError } from './errors';
import { Unencodable } from './Unencodable';
import { WireReader } from './WireReader';
import { WireWriter, type WireLimits } from './WireWriter';

/**
 * Encodes message values to bytes and decodes them back, exactly: primitives (with NaN, ±Infinity and -0),
 * strings, arrays, plain objects, `undefined` apart from `null` (also as an item or a field), Map (any keys),
 * Set, Date (also invalid), Uint8Array (a Buffer comes back as a Uint8Array), bigint of any size, errors
 * (rebuilt as their registered class), actor refs (through the `refs` hook) and instances of `@message`
 * classes at any depth (prototype restored, constructor not run). Anything else fails at `encode` with a
 * {@link MessageEncodingError} that says where it is and what to do.
 *
 * Notes on exactness: holes in a sparse array come back as `undefined` items; an object with a null prototype
 * comes back as a plain object; strings with unpaired surrogates (not valid Unicode) may come back with
 * U+FFFD in their place; only own enumerable string-keyed fields are sent.
 *
 * A Codec reuses its buffers, so it runs one call at a time (a refs hook that calls back into the same Codec
 * is served by a fresh one). Keep one per connection or per node; all nodes need the same limits and hook.
 *
 * ```ts
 * const codec = new Codec({ refs: { isRef: (v): v is ActorRef => v instanceof ActorRef, toWire: ..., fromWire: ... } });
 * socket.write(frame(codec.encode(new PlaceOrder(order, replyTo))));
 * const message = codec.decode(bytes); // an instance of PlaceOrder again
 * ```
 */
export class Codec {
  private readonly options: CodecOptions;
  private readonly limits: WireLimits;
  private readonly writer: WireWriter;
  private readonly reader: WireReader;
  private busy = false;

  constructor(options: CodecOptions = {}) {
    this.options = options;
    this.limits = {
      maxBytes: positiveInteger('maxBytes', options.maxBytes ?? CODEC_DEFAULTS.maxBytes),
      maxDepth: positiveInteger('maxDepth', options.maxDepth ?? CODEC_DEFAULTS.maxDepth),
    };
    this.writer = new WireWriter(options.refs, this.limits);
    this.reader = new WireReader(options.refs, this.limits);
  }

  /**
   * The bytes of `value`, a fresh array the caller owns.
   * @throws {MessageEncodingError} if `value` holds something the wire cannot carry, nests deeper than
   *   `maxDepth`, or encodes to more than `maxBytes`.
   */
  encode(value: unknown): Uint8Array {
    return this.encodeShared(value).slice();
  }

  /**
   * Like `encode`, but the bytes are a view of this codec's own buffer, valid only until its next call: for a
   * caller that copies them at once (into a frame, say), which saves `encode`'s copy.
   * @throws {MessageEncodingError} as `encode`.
   */
  encodeShared(value: unknown): Uint8Array {
    if (this.busy) return new Codec(this.options).encodeShared(value);
    this.busy = true;
    const writer = this.writer;
    try {
      writer.encode(value);
      if (writer.pos > this.limits.maxBytes) {
        throw new MessageEncodingError(`Message ${classNameOfRoot(value)} encodes to ${writer.pos} bytes, ` +
          `more than maxBytes (${this.limits.maxBytes}); send it in smaller parts or raise maxBytes on every node`,
        '', classNameOfRoot(value));
      }
      return writer.bytes.subarray(0, writer.pos);
    } catch (error) {
      throw this.encodeFailure(error, value);
    } finally {
      this.busy = false;
    }
  }

  /**
   * The value encoded in `bytes`. Does not keep or alias `bytes`.
   * @throws {UnknownMessageClassError} if the bytes hold a `@message` class not registered on this node.
   * @throws {MalformedMessageError} if the bytes are truncated, corrupt, too large or not from a Casty codec.
   */
  decode(bytes: Uint8Array): unknown {
    if (!(bytes instanceof Uint8Array)) {
      throw new InvalidArgumentError(`Codec.decode needs a Uint8Array (or Buffer), got ${describeType(bytes)}`);
    }
    if (bytes.byteLength > this.limits.maxBytes) {
      throw new MalformedMessageError(`${bytes.byteLength} bytes is more than maxBytes (${this.limits.maxBytes})`);
    }
    if (this.busy) return new Codec(this.options).decode(bytes);
    this.busy = true;
    try {
      return this.reader.decode(bytes);
    } catch (error) {
      if (error instanceof CastyError) throw error;
      throw new MalformedMessageError(describe(error), { cause: error });
    } finally {
      this.busy = false;
    }
  }

  private encodeFailure(error: unknown, value: unknown): unknown {
    if (error instanceof Unencodable) {
      const refs = this.options.refs;
      return describeUnencodable(error, value, this.limits.maxDepth, refs && ((v: unknown) => refs.isRef(v)));
    }
    if (error instanceof CastyError) return error;
    const rootName = classNameOfRoot(value);
    return new MessageEncodingError(`Message ${rootName} could not be encoded: ${describe(error)}`, '', rootName,
      { cause: error });
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`Codec option ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function classNameOfRoot(value: unknown): string {
  const ctor = (value as { constructor?: { name?: string } } | null | undefined)?.constructor;
  return typeof value === 'object' && value !== null ? ctor?.name || 'Object' : typeof value;
}

function describeType(value: unknown): string {
  return value === null ? 'null' : typeof value === 'object' ? classNameOfRoot(value) : typeof value;
}
