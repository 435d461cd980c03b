// The options a Codec is built with, including the hook through which actor refs cross the wire: the codec
// does not know the ActorRef class (it lives in the runtime), the cluster plugs it in here.

/**
 * Turns actor refs into wire form and back. A ref found anywhere in a message (a field, an array item, a Map
 * value...) is written as `toWire(ref)` (encoded like any other value) and decoded through `fromWire`.
 */
export interface RefHook<TRef = unknown> {
  /** Whether `value` is an actor ref. Asked for class instances only, so keep it cheap (an `instanceof`). */
  isRef(value: unknown): value is TRef;
  /** The wire form of a ref: any value the codec can encode, typically its path as a string. */
  toWire(ref: TRef): unknown;
  /** The ref for a decoded wire form; it may throw if the wire form is not one it wrote. */
  fromWire(wire: unknown): TRef;
}

/** Options of a {@link Codec}; every node of a cluster should use the same limits. */
export interface CodecOptions {
  /** How actor refs are written; without it an actor ref in a message fails to encode like any unknown class. */
  readonly refs?: RefHook;
  /**
   * The largest encoded message, in bytes (default 16 MiB). `encode` refuses to write more, and `decode`
   * refuses longer input and bounds every length field by it, so garbage cannot make it allocate more.
   */
  readonly maxBytes?: number;
  /**
   * How deeply values may nest (default 100, as msgpack): the message is at level 1, and each array, object,
   * Map, Set or error it sits in adds a level (a @message instance adds two). Makes a cyclic value fail fast,
   * and bounds the recursion of decoding nested extensions.
   */
  readonly maxDepth?: number;
}

/** The defaults of {@link CodecOptions}. */
export const CODEC_DEFAULTS = { maxBytes: 16 * 1024 * 1024, maxDepth: 100 } as const;
