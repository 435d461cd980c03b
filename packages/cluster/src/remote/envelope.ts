// The envelopes of the ACTOR protocol: what one frame between two nodes' remote messaging carries.
//
// A frame's payload is   header | body
//   header: the envelope kind (1 byte), then its fields in a fixed binary layout (below): ids and timeouts
//           as u32 big-endian, a path or name as u16 big-endian byte length + UTF-8
//   body:   the codec encoding of the message, reply, error or list, or nothing (zero bytes)
// The header is read by hand, not by the codec: it is on every frame, and a codec call for three small fields
// cost a third of a small message's decoding (see bench/remote-messaging.bench.ts). Header and body are
// apart so that a body the receiver cannot decode (a message class this node does not know) still leaves the
// header readable: the receiver knows which ask to fail and which actor the dead letter was meant for. A
// tell's header depends only on its target, so a remote ref encodes it once.

import type { Codec } from '@casty/core';
import { InvalidArgumentError, MalformedMessageError } from '@casty/core';
import { internUtf8 } from '@casty/core/internal';

/** Bound once: a call through the re-export runs its getter each time, and this is on every keyed frame. */
const intern = internUtf8;

/**
 * Envelope kinds, the first item of every header.
 *
 * This list is ONLY APPENDED TO: the numbers are on the wire, so a kind is never reused or renumbered.
 */
export const EnvelopeKind = {
  /** `[TELL, path]`, body: the message. Fire-and-forget to the actor at `path`. Layout: kind, path. */
  TELL: 0,
  /**
   * `[ASK, askId, path, timeoutMs]`, body: the message. Answered with REPLY_OK or REPLY_ERROR.
   * Layout: kind, u32 askId, u32 timeoutMs, path.
   */
  ASK: 1,
  /** `[REPLY_OK, askId]`, body: the reply value. Layout: kind, u32 askId. */
  REPLY_OK: 2,
  /** `[REPLY_ERROR, askId]`, body: the error the ask failed with on the answering node. Layout: kind, u32 askId. */
  REPLY_ERROR: 3,
  /** `[LOOKUP, requestId, nameOrPath]`, no body. Answered with LOOKUP_REPLY. Layout: kind, u32 id, name. */
  LOOKUP: 4,
  /**
   * `[LOOKUP_REPLY, requestId]`, body: the actor's ref, or undefined when this node has no such actor.
   * Layout: kind, u32 id.
   */
  LOOKUP_REPLY: 5,
  /** `[PEERS]`, body: `[[nodeId, host, port], ...]`, the nodes the sender is connected to. */
  PEERS: 6,
  /** `[LEAVING]`, no body: the sender is shutting down; stop redialing it (until it connects again). */
  LEAVING: 7,
  /**
   * `[WATCH, path]`, no body: the sender's actors watch the actor at `path`; answered with TERMINATED when it
   * stops (at once if it is not running). Layout: kind, path.
   */
  WATCH: 8,
  /** `[UNWATCH, path]`, no body: the sender no longer watches the actor at `path`. Layout: kind, path. */
  UNWATCH: 9,
  /** `[TERMINATED, path]`, no body: the watched actor at `path` (on the sender) has stopped. Layout: kind, path. */
  TERMINATED: 10,
  /**
   * `[ASK_TRACED, askId, path, timeoutMs, traceContext]`, body: the message. An ASK sent inside a trace
   * (OpenTelemetry): `traceContext` is the W3C `traceparent`, then a newline and the `tracestate` when there is
   * one. A node without telemetry handles it as an ASK. Layout: kind, u32 askId, u32 timeoutMs, path, then the
   * trace context as u16 byte length + UTF-8.
   */
  ASK_TRACED: 11,
  /**
   * `[KEYED_TELL, path, key, shard, origin, seq]`, body: the message. A tell to a keyed target under `path` (a
   * sharded entity of the region at `path`: its id, shard, the sending process and the message's number from it),
   * the routing fields in the header so that the receiver reaches the entity without decoding an envelope around
   * the message. Layout: kind, u32 shard, u64 origin, u64 seq (each as two u32, high first; values up to 2^53),
   * path, then the key as u16 byte length + UTF-8.
   */
  KEYED_TELL: 12,
  /**
   * `[KEYED_ASK, askId, path, timeoutMs, key, shard, origin, seq]`, body: the message. An ASK to a keyed target
   * (see KEYED_TELL). Layout: kind, u32 askId, u32 timeoutMs, u32 shard, u64 origin, u64 seq, path, key.
   */
  KEYED_ASK: 13,
} as const;

