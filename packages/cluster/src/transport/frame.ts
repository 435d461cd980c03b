// Framing of the byte stream between two nodes: the protocol ids, encoding one frame, and FrameDecoder,
// which cuts a stream of socket chunks back into frames while keeping memory bounded.
//
// A frame on the wire:
//   4 bytes  big-endian unsigned length L = 1 + payload length
//   1 byte   protocol id
//   L-1      payload
// One TCP port per node carries every protocol; the protocol id says which layer a frame is for.

import { BufferPool } from '../internal/BufferPool';
import { MalformedFrameError } from './errors';

/**
 * The protocols multiplexed on a node's port.
 *
 * This list is ONLY APPENDED TO: the numbers are on the wire, so an id is never reused or renumbered,
 * and a retired protocol keeps its number (as memberlist's message types in net.go).
 */
export const ProtocolId = {
  /** Connection setup (version, cluster name, node ids, secret challenge); only before a connection is open. */
  HANDSHAKE: 0,
  /** Remote actor messages (tell, ask, reply). */
  ACTOR: 1,
  /** SWIM failure detection (reserved for the membership issue). */
  SWIM: 2,
  /** Membership gossip (reserved for the membership issue). */
  GOSSIP: 3,
  /**
   * Keep-alive of an idle connection: an empty frame the sender writes when it has written nothing for a
   * while, so the receiver can tell an idle connection from a stalled or abandoned one. Never handed to a handler.
   */
  HEARTBEAT: 4,
} as const;

/** A protocol id from `ProtocolId`. */
export type ProtocolId = (typeof ProtocolId)[keyof typeof ProtocolId];

/** The highest protocol id this version knows; a frame with a higher id is malformed to it. */
export const MAX_KNOWN_PROTOCOL_ID: number = Math.max(...Object.values(ProtocolId));

/** Bytes of the length field. */
export const LENGTH_BYTES = 4;
/** Bytes before the payload: length field and protocol id. */
export const FRAME_HEADER_BYTES = LENGTH_BYTES + 1;

/** True for an id in `ProtocolId`. */
export function isKnownProtocolId(id: number): id is ProtocolId {
  return Number.isInteger(id) && id >= 0 && id <= MAX_KNOWN_PROTOCOL_ID;
}

/** The name of a protocol id, for logs. */
export function protocolName(id: number): string {
  for (const [name, value] of Object.entries(ProtocolId)) if (value === id) return name;
  return `unknown(${id})`;
}

/** One decoded frame. `payload` is a view into the received bytes; it is never reused by the decoder. */
export interface Frame {
  readonly protocolId: number;
  readonly payload: Buffer;
  /**
   * The payload lies in a buffer the decoder lends (see FrameDecoder.take): valid until `release()`, after which
   * the buffer gathers another frame.
   */
  readonly borrowed?: boolean;
}

/** A frame at least this long that spans socket chunks is gathered into a lent buffer (see FrameDecoder.take). */
const LEND_MIN_BYTES = 64 * 1024;
/** ...and at most this long; a longer one gets a buffer of its own. */
const LEND_MAX_BYTES = 8 * 1024 * 1024;
/** Lent buffers given back, kept for the next frames (of any connection of this process): two at most. */
const SPARES = new BufferPool(2, 2 * LEND_MAX_BYTES);

/** A buffer of at least `n` bytes (n <= LEND_MAX_BYTES): a spare, or a new one of the next power of two (1 MiB at least). */
function lend(n: number): Buffer {
  let size = 1024 * 1024;
  while (size < n) size *= 2;
  return SPARES.take(n, LEND_MAX_BYTES, Math.min(size, LEND_MAX_BYTES));
}

/** Encodes one frame (header and a copy of `payload`) into a new Buffer. */
export function encodeFrame(protocolId: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length + 1, 0);
  frame.writeUInt8(protocolId, LENGTH_BYTES);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * A chunk shorter than this that arrives behind bytes still waiting (an incomplete frame) is copied into a
 * shared gathering buffer instead of being kept as an object of its own: a peer trickling a frame in one byte
 * per TCP segment gets one socket read per byte, and a list of such chunks held ~200 bytes of objects per byte
 * arrived (300 KB held 65 MB), so one 16 MiB frame could pin gigabytes.
 */
const SMALL_CHUNK_BYTES = 4096;
/** Size of a gathering buffer; at most one per decoder is partly empty, so the waste is bounded by this. */
const GATHER_BYTES = 16 * 1024;

/**
 * Cuts socket chunks into frames. `push` a chunk, then call `next` until it returns undefined.
 *
 * Memory stays bounded and follows the bytes that arrived, not the length a header claims: the length field
 * is checked against `maxPayloadBytes` before anything is allocated for the frame, nothing is allocated for a
 * frame until it is complete, small chunks of an incomplete frame are gathered into shared buffers (no object
 * per chunk), and the decoder never holds more than one incomplete frame (plus the chunk being cut).
 * `next` throws MalformedFrameError on a length of 0 or over the limit; the stream is then unusable.
 */
