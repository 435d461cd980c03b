// The SWIM wire messages and their binary encoding. A SWIM frame is one or more messages back to back: the
// first is what the frame is for (a ping, an ack, a push-pull part), the rest are membership updates
// piggybacked on it (alive, suspect, dead, left). Every message starts with its kind byte and is
// self-delimiting, so a frame is cut without a table of lengths and an update's size is its encoded length.

import type { NodeAddress, NodeId } from '../transport/Transport';
import { MemberState } from './MemberState';
import { ByteReader, ByteWriter, chunkBySize, concatBytes } from '../internal/bytes';

/**
 * Message kinds, the first byte of every message.
 *
 * This list is ONLY APPENDED TO: the numbers are on the wire, so a kind is never reused or renumbered
 * (memberlist net.go's messageType).
 */
export const SwimKind = {
  /** A probe: "are you `target`?"; answered with ACK. */
  PING: 0,
  /** Asks the receiver to probe `target` on the sender's behalf and relay the ACK (and a NACK if it gets none). */
  PING_REQ: 1,
  /** The answer to PING (or a relayed answer to PING_REQ), matched by `seq`. */
  ACK: 2,
  /** From an indirect prober: "I asked, and the target did not answer me either" (Lifeguard). */
  NACK: 3,
  /** A member is alive at `incarnation` (a join, a refutation, or a rejoin). */
  ALIVE: 4,
  /** `from` suspects a member at `incarnation`. */
  SUSPECT: 5,
  /** `from` declared a member dead at `incarnation`. */
  DEAD: 6,
  /** A member announced it is leaving, at `incarnation`. */
  LEFT: 7,
  /** One part of a full member list, for a push-pull sync or a join. */
  PUSH_PULL: 8,
} as const;

export type SwimKind = (typeof SwimKind)[keyof typeof SwimKind];

export interface Ping { readonly kind: typeof SwimKind.PING; readonly seq: number; readonly target: NodeId }
export interface PingReq {
  readonly kind: typeof SwimKind.PING_REQ;
  readonly seq: number;
  readonly target: NodeId;
  readonly targetAddress: NodeAddress;
  /** Whether the requester wants a NACK when the target does not answer (Lifeguard). */
  readonly wantNack: boolean;
}
export interface Ack { readonly kind: typeof SwimKind.ACK; readonly seq: number }
export interface Nack { readonly kind: typeof SwimKind.NACK; readonly seq: number }
export interface Alive {
  readonly kind: typeof SwimKind.ALIVE;
  readonly id: NodeId;
  readonly address: NodeAddress;
  readonly incarnation: number;
}
export interface Suspect { readonly kind: typeof SwimKind.SUSPECT; readonly id: NodeId; readonly incarnation: number; readonly from: NodeId }
export interface Dead { readonly kind: typeof SwimKind.DEAD; readonly id: NodeId; readonly incarnation: number; readonly from: NodeId }
export interface Left { readonly kind: typeof SwimKind.LEFT; readonly id: NodeId; readonly incarnation: number }

/** One member in a push-pull part. */
export interface PushPullMember {
  readonly id: NodeId;
  readonly address: NodeAddress;
  readonly incarnation: number;
  readonly state: MemberState;
}
export interface PushPull {
  readonly kind: typeof SwimKind.PUSH_PULL;
  /** The sender is joining: the receiver answers even though it does not know the sender yet. */
  readonly join: boolean;
  /** The receiver should answer with its own member list (set on the first part of a request only). */
  readonly answer: boolean;
  readonly members: readonly PushPullMember[];
}

/** A membership update: what is piggybacked and gossiped. */
export type SwimUpdate = Alive | Suspect | Dead | Left;
export type SwimMessage = Ping | PingReq | Ack | Nack | SwimUpdate | PushPull;

/** Member states on the wire (only appended to). */
const STATE_CODES: readonly MemberState[] = [MemberState.ALIVE, MemberState.SUSPECT, MemberState.DEAD, MemberState.LEFT];
const PUSH_PULL_JOIN = 1;
const PUSH_PULL_ANSWER = 2;
/** Kind, flags and the u32 member count of a push-pull part. */
const PUSH_PULL_HEADER_BYTES = 6;