export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind];

export type TellHeader = readonly [typeof EnvelopeKind.TELL | typeof EnvelopeKind.WATCH | typeof EnvelopeKind.UNWATCH |
  typeof EnvelopeKind.TERMINATED, string];
export type AskHeader = readonly [typeof EnvelopeKind.ASK, number, string, number];
export type TracedAskHeader = readonly [typeof EnvelopeKind.ASK_TRACED, number, string, number, string];
export type ReplyHeader = readonly [typeof EnvelopeKind.REPLY_OK | typeof EnvelopeKind.REPLY_ERROR, number];
export type LookupHeader = readonly [typeof EnvelopeKind.LOOKUP, number, string];
export type LookupReplyHeader = readonly [typeof EnvelopeKind.LOOKUP_REPLY, number];
export type PeersHeader = readonly [typeof EnvelopeKind.PEERS | typeof EnvelopeKind.LEAVING];
export type KeyedTellHeader = readonly [typeof EnvelopeKind.KEYED_TELL, string, string, number, number, number];
export type KeyedAskHeader = readonly [typeof EnvelopeKind.KEYED_ASK, number, string, number, string, number, number, number];
export type EnvelopeHeader = TellHeader | AskHeader | TracedAskHeader | ReplyHeader | LookupHeader | LookupReplyHeader |
  PeersHeader | KeyedTellHeader | KeyedAskHeader;

/** Marks an envelope without a body. */
export const NO_BODY: unique symbol = Symbol('no body');

/** Largest id and timeout a header carries (u32). */
export const MAX_U32 = 0xffff_ffff;
/** Largest path or name a header carries, in UTF-8 bytes (u16 length). */
export const MAX_PATH_BYTES = 0xffff;

/** The bytes of `header`. @throws {InvalidArgumentError} for a path longer than MAX_PATH_BYTES. */
export function encodeHeader(header: EnvelopeHeader): Buffer {
  switch (header[0]) {
    case EnvelopeKind.TELL:
    case EnvelopeKind.WATCH:
    case EnvelopeKind.UNWATCH:
    case EnvelopeKind.TERMINATED: return withPath(header[0], 0, header[1]);
    case EnvelopeKind.ASK: {
      const bytes = withPath(header[0], 8, header[2]);
      bytes.writeUInt32BE(header[1], 1);
      bytes.writeUInt32BE(Math.min(Math.ceil(header[3]), MAX_U32), 5);
      return bytes;
    }
    case EnvelopeKind.ASK_TRACED: {
      const path = withPath(header[0], 8, header[2]);
      path.writeUInt32BE(header[1], 1);
      path.writeUInt32BE(Math.min(Math.ceil(header[3]), MAX_U32), 5);
      const trace = Buffer.byteLength(header[4]);
      if (trace > MAX_PATH_BYTES) throw new InvalidArgumentError(`A trace context of ${trace} bytes is over ${MAX_PATH_BYTES}`);
      const bytes = Buffer.allocUnsafe(path.length + 2 + trace);
      path.copy(bytes, 0);
      bytes.writeUInt16BE(trace, path.length);
      bytes.write(header[4], path.length + 2, 'utf8');
      return bytes;
    }
    case EnvelopeKind.KEYED_TELL: {
      const [, path, key, shard, origin, seq] = header;
      return new KeyedHeader(EnvelopeKind.KEYED_TELL, path, key, shard, origin).withSeq(seq);
    }
    case EnvelopeKind.KEYED_ASK: {
      const [, id, path, timeoutMs, key, shard, origin, seq] = header;
      return new KeyedHeader(EnvelopeKind.KEYED_ASK, path, key, shard, origin).withAsk(id, timeoutMs).withSeq(seq);
    }
    case EnvelopeKind.LOOKUP: {
      const bytes = withPath(header[0], 4, header[2]);
      bytes.writeUInt32BE(header[1], 1);
      return bytes;
    }
    case EnvelopeKind.REPLY_OK:
    case EnvelopeKind.REPLY_ERROR:
    case EnvelopeKind.LOOKUP_REPLY: {
      const bytes = Buffer.allocUnsafe(5);
      bytes[0] = header[0];
      bytes.writeUInt32BE(header[1], 1);
      return bytes;
    }
    default: return Buffer.of(header[0]);
  }
}

