// The envelopes of the ACTOR protocol: what one frame between two nodes' remote messaging carries.
//
// A frame's payload is   u32 BE header length | header | body
//   header: the codec encoding of an array [kind, ...fields] (small: ids, a path, a timeout)
//   body:   the codec encoding of the message, reply, error or list, or nothing (zero bytes)
// Header and body are encoded apart so that a body the receiver cannot decode (a message class this node
// does not know) still leaves the header readable: the receiver knows which ask to fail and which actor
// the dead letter was meant for. A tell's header depends only on its target, so a remote ref encodes it once.

import { Codec, MalformedMessageError } from '@casty/core';

/**
 * Envelope kinds, the first item of every header.
 *
 * This list is ONLY APPENDED TO: the numbers are on the wire, so a kind is never reused or renumbered.
 */
export const EnvelopeKind = {
  /** `[TELL, path]`, body: the message. Fire-and-forget to the actor at `path`. */
  TELL: 0,
  /** `[ASK, askId, path, timeoutMs]`, body: the message. Answered with REPLY_OK or REPLY_ERROR. */
  ASK: 1,
  /** `[REPLY_OK, askId]`, body: the reply value. */
  REPLY_OK: 2,
  /** `[REPLY_ERROR, askId]`, body: the error the ask failed with on the answering node. */
  REPLY_ERROR: 3,
  /** `[LOOKUP, requestId, nameOrPath]`, no body. Answered with LOOKUP_REPLY. */
  LOOKUP: 4,
  /** `[LOOKUP_REPLY, requestId]`, body: the actor's ref, or undefined when this node has no such actor. */
  LOOKUP_REPLY: 5,
  /** `[PEERS]`, body: `[[nodeId, host, port], ...]`, the nodes the sender is connected to. */
  PEERS: 6,
  /** `[LEAVING]`, no body: the sender is shutting down; stop redialing it (until it connects again). */
  LEAVING: 7,
} as const;

export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind];

export type TellHeader = readonly [typeof EnvelopeKind.TELL, string];
export type AskHeader = readonly [typeof EnvelopeKind.ASK, number, string, number];
export type ReplyHeader = readonly [typeof EnvelopeKind.REPLY_OK | typeof EnvelopeKind.REPLY_ERROR, number];
export type LookupHeader = readonly [typeof EnvelopeKind.LOOKUP, number, string];
export type LookupReplyHeader = readonly [typeof EnvelopeKind.LOOKUP_REPLY, number];
export type PeersHeader = readonly [typeof EnvelopeKind.PEERS | typeof EnvelopeKind.LEAVING];
export type EnvelopeHeader = TellHeader | AskHeader | ReplyHeader | LookupHeader | LookupReplyHeader | PeersHeader;

/** Marks an envelope without a body. */
export const NO_BODY: unique symbol = Symbol('no body');

const HEADER_LENGTH_BYTES = 4;

/**
 * The frame payload for `header` (an array, or the bytes of one already encoded) and `body`.
 * @throws {MessageEncodingError} when the body (or header) cannot be encoded.
 */
export function encodeEnvelope(codec: Codec, header: EnvelopeHeader | Uint8Array, body: unknown): Buffer {
  const head = header instanceof Uint8Array ? header : codec.encode(header);
  const tail = body === NO_BODY ? undefined : codec.encode(body);
  const payload = Buffer.allocUnsafe(HEADER_LENGTH_BYTES + head.length + (tail?.length ?? 0));
  payload.writeUInt32BE(head.length, 0);
  payload.set(head, HEADER_LENGTH_BYTES);
  if (tail !== undefined) payload.set(tail, HEADER_LENGTH_BYTES + head.length);
  return payload;
}

/** A received envelope: its decoded header, and its body still as bytes (decode it with `decodeBody`). */
export interface ReceivedEnvelope {
  readonly header: EnvelopeHeader;
  readonly body: Uint8Array;
}

/**
 * Splits a frame payload and decodes its header.
 * @throws {MalformedMessageError} when the payload is not an envelope (truncated, or an unknown header shape).
 */
export function decodeEnvelope(codec: Codec, payload: Uint8Array): ReceivedEnvelope {
  if (payload.length < HEADER_LENGTH_BYTES) throw new MalformedMessageError(`an envelope of ${payload.length} bytes is too short`);
  const headerLength = ((payload[0]! << 24) >>> 0) + (payload[1]! << 16) + (payload[2]! << 8) + payload[3]!;
  const bodyStart = HEADER_LENGTH_BYTES + headerLength;
  if (bodyStart > payload.length) {
    throw new MalformedMessageError(`an envelope header claims ${headerLength} bytes, more than the ${payload.length}-byte frame`);
  }
  const header = checkHeader(codec.decode(payload.subarray(HEADER_LENGTH_BYTES, bodyStart)));
  return { header, body: payload.subarray(bodyStart) };
}

/** The body of a received envelope; undefined when it has none. Throws what `Codec.decode` throws. */
export function decodeBody(codec: Codec, body: Uint8Array): unknown {
  return body.length === 0 ? undefined : codec.decode(body);
}

function checkHeader(value: unknown): EnvelopeHeader {
  if (!Array.isArray(value)) throw new MalformedMessageError('an envelope header is not an array');
  const ok = (() => {
    switch (value[0]) {
      case EnvelopeKind.TELL: return value.length === 2 && typeof value[1] === 'string';
      case EnvelopeKind.ASK: return value.length === 4 && isId(value[1]) && typeof value[2] === 'string' &&
        typeof value[3] === 'number' && value[3] > 0;
      case EnvelopeKind.REPLY_OK:
      case EnvelopeKind.REPLY_ERROR:
      case EnvelopeKind.LOOKUP_REPLY: return value.length === 2 && isId(value[1]);
      case EnvelopeKind.LOOKUP: return value.length === 3 && isId(value[1]) && typeof value[2] === 'string';
      case EnvelopeKind.PEERS:
      case EnvelopeKind.LEAVING: return value.length === 1;
      default: return false;
    }
  })();
  if (!ok) {
    throw new MalformedMessageError(`an envelope header ${describeHeader(value)} is not one this node knows ` +
      '(a newer node may have sent it: run the same Casty version on every node)');
  }
  return value as unknown as EnvelopeHeader;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function describeHeader(value: unknown[]): string {
  const shown = value.slice(0, 4).map((v) => (typeof v === 'string' ? `'${v.slice(0, 64)}'` : String(v)));
  return `[${shown.join(', ')}${value.length > 4 ? ', ...' : ''}]`;
}
