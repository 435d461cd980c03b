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
export type EnvelopeHeader = TellHeader | AskHeader | TracedAskHeader | ReplyHeader | LookupHeader | LookupReplyHeader | PeersHeader;

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
const HAS_NO_BODY: ReadonlySet<number> = new Set<number>([EnvelopeKind.LOOKUP, EnvelopeKind.LEAVING, EnvelopeKind.WATCH,
  EnvelopeKind.UNWATCH, EnvelopeKind.TERMINATED]);

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
    if (this.offset !== this.bytes.length && HAS_NO_BODY.has(kind)) {
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
    const value = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

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
    const length = this.bytes.readUInt16BE(this.offset);
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
