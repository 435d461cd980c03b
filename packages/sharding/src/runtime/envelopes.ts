// What travels between shard regions: messages for entities, and the hand-off of a shard from the node that
// holds it to the node that will (its entities' state included).

import { message } from '@casty/core';
import type { ReplicaEntry } from './ReplicationSeam';

/** A message for the entity `entityId` of a region's type, in shard `shard`. */
@message('casty.sharding.EntityEnvelope')
export class EntityEnvelope {
  constructor(
    readonly entityId: string,
    readonly shard: number,
    readonly message: unknown,
    /** Regions that forwarded it so far (the holder by their view was another node). */
    readonly hops: number,
    /** The node whose region forwarded it last, '' when it comes from its sender. */
    readonly via: string,
    /**
     * The sending process: a random number it drew at start (53 bits, as Akka's UniqueAddress uid), by which it numbers
     * what it sends to each shard. A number, not a string: it travels in every entity message.
     */
    readonly origin: number,
    /** 1, 2, 3... per origin and shard: the holder delivers each origin's messages in this order. */
    readonly seq: number,
  ) {}
}

/**
 * An EntityEnvelope as a region takes it: a plain array (entityId, shard, message, origin, seq[, hops, via]), which
 * the codec writes without the class name and field names a @message instance carries. A message from its sender
 * to another node's region travels as a keyed envelope instead (the first five fields in the envelope's header,
 * see RemoteMessaging.tellKeyed), and is this array again on the receiving node when it goes through the region;
 * a message a region passes on to another node travels as the seven-field array.
 */
export type WireEnvelope =
  | [entityId: string, shard: number, message: unknown, origin: number, seq: number]
  | [entityId: string, shard: number, message: unknown, origin: number, seq: number, hops: number, via: string];

/** The wire form of `envelope`: five fields straight from its sender, seven once a region has passed it on. */
export function toWire(envelope: EntityEnvelope): WireEnvelope {
  return envelope.hops === 0
    ? [envelope.entityId, envelope.shard, envelope.message, envelope.origin, envelope.seq]
    : [envelope.entityId, envelope.shard, envelope.message, envelope.origin, envelope.seq, envelope.hops, envelope.via];
}

/** `msg` as an EntityEnvelope when it is one (or its wire form), else undefined. */
export function asEnvelope(msg: unknown): EntityEnvelope | undefined {
  if (msg instanceof EntityEnvelope) return msg;
  if (!Array.isArray(msg) || (msg.length !== 5 && msg.length !== 7)) return undefined;
  const [entityId, shard, message, origin, seq, hops = 0, via = ''] = msg as unknown[];
  if (typeof entityId !== 'string' || typeof shard !== 'number' || typeof hops !== 'number' || typeof via !== 'string' ||
    typeof origin !== 'number' || typeof seq !== 'number') return undefined;
  return new EntityEnvelope(entityId, shard, message, hops, via, origin, seq);
}

/**
 * A `send` to an entity of a replicated type whose writes wait for backups (syncCount >= 1): it travels as an ask of
 * this wrapper, and is answered (with undefined) once the entity processed `message` and its reply gate released it,
 * so the send resolves only when the backups hold the new state (or rejects as the gate does).
 */
@message('casty.sharding.AcknowledgedSend')
export class AcknowledgedSend {
  constructor(readonly message: unknown) {}
}

/** Delivers an AcknowledgedSend's message to `entity` as a send, and answers when its (gated) promise settles. */
export function deliverAcknowledged(entity: { deliver(msg: unknown): Promise<void> }, msg: AcknowledgedSend,
  replied: (value: unknown) => void, failed: (error: unknown) => void): void {
  entity.deliver(msg.message).then(() => replied(undefined), failed);
}

/** B asks A, the node it believes held `shard`, to hand it over (or say it does not hold it). */
@message('casty.sharding.HandOffRequest')
export class HandOffRequest {
  constructor(readonly shard: number, readonly requester: string) {}
}

/**
 * A's answer to a HandOffRequest it does not answer with the shard itself: 'not-held' (A never held it: take it),
 * 'still-mine' (A holds it and by its ring keeps it: wait), or 'moved' (A handed it to `to`: ask that node).
 */
@message('casty.sharding.HandOffAnswer')
export class HandOffAnswer {
  constructor(readonly shard: number, readonly from: string, readonly answer: 'not-held' | 'still-mine' | 'moved',
    readonly to: string) {}
}