/** kind, `fixed` bytes for the caller to fill, then the u16 length and UTF-8 bytes of `path`. */
function withPath(kind: number, fixed: number, path: string): Buffer {
  const length = Buffer.byteLength(path);
  if (length > MAX_PATH_BYTES) {
    throw new InvalidArgumentError(`Actor path or name '${path.slice(0, 64)}...' is ${length} bytes; ` +
      `remote messaging carries at most ${MAX_PATH_BYTES}: use a shorter name`);
  }
  const bytes = Buffer.allocUnsafe(3 + fixed + length);
  bytes[0] = kind;
  bytes.writeUInt16BE(length, 1 + fixed);
  bytes.write(path, 3 + fixed, 'utf8');
  return bytes;
}

const TWO_32 = 0x1_0000_0000;

/** The big-endian u32 at `at` (the caller checked the bounds). */
function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Writes `value` as a big-endian u32 at `at`. */
function putU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/** Largest origin and seq a keyed header carries (they travel as u64, read back as numbers). */
export const MAX_KEYED_NUMBER = Number.MAX_SAFE_INTEGER;

/**
 * The header of a keyed envelope (KEYED_TELL or KEYED_ASK) for one key of one target, made once and sent with
 * every message to that key: only the message's number (and an ask's id and timeout) change, written in place
 * before each send (the transport copies a header at once, see Transport.sendParts).
 *
 * Layout: kind | [u32 askId | u32 timeoutMs] (KEYED_ASK) | u32 shard | u64 origin | u64 seq | path | key
 */
export class KeyedHeader {
  readonly bytes: Buffer;
  /** Where the seq is. */
  private readonly seqAt: number;

  /** @throws {InvalidArgumentError} for a path or key over MAX_PATH_BYTES, or a shard or origin out of range. */
  constructor(kind: typeof EnvelopeKind.KEYED_TELL | typeof EnvelopeKind.KEYED_ASK, path: string, key: string, shard: number,
    origin: number) {
    if (!(Number.isInteger(shard) && shard >= 0 && shard <= MAX_U32 && Number.isInteger(origin) && origin >= 0 &&
      origin <= MAX_KEYED_NUMBER)) {
      throw new InvalidArgumentError(`A keyed envelope carries a shard from 0 to 2^32 - 1 and an origin from 0 to 2^53 - 1; ` +
        `got shard ${shard}, origin ${origin}`);
    }
    const keyLength = Buffer.byteLength(key);
    if (keyLength > MAX_PATH_BYTES) {
      throw new InvalidArgumentError(`The key '${key.slice(0, 64)}...' is ${keyLength} bytes; remote messaging carries at ` +
        `most ${MAX_PATH_BYTES}: use a shorter entity id`);
    }
    const fixedAt = kind === EnvelopeKind.KEYED_ASK ? 9 : 1;
    const prefix = withPath(kind, fixedAt - 1 + 20, path);
    const bytes = Buffer.alloc(prefix.length + 2 + keyLength);
    prefix.copy(bytes, 0);
    putU32(bytes, fixedAt, shard);
    putU32(bytes, fixedAt + 4, Math.floor(origin / TWO_32));
    putU32(bytes, fixedAt + 8, origin % TWO_32);
    bytes.writeUInt16BE(keyLength, prefix.length);
    bytes.write(key, prefix.length + 2, 'utf8');
    this.bytes = bytes;
    this.seqAt = fixedAt + 12;
  }

  /** Sets the message's number (1 to 2^53 - 1) and returns the bytes. */
  withSeq(seq: number): Buffer {
    if (!(seq >= 0 && seq <= MAX_KEYED_NUMBER)) throw new InvalidArgumentError(`A keyed envelope's seq must be 0 to 2^53 - 1, got ${seq}`);
    putU32(this.bytes, this.seqAt, Math.floor(seq / TWO_32));
    putU32(this.bytes, this.seqAt + 4, seq % TWO_32);
    return this.bytes;
  }

  /** An ask's id and timeout (KEYED_ASK only). */
  withAsk(id: number, timeoutMs: number): this {
    putU32(this.bytes, 1, id);
    putU32(this.bytes, 5, Math.min(Math.ceil(timeoutMs), MAX_U32));
    return this;
  }
}