export class FrameDecoder {
  /** Received bytes not yet returned: chunks[0] from `offset` on, then the other chunks whole. */
  private chunks: Buffer[] = [];
  private offset = 0;
  private buffered = 0;
  /**
   * The buffer small chunks are being copied into; its filled part, `gather[0..gatherFill)`, is the last element
   * of `chunks` while `chunks` is not empty. Bytes are only ever appended to it, so frames returned as views
   * into it never change.
   */
  private gather: Buffer | undefined;
  private gatherFill = 0;
  /** The buffer the last frame was gathered into, lent until `release()` (see take). */
  private lent: Buffer | undefined;

  /**
   * @param peer who sends the stream, for error messages
   * @param maxPayloadBytes largest payload accepted; may be changed between frames (raised after a handshake)
   */
  constructor(private readonly peer: string, public maxPayloadBytes: number) {}

  /** Bytes received but not yet returned as a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds received bytes. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buffered += chunk.length;
    if (this.chunks.length === 0 || chunk.length >= SMALL_CHUNK_BYTES) {
      // The common case (nothing waiting: the chunk is usually cut into whole frames at once), or a chunk
      // large enough that its own object costs little: kept as it is, no copy.
      this.chunks.push(chunk);
      this.gather = undefined;
      return;
    }
    let gather = this.gather;
    if (gather === undefined || this.gatherFill + chunk.length > gather.length) {
      gather = Buffer.allocUnsafeSlow(GATHER_BYTES);
      this.gather = gather;
      this.gatherFill = 0;
      this.chunks.push(gather.subarray(0, 0));
    }
    chunk.copy(gather, this.gatherFill);
    this.gatherFill += chunk.length;
    // A longer view of the same bytes: an `offset` into it (if it is chunks[0]) stays valid.
    this.chunks[this.chunks.length - 1] = gather.subarray(0, this.gatherFill);
  }

  /** The next complete frame, or undefined when more bytes are needed. */
  next(): Frame | undefined {
    if (this.buffered < LENGTH_BYTES) return undefined;
    const length = this.peekLength();
    if (length === 0) {
      throw new MalformedFrameError(this.peer, 'length field is 0 (a frame has at least a protocol id byte)');
    }
    if (length - 1 > this.maxPayloadBytes) {
      throw new MalformedFrameError(this.peer,
        `length field says ${length - 1} payload bytes, over the limit of ${this.maxPayloadBytes}`);
    }
    const total = LENGTH_BYTES + length;
    if (this.buffered < total) return undefined;
    const first = this.chunks[0] as Buffer;
    const start = this.offset;
    if (first.length - start >= total) {
      // The whole frame lies in one chunk (the common case): one view, no copy.
      this.buffered -= total;
      this.advance(first, total);
      return { protocolId: first[start + LENGTH_BYTES] as number, payload: first.subarray(start + FRAME_HEADER_BYTES, start + total) };
    }
    const bytes = this.take(total);
    const borrowed = this.lent !== undefined && bytes.buffer === this.lent.buffer;
    return { protocolId: bytes[LENGTH_BYTES] as number, payload: bytes.subarray(FRAME_HEADER_BYTES), borrowed };
  }

  /** Drops everything buffered (the connection is going away). */
  clear(): void {
    // not given back: a handler of the frame may still be reading it (the connection failed from inside it)
    this.lent = undefined;
    this.chunks = [];
    this.offset = 0;
    this.buffered = 0;
    this.gather = undefined;
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length - this.offset >= LENGTH_BYTES) return first.readUInt32BE(this.offset);
    // The length field spans chunks: gather its 4 bytes without touching the rest.
    const header = Buffer.allocUnsafe(LENGTH_BYTES);
    let filled = 0;
    let from = this.offset;
    for (const chunk of this.chunks) {
      filled += chunk.copy(header, filled, from, Math.min(chunk.length, from + LENGTH_BYTES - filled));
      from = 0;
      if (filled === LENGTH_BYTES) break;
    }
    return header.readUInt32BE(0);
  }

  /** Moves past `n` bytes of the first chunk, which holds at least that many from `offset`. */
  private advance(first: Buffer, n: number): void {
    this.offset += n;
    if (this.offset === first.length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }

  /** Gives back the buffer lent for the last frame (see take), once its handlers are done with it. */
  release(): void {
    if (this.lent === undefined) return;
    SPARES.give(this.lent);
    this.lent = undefined;
  }

  /**
   * Removes the first `n` buffered bytes, which span chunks, as a copy: for a frame of LEND_MIN_BYTES to
   * LEND_MAX_BYTES (and none lent now), into a lent buffer, used again once released (`lent`). In a join's replica
   * transfer, a new buffer per frame of 1 MiB cost the joiner a page fault per 4 KiB written: its copy of each frame
   * took 10 times as long as into a buffer used before, and 12% of its CPU time.
   */
  private take(n: number): Buffer {
    this.buffered -= n;
    let out: Buffer;
    if (n >= LEND_MIN_BYTES && n <= LEND_MAX_BYTES && this.lent === undefined) {
      this.lent = lend(n);
      out = this.lent.subarray(0, n);
    } else {
      out = Buffer.allocUnsafe(n);
    }
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0] as Buffer;
      const used = Math.min(chunk.length - this.offset, n - filled);
      chunk.copy(out, filled, this.offset, this.offset + used);
      filled += used;
      this.advance(chunk, used);
    }
    return out;
  }
}