/**
 * The shard `shard`, handed from `from` at ownership epoch `epoch`: each entity's id and state (null when its
 * state could not be captured: it starts empty). Messages A had buffered follow it, then a HandOffDone.
 */
@message('casty.sharding.HandOff')
export class HandOff {
  constructor(readonly shard: number, readonly epoch: number, readonly from: string,
    readonly entities: ReadonlyArray<readonly [string, Uint8Array | null]>,
    /** Per origin, the next message number the shard expects (so the new holder keeps each sender's order). */
    readonly sequences: ReadonlyArray<readonly [number, number]>,
    /** A replicated type's stored entity states (passivated entities' too), for the new holder to keep. */
    readonly stored: readonly ReplicaEntry[] = [],
    /**
     * A replicated type's members that hold the shard's content by the sender's knowledge (the backups it filled, and
     * itself): the new holder fills only its other backups (before, it sent every state to every backup again).
     */
    readonly holders: readonly string[] = []) {}
}

/**
 * Entity states of a HandOff, in parts of about HAND_OFF_PART_BYTES (a frame carries at most 16 MiB): A sends them
 * after the HandOff, before what it forwards and the HandOffDone, so B creates every entity before its messages. A
 * replicated type's parts carry its stored states (`stored`), live entities' captured states among them, and no
 * `entities` but those whose state could not be stored: B starts the others at their first message.
 */
@message('casty.sharding.HandOffPart')
export class HandOffPart {
  constructor(readonly shard: number, readonly epoch: number, readonly from: string,
    readonly entities: ReadonlyArray<readonly [string, Uint8Array | null]>,
    readonly stored: readonly ReplicaEntry[] = []) {}
}

/** About the most bytes of entity state in one HandOffPart. */
export const HAND_OFF_PART_BYTES = 1024 * 1024;

/** The end of what A forwards of a shard it handed off: B delivers what it buffered itself after this. */
@message('casty.sharding.HandOffDone')
export class HandOffDone {
  constructor(readonly shard: number, readonly from: string) {}
}

/** B has taken the shard (A's shutdown waits for these). */
@message('casty.sharding.HandOffAck')
export class HandOffAck {
  constructor(readonly shard: number, readonly from: string) {}
}

/** A node leaving gracefully tells the other regions of its type to leave it out of their rings now. */
@message('casty.sharding.PeerLeaving')
export class PeerLeaving {
  constructor(readonly nodeId: string) {}
}

/**
 * The answer to PeerLeaving, sent as a tell on the same connection as everything that node sent the leaving one
 * before: once the leaving node has every answer, nothing routed to it by the others is still on its way.
 */
@message('casty.sharding.PeerLeavingSeen')
export class PeerLeavingSeen {
  constructor(readonly from: string) {}
}

// ---- local signals (never cross the wire) ----

/** The node's ring changed: shards move. */
export class RingChanged {}

/** The node lost or regained quorum (split-brain protection): the region stops hosting, or hosts again. */
export class QuorumChanged {}

/** The state of an entity captured as it stopped for a hand-off. */
export class EntitySnapshot {
  constructor(readonly entityId: string, readonly shard: number, readonly state: Uint8Array | null) {}
}

/** The states of a hand-off of `shard` at `epoch` to `to` are all sent (see ShardRegion.sendHandOff). */
export class PartsSent {
  constructor(readonly shard: number, readonly epoch: number, readonly to: string) {}
}

/** Hand every held shard to its owner in the ring without this node (graceful leave); answered when all are taken. */
export class HandOffAll {}

/** A leaving region stops waiting for the PeerLeavingSeen of peers that did not answer. */
export class PeersSilent {}

/**
 * `requester` restores `shard`, which this node holds (their rings disagree a moment): the region stops the shard's
 * entities here, then `then` answers the restore (see ReplicationHost.stepDown).
 */
export class StepDown {
  constructor(readonly shard: number, readonly requester: string, readonly then: () => void) {}
}

/** A replicated shard's entities' states are back from the members' replicas: hold it at `epoch`. */
export class ShardRestored {
  constructor(readonly shard: number, readonly epoch: number) {}
}

/** Periodic: re-ask awaited hand-offs, give up stuck captures. */
export class RegionTick {}

/** Most times a message is passed from region to region before it is given up as unroutable. */
export const MAX_HOPS = 4;