/**
 * The frame payload for `header` (a tuple, or its bytes from `encodeHeader`) and `body`.
 * @throws {MessageEncodingError} when the body cannot be encoded.
 */
export function encodeEnvelope(codec: Codec, header: EnvelopeHeader | Uint8Array, body: unknown): Buffer {
  const head = header instanceof Uint8Array ? header : encodeHeader(header);
  if (body === NO_BODY) return head instanceof Buffer ? head : Buffer.from(head);
  const tail = codec.encode(body);
  const payload = Buffer.allocUnsafe(head.length + tail.length);
  payload.set(head, 0);
  payload.set(tail, head.length);
  return payload;
}

/**
 * Reads received envelopes, one at a time, into its own fields (no allocation per frame but the path string
 * and the body view). Valid until the next `read`.
 */
/** Kinds whose envelope is the header alone. */
const HAS_NO_BODY = [EnvelopeKind.LOOKUP, EnvelopeKind.LEAVING, EnvelopeKind.WATCH, EnvelopeKind.UNWATCH,
  EnvelopeKind.TERMINATED].reduce((mask, kind) => mask | (1 << kind), 0);

export class EnvelopeReader {
  kind: EnvelopeKind = EnvelopeKind.TELL;
  /** The ask or lookup id (ASK, REPLY_*, LOOKUP, LOOKUP_REPLY). */
  id = 0;
  /** The ask's timeout in milliseconds (ASK). */
  timeoutMs = 0;
  /** The target path (TELL, ASK, WATCH, UNWATCH, TERMINATED) or the name looked up (LOOKUP). */
  path = '';
  /** The trace context (ASK_TRACED): W3C traceparent, then a newline and the tracestate when there is one. */
  traceContext = '';
  /** KEYED_TELL, KEYED_ASK: the key (an entity id), its shard, the sending process, the message's number from it. */
  key = '';
  shard = 0;
  origin = 0;
  seq = 0;
  /** The body's bytes (empty when the envelope has none). */
  body: Uint8Array = new Uint8Array(0);
  private bytes: Buffer = Buffer.alloc(0);
  private offset = 0;
  private readonly paths = new RecentPaths();

  /**
   * Decodes the header of `payload` and finds its body.
   * @throws {MalformedMessageError} when the payload is not an envelope (truncated, or of an unknown kind).
   */
  read(payload: Uint8Array): void {
    this.bytes = payload instanceof Buffer ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    this.offset = 1;
    const kind = this.bytes[0];
    switch (kind) {
      case EnvelopeKind.TELL:
      case EnvelopeKind.WATCH:
      case EnvelopeKind.UNWATCH:
      case EnvelopeKind.TERMINATED:
        this.path = this.readPath();
        break;
      case EnvelopeKind.ASK:
        this.id = this.readId();
        this.timeoutMs = this.readU32();
        this.path = this.readPath();
        break;
      case EnvelopeKind.ASK_TRACED:
        this.id = this.readId();
        this.timeoutMs = this.readU32();
        this.path = this.readPath();
        this.traceContext = this.readString();
        break;
      case EnvelopeKind.KEYED_TELL:
        this.readKeyed();
        break;
      case EnvelopeKind.KEYED_ASK:
        this.id = this.readId();
        this.timeoutMs = this.readU32();
        this.readKeyed();
        break;
      case EnvelopeKind.LOOKUP:
        this.id = this.readId();
        this.path = this.readPath();
        break;
      case EnvelopeKind.REPLY_OK:
      case EnvelopeKind.REPLY_ERROR:
      case EnvelopeKind.LOOKUP_REPLY:
        this.id = this.readId();
        break;
      case EnvelopeKind.PEERS:
      case EnvelopeKind.LEAVING:
        break;
      default:
        throw new MalformedMessageError(kind === undefined ? 'an envelope is empty'
          : `envelope kind ${kind} is not one this node knows (a newer node may have sent it: run the same Casty ` +
            'version on every node)');
    }
    if (this.offset !== this.bytes.length && ((HAS_NO_BODY >> kind) & 1) === 1) {
      // Strict: garbled bytes that happen to start with the byte of a command (LEAVING, WATCH...) are not one.
      throw new MalformedMessageError(`an envelope of kind ${kind} has ${this.bytes.length - this.offset} bytes after ` +
        'its header, and that kind never carries a body');
    }
    this.kind = kind;
    this.body = this.bytes.subarray(this.offset);
  }