/** The bytes of one message. */
export function encodeMessage(message: SwimMessage): Uint8Array {
  const w = new ByteWriter().u8(message.kind);
  switch (message.kind) {
    case SwimKind.PING: return w.u32(message.seq).str(message.target).finish();
    case SwimKind.PING_REQ:
      return w.u32(message.seq).str(message.target).address(message.targetAddress).u8(message.wantNack ? 1 : 0).finish();
    case SwimKind.ACK:
    case SwimKind.NACK: return w.u32(message.seq).finish();
    case SwimKind.ALIVE: return w.str(message.id).address(message.address).u32(message.incarnation).finish();
    case SwimKind.SUSPECT:
    case SwimKind.DEAD: return w.str(message.id).u32(message.incarnation).str(message.from).finish();
    case SwimKind.LEFT: return w.str(message.id).u32(message.incarnation).finish();
    case SwimKind.PUSH_PULL: {
      w.u8((message.join ? PUSH_PULL_JOIN : 0) | (message.answer ? PUSH_PULL_ANSWER : 0)).u32(message.members.length);
      for (const m of message.members) w.raw(encodePushPullMember(m));
      return w.finish();
    }
  }
}

function encodePushPullMember(m: PushPullMember): Uint8Array {
  return new ByteWriter(32).str(m.id).address(m.address).u32(m.incarnation).u8(STATE_CODES.indexOf(m.state)).finish();
}

/**
 * A push-pull of `members`, split into frames of at most `chunkBytes` (each a whole PUSH_PULL message), so
 * however many members there are no frame passes the limit. Only the first part asks for an answer, so a
 * long list is answered once. Always at least one frame, so an empty list still gets its answer.
 */
export function encodePushPull(join: boolean, answer: boolean, members: readonly PushPullMember[], chunkBytes: number): Uint8Array[] {
  return chunkBySize(members.map(encodePushPullMember), PUSH_PULL_HEADER_BYTES, chunkBytes).map((part, i) => {
    const flags = (join ? PUSH_PULL_JOIN : 0) | (answer && i === 0 ? PUSH_PULL_ANSWER : 0);
    return concatBytes([new ByteWriter(PUSH_PULL_HEADER_BYTES).u8(SwimKind.PUSH_PULL).u8(flags).u32(part.length).finish(), ...part]);
  });
}

/** A frame: the encoded primary message followed by piggybacked `updates` (each already encoded). */
export function encodeFrame(primary: Uint8Array, updates: readonly Uint8Array[]): Uint8Array {
  return updates.length === 0 ? primary : concatBytes([primary, ...updates]);
}

/** The messages of a frame, in order. @throws {MalformedMessageError} for truncated bytes or an unknown kind. */
export function decodeFrame(payload: Uint8Array): SwimMessage[] {
  const r = new ByteReader(payload, 'SWIM frame');
  const out: SwimMessage[] = [];
  while (!r.done) out.push(decodeMessage(r));
  if (out.length === 0) r.fail('the frame is empty');
  return out;
}

function decodeMessage(r: ByteReader): SwimMessage {
  const kind = r.u8();
  switch (kind) {
    case SwimKind.PING: return { kind, seq: r.u32(), target: r.str() };
    case SwimKind.PING_REQ: return { kind, seq: r.u32(), target: r.str(), targetAddress: r.address(), wantNack: r.u8() === 1 };
    case SwimKind.ACK:
    case SwimKind.NACK: return { kind, seq: r.u32() };
    case SwimKind.ALIVE: return { kind, id: r.str(), address: r.address(), incarnation: r.u32() };
    case SwimKind.SUSPECT:
    case SwimKind.DEAD: return { kind, id: r.str(), incarnation: r.u32(), from: r.str() };
    case SwimKind.LEFT: return { kind, id: r.str(), incarnation: r.u32() };
    case SwimKind.PUSH_PULL: {
      const flags = r.u8();
      const count = r.u32();
      const members: PushPullMember[] = [];
      for (let i = 0; i < count; i++) {
        const id = r.str();
        const address = r.address();
        const incarnation = r.u32();
        const state = STATE_CODES[r.u8()] ?? r.fail(`member '${id}' has an unknown state code`);
        members.push({ id, address, incarnation, state });
      }
      return { kind, join: (flags & PUSH_PULL_JOIN) !== 0, answer: (flags & PUSH_PULL_ANSWER) !== 0, members };
    }
    default:
      return r.fail(`message kind ${kind} is not one this node knows (a newer node may have sent it: run the same ` +
        'Casty version on every node)');
  }
}