  private need(count: number, what: string): void {
    if (this.offset + count > this.bytes.length) {
      throw new MalformedMessageError(`an envelope of ${this.bytes.length} bytes ends inside its ${what}`);
    }
  }

  private readU32(): number {
    this.need(4, 'header');
    const value = u32(this.bytes, this.offset);
    this.offset += 4;
    return value;
  }

  /** u32 shard, u64 origin, u64 seq, path, key (see EnvelopeKind.KEYED_TELL). */
  private readKeyed(): void {
    this.need(20, 'header');
    const bytes = this.bytes;
    const at = this.offset;
    this.shard = u32(bytes, at);
    this.origin = u32(bytes, at + 4) * TWO_32 + u32(bytes, at + 8);
    this.seq = u32(bytes, at + 12) * TWO_32 + u32(bytes, at + 16);
    this.offset = at + 20;
    if (this.origin > MAX_KEYED_NUMBER || this.seq > MAX_KEYED_NUMBER) {
      throw new MalformedMessageError('a keyed envelope carries an origin or seq over 2^53 - 1, which no node sends');
    }
    this.path = this.readPath();
    const start = this.skipString('key');
    const length = this.offset - start;
    // most frames in a row go to the same key: the last one's characters compared with the bytes (ASCII) first
    const last = this.lastKey;
    if (length === last.length && this.lastKeyAscii) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (last.charCodeAt(i) !== bytes[start + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.key = last;
        return;
      }
    }
    const key = intern(bytes, start, length);
    this.key = key;
    this.lastKey = key;
    this.lastKeyAscii = length === key.length;
  }

  /** The key read last, and whether it is ASCII (then its length in bytes is its length in characters). */
  private lastKey = '';
  private lastKeyAscii = false;

  private readId(): number {
    const id = this.readU32();
    if (id === 0) throw new MalformedMessageError('an envelope carries request id 0, which no node sends');
    return id;
  }

  private readPath(): string {
    const start = this.skipString('path');
    return this.paths.get(this.bytes, start, this.offset - start);
  }

  /** A u16-length string that is not cached (a trace context differs in every envelope). */
  private readString(): string {
    const start = this.skipString('trace context');
    return this.bytes.toString('utf8', start, this.offset);
  }

  /** Steps over a u16 length and its bytes; returns where the bytes start. */
  private skipString(what: string): number {
    this.need(2, 'header');
    const length = (this.bytes[this.offset]! << 8) | this.bytes[this.offset + 1]!;
    this.need(2 + length, what);
    const start = this.offset + 2;
    this.offset = start + length;
    return start;
  }
}

const RECENT_PATHS = 8;
const MAX_RECENT_PATH_BYTES = 256;

/**
 * The paths read last, by their bytes. A node's traffic goes to few actors, so most headers name a path seen a
 * moment ago: comparing a few bytes beats decoding UTF-8, and the same string object comes back each time
 * (its hash already computed for the lookup of the actor that follows).
 */
class RecentPaths {
  private readonly bytes: Buffer[] = [];
  private readonly paths: string[] = [];
  private next = 0;

  get(source: Buffer, start: number, length: number): string {
    if (length > MAX_RECENT_PATH_BYTES) return source.toString('utf8', start, start + length);
    const known = this.bytes;
    candidates: for (let c = 0; c < known.length; c++) {
      const candidate = known[c]!;
      if (candidate.length !== length) continue;
      for (let i = 0; i < length; i++) if (candidate[i] !== source[start + i]) continue candidates;
      return this.paths[c]!;
    }
    const path = source.toString('utf8', start, start + length);
    const slot = known.length < RECENT_PATHS ? known.length : this.next++ % RECENT_PATHS;
    known[slot] = Buffer.from(source.subarray(start, start + length)); // a copy: the frame's buffer is not ours
    this.paths[slot] = path;
    return path;
  }
}

/** The body of a received envelope; undefined when it has none. Throws what `Codec.decode` throws. */
export function decodeBody(codec: Codec, body: Uint8Array): unknown {
  return body.length === 0 ? undefined : codec.decode(body);
}
