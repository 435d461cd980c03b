// The shard region of one entity type on one node (an actor at /system/sharding-<type>). It holds the shards its
// node owns, creates their entities on demand, and passes on what belongs to shards held elsewhere. When the ring
// changes, shards move by hand-off, with their entities' state:
//
//   A (holder)                                   B (new owner by the ring)
//   stop routing into s; buffer its messages     awaiting s: buffer its messages; ask A (HandOffRequest)
//   each entity: finish queued messages, capture state, stop
//   HandOff(s, epoch + 1, states) ------------>  create each entity from its state; deliver what A sends
//   forward A's buffer, then HandOffDone ----->  then deliver its own buffer in order; s is held
//   s handed off: forward what comes later <---  HandOffAck (a leaving A waits for these)
//
// A replicated type's hand-off carries the shard's stored states instead (the captured ones among them), and B
// starts each entity at its first message, from them (as a passivated entity comes back).
//
// An entity is therefore active on one node at a time (A's stops before B's starts), and nothing A accepted is
// dropped. A holder that crashed has nothing to hand over: its shards start empty on their new owners.

import { Actor, captureState, classNameOf, restoreState, stateUnchanged, Terminated } from '@casty/core';
import type { ActorClass, ActorRef, Clock, Codec, Context, EventStream, Logger } from '@casty/core';
import { detachAsk, hasChild, spawnChildNow, StopInTurn } from '@casty/core/internal';
import type { DetachedAsk, LocalActorRef } from '@casty/core/internal';
import type { NodeId } from '@casty/cluster';
import type { ReplyRoute } from '@casty/cluster/internal';
import type { BulkSends } from './BulkSends';
import type { Placement } from './Placement';
import {
  asEnvelope, EntityEnvelope, EntitySnapshot, HandOff, HandOffAck, HandOffAll, HandOffAnswer, HandOffDone, HandOffPart, HandOffRequest,
  HAND_OFF_PART_BYTES, MAX_HOPS,
  PartsSent, PeerLeaving, PeerLeavingSeen, PeersSilent, QuorumChanged, RegionTick, RingChanged, ShardRestored, StepDown, toWire, AcknowledgedSend,
  deliverAcknowledged,
} from './envelopes';
import { minorityPartitionError, ShardUnavailableError } from './errors';
import { EntityPassivated, ShardHandedOff, ShardTakenOver } from './events';
import { UnroutableRef } from './UnroutableRef';
import { Sequences } from './Sequences';
import { ShardTable } from './ShardTable';
import type { RegionReplication, ReplicaEntry, ReplicationProvider } from './ReplicationSeam';

/** A registered sharded type, as its region needs it. */
export interface ShardedType {
  readonly typeName: string;
  readonly entityClass: ActorClass;
  /** Constructor arguments (after the entity id, for a sharded type). */
  readonly args: readonly unknown[];
  /**
   * A cluster singleton: one entity (its id is the type name), constructed without an id, placed on the oldest
   * member, and started as soon as its holder holds it (not on a first message).
   */
  readonly singleton: boolean;
  /** Idle entities stop after `idleMs`; beyond `maxActive` on this node the least recently used stop. */
  readonly passivation: { readonly idleMs: number; readonly maxActive: number } | undefined;
  /**
   * Entity state replicated to the backups of each shard, with the settings the provider parsed from the spawn
   * option (see ReplicationSeam); undefined without.
   */
  readonly replication?: { readonly provider: ReplicationProvider; readonly settings: object;
    /** Set when a write waits for backups (syncCount >= 1): sends travel as AcknowledgedSend asks with this timeout. */
    readonly sendTimeoutMs: number | undefined } | undefined;
}

/** What a region asks of the node's sharding. */
export interface RegionHost {
  readonly selfId: NodeId;
  readonly logger: Logger;
  /** Most messages buffered for one shard while it moves (or before the node has joined); beyond, asks fail and sends are dead letters. */
  readonly maxBufferedPerShard: number;
  readonly events: EventStream;
  /** Entity state goes through the node's wire codec (refs inside it cross nodes). */
  readonly codec: Codec;
  readonly clock: Clock;
  /** Most bytes of replicated entity state the region keeps (see ReplicationSeam). */
  readonly maxReplicaBytes: number;
  /** This node's ring now; undefined until the node has joined (nothing is held before). */
  ring(): Placement | undefined;
  /** True while `nodeId` is alive or suspect in this node's view. */
  isLive(nodeId: NodeId): boolean;
  /**
   * Every member alive or suspect in this node's view, this node included, also those the ring leaves out (without
   * quorum, leaving): they host nothing, but may hold replicas. Not members with another shard count.
   */
  liveMembers(): readonly NodeId[];
  /** Delivers the reply of an ask another node took, in its stead (see ReplicationHost.relayReply). */
  relayReply(route: ReplyRoute, body: Uint8Array): boolean;
  /** False while `nodeId`'s connection is lost (it crashed, say, and is not declared down yet here). */
  isReachable(nodeId: NodeId): boolean;
  /** False while this node has no quorum (split-brain protection): it hosts nothing then. */
  hasQuorum(): boolean;
  /** The region of this type on `nodeId` (a remote ref; this region's own ref for this node). */
  regionOn(nodeId: NodeId): ActorRef<unknown>;
  /** The region instance now (again after a restart), for the fast path. */
  attach(region: ShardRegion): void;
  /** Big messages to other nodes' regions, sent as their connections take them (the node's one BulkSends). */
  readonly bulk: BulkSends;
  /** Counts for statistics. */
  entityStarted(typeName: string, entityId: string): void;
  entityStopped(typeName: string, entityId: string): void;
  handOffDone(typeName: string, shard: number, to: NodeId, entities: number): void;
  /** The shard of an entity id (the same on every node). */
  shardOf(entityId: string): number;
  /** Shards of the type (shard numbers are 0 to shardCount - 1). */
  readonly shardCount: number;
  /** A member is leaving gracefully: leave it out of the ring from now on. */
  excludeFromRing(nodeId: NodeId): void;
}

/** A message waiting in a region, with the ask it came by (if any) taken out of its turn. */
interface Buffered {
  readonly envelope: EntityEnvelope;
  readonly asked: DetachedAsk;
}

/**
 * A message for a shard whose holder by this node's view cannot be reached, since `since` (on the clock); or, when
 * `disagreed`, one that was passed between regions MAX_HOPS times (their views of the ring disagree for a moment).
 */
interface Unreachable extends Buffered {
  readonly to: NodeId;
  readonly since: number;
  readonly disagreed?: true;
}

/**
 * How long a message waits for a shard's unreachable holder to come back or be replaced in the ring (SWIM
 * declaring it down) before it fails: as long as the registration hold.
 */
const UNREACHABLE_WAIT_MS = 10_000;

type ShardStatus = 'held' | 'handing-off' | 'handed-off' | 'awaiting' | 'draining' | 'restoring';

interface Shard {
  status: ShardStatus;
  /** Ownership epoch: raised at each hand-off, so an older hand-off is refused. */
  epoch: number;
  /** handing-off / handed-off: the node it goes to; awaiting / draining: the node it comes from. */
  peer: NodeId | undefined;
  readonly entities: Map<string, ActorRef<unknown>>;
  buffer: Buffered[];
  /** handing-off: the states captured so far, and how many entities are still to capture. */
  states: [string, Uint8Array | null][];
  capturing: number;
  /** When the current hand-off (or wait for one) began, on the clock. */
  since: number;
  /** Per origin (a sending process), the number of the next message to deliver: each origin's order is kept. */
  next: Sequences;
  /** True when `next` came with a hand-off: an origin it does not list starts at 1 (else at the first one seen). */
  strict: boolean;
  /** Messages that came before an earlier one of their origin, by origin and number, and since when. */
  parked: Map<number, Map<number, Buffered>> | undefined;
  parkedSince: number;
}

/** Default of the most messages a region buffers for one shard while it moves (RegionHost.maxBufferedPerShard). */
export const DEFAULT_MAX_BUFFERED_PER_SHARD = 10_000;
/** Longest a message waits for an earlier one of its sender (lost with a crashed node, or very late). */
const GAP_MS = 1_000;
/** How often awaited hand-offs are asked for again, and stuck captures looked at. */
const TICK_MS = 1_000;
/** Longest a leaving node waits for the others to confirm they route elsewhere. */
const PEERS_TIMEOUT_MS = 5_000;
/** Longest an entity may take to finish its queued messages before a hand-off goes on without its state. */
const CAPTURE_TIMEOUT_MS = 10_000;
/** Least milliseconds between two warnings that a region's message could not be sent. */
const TELL_WARNING_MS = 10_000;

export class ShardRegion extends Actor<unknown> {
  private readonly shards: ShardTable<Shard>;
  /** The ring this region last acted on. */
  private ring: Placement | undefined;
  /** Shards handed off whose HandOffAck has not come (a leaving node waits for them). */
  private readonly unacked = new Set<number>();
  private leaving: { readonly done: DetachedAsk; readonly peersToHear: Set<NodeId>; readonly told: Set<NodeId> } | undefined;
  /** Asks this region passed on to other regions whose answers have not come back (a leaving node waits for them). */
  private inFlight = 0;
  private leavingRing: Placement | undefined;

  /** Replication of the type's entity state; undefined for a type without. */
  private readonly replicator: RegionReplication | undefined;

  constructor(private readonly type: ShardedType, private readonly host: RegionHost) {
    super();
    this.shards = new ShardTable<Shard>(host.shardCount);
    host.attach(this);
    this.replicator = type.replication === undefined ? undefined : type.replication.provider.forRegion(type.replication.settings, {
      typeName: type.typeName, selfId: host.selfId, logger: host.logger, codec: host.codec, clock: host.clock,
      maxBytes: host.maxReplicaBytes, shardCount: host.shardCount, placement: () => this.ownerPlacement(),
      isLive: (nodeId) => host.isLive(nodeId), liveMembers: () => host.liveMembers(), regionOn: (nodeId) => host.regionOn(nodeId),
      tell: (nodeId, msg) => this.tell(nodeId, msg),
      sendBulk: (nodeId, msg, bytes, failed) => host.bulk.send(nodeId, host.regionOn(nodeId), msg, bytes, failed),
      relayReply: (route, body) => host.relayReply(route, body),
      stepDown: (shardNo, requester, then) => {
        if (this.self === undefined) then();
        else void this.self.deliver(new StepDown(shardNo, requester, then));
      },
      epochOf: (shardNo) => {
        const shard = this.shards.get(shardNo);
        return shard === undefined || shard.status === 'handed-off' || shard.status === 'awaiting' ? undefined : shard.epoch;
      },
    });
  }

  /** The placement shards go by: the ring, or while this node leaves, the ring without it. */
  private ownerPlacement(): Placement | undefined {
    return this.leavingRing ?? this.host.ring();
  }

  /**
   * The fast path of a message from another node (see RegionEntry): the live entity `id` of a shard this region
   * holds, when the message is the next one of its origin (every earlier one delivered, so none can still be on its
   * way through the region); undefined otherwise (the message then goes through the region, which orders it).
   * An origin the shard has not heard from yet goes fast only while the region has nothing queued: an earlier
   * message of it may wait there. What else waits in the region (a tick, a ring change, a hand-off request) does
   * not hold the message up: it came before the region acted on those. Called outside the region's turn, on the
   * same thread: it reads its state, and marks the entity used for passivation.
   */
  /**
   * A message from another node for the type's replication (see RegionEntry): taken by it at once, outside the
   * region's turn (it touches only the replication's own state, and asks the region through messages); false for
   * any other message, and always without replication.
   */
  replicationTakes(msg: unknown): boolean {
    return this.replicator?.receive(msg) === true;
  }

  fastEntity(id: string, shardNo: number, origin: number, seq: number, region: LocalActorRef<unknown>): LocalActorRef<unknown> | undefined {
    const shard = this.shards.get(shardNo);
    if (shard === undefined || shard.status !== 'held' || (this.passivating.size > 0 && this.passivating.has(id))) return undefined;
    if (!this.host.hasQuorum()) return undefined; // the region refuses it
    const entity = shard.entities.get(id) as LocalActorRef<unknown> | undefined;
    if (entity === undefined || entity.isStopped) return undefined;
    const expected = shard.next.get(origin) ?? (shard.strict ? 1 : region.isIdle ? seq : 0);
    if (seq !== expected || (shard.parked !== undefined && shard.parked.has(origin))) return undefined;
    shard.next.set(origin, seq + 1);
    if (this.type.passivation !== undefined) this.touch(id, this.coarseNow);
    return entity;
  }

  private ticking = false;
  /** The clock as of the last tick (or start): passivation's idea of "now", without reading the clock per message. */
  private coarseNow = 0;
  /** Messages whose shard no member could hold yet (before the join, or a singleton's first moments), routed at the next placement. */
  private beforeJoin: Buffered[] = [];
  /** Messages for shards whose holder cannot be reached, routed again at the next placement and each tick. */
  private unreachable: Unreachable[] = [];
  /** How many of them wait for each shard: a later message for that shard waits behind them (per-sender order). */
  private waitingPerShard = new Map<number, number>();
  /** While unreachable messages are routed again: when the one being routed began to wait. */
  private waitingSince: number | undefined;
  /** Active entities of held shards, least recently used first (Map order, moved to the end at each message). */
  private readonly lru = new Map<string, number>();
  /** Entities stopping because they were passivated (their cell's path), with the messages that came for them meanwhile. */
  private readonly passivating = new Map<string, { readonly path: string; readonly waiting: Buffered[] }>();

  /** This region's ref, once it has had a message (replication's stepDown signals through it). */
  private self: LocalActorRef<unknown> | undefined;

  override receive(msg: unknown, ctx: Context<unknown>): void {
    if (!this.ticking) {
      this.self = ctx.selfRef as LocalActorRef<unknown>;
      // the region's own clock: ticks re-ask awaited hand-offs and unstick captures
      this.ticking = true;
      this.coarseNow = ctx.system.clock.now();
      ctx.timers.startPeriodicTimer('tick', new RegionTick(), TICK_MS);
    }
    if (msg instanceof StepDown) {
      this.stepDown(msg, ctx); // before the minority guard: a node without quorum answers restores too
      return;
    }
    if (this.minorityGuard(msg, ctx)) return;
    const envelope = asEnvelope(msg);
    const shard = envelope?.shard ?? (msg as { shard?: unknown } | null)?.shard;
    if (shard !== undefined && !(msg instanceof EntitySnapshot) && !this.isShard(shard)) {
      // from another node, so not to be trusted: a shard number out of range would throw in the ring, or grow tables
      const why = `shard ${String(shard)} is not one of this type's ${this.host.shardCount} (0 to ${this.host.shardCount - 1})`;
      if (envelope !== undefined) this.unroutable(envelope, detachAsk(ctx as Context<never>), ctx, why);
      else this.host.logger.warn(`'${this.type.typeName}': dropped a ${classNameOf(msg)} from another node: ${why}`);
      return;
    }
    if (envelope !== undefined) this.route(envelope, ctx);
    else if (this.replicator?.receive(msg) === true) return;
    else if (msg instanceof EntitySnapshot) this.snapshot(msg, ctx);
    else if (msg instanceof HandOff) this.takeOver(msg, ctx);
    else if (msg instanceof HandOffPart) this.takePart(msg, ctx);
    else if (msg instanceof HandOffDone) this.drained(msg.shard, msg.from, ctx);
    else if (msg instanceof ShardRestored) this.restored(msg, ctx);
    else if (msg instanceof HandOffRequest) this.handOffRequested(msg, ctx);
    else if (msg instanceof HandOffAnswer) this.answered(msg, ctx);
    else if (msg instanceof HandOffAck) this.acked(msg.shard);
    else if (msg instanceof RingChanged) this.ringChanged(ctx);
    else if (msg instanceof PartsSent) this.partsSent(msg, ctx);
    else if (msg instanceof RegionTick) this.tick(ctx);
    else if (msg instanceof HandOffAll) this.handOffAll(ctx);
    else if (msg instanceof PeerLeaving) {
      this.host.excludeFromRing(msg.nodeId);
      this.tell(msg.nodeId, new PeerLeavingSeen(this.host.selfId));
    } else if (msg instanceof PeerLeavingSeen) {
      this.leaving?.peersToHear.delete(msg.from);
      this.maybeDoneLeaving();
    } else if (msg instanceof PeersSilent) {
      if (this.leaving !== undefined && this.leaving.peersToHear.size > 0) {
        this.host.logger.warn(`Leaving: ${[...this.leaving.peersToHear].join(', ')} did not confirm within ` +
          `${PEERS_TIMEOUT_MS} ms that they route '${this.type.typeName}' elsewhere; messages they send may be lost`);
        this.leaving.peersToHear.clear();
      }
      this.maybeDoneLeaving();
    }
    else if (msg instanceof Terminated) this.entityTerminated(msg.ref.path, ctx);
    else ctx.unhandled(msg);
  }

  // ---- split-brain protection ----

  /** True once this region stopped hosting because its node lost quorum (until it has quorum again). */
  private inMinority = false;

  /**
   * Split-brain protection, before anything else: a region whose node has no quorum stops hosting (at the first
   * message it sees after the loss, whatever it is) and refuses what would make it host again; once the node has
   * quorum again, it hosts again by the ordinary ring and hand-off rules. True when `msg` was taken here.
   */
  private minorityGuard(msg: unknown, ctx: Context<unknown>): boolean {
    if (this.host.hasQuorum()) {
      if (this.inMinority) this.hostAgain(ctx);
      return msg instanceof QuorumChanged;
    }
    if (!this.inMinority) this.stopHosting(ctx);
    const envelope = asEnvelope(msg);
    if (envelope !== undefined) {
      this.refuseInMinority(envelope, detachAsk(ctx as Context<never>), ctx);
      return true;
    }
    if (msg instanceof HandOff || msg instanceof HandOffPart || msg instanceof HandOffDone) {
      // the sender learns it when it asks for the shard back, or when its ring moves the shard on (see handOffRequested)
      if (msg instanceof HandOff) {
        this.host.logger.warn(`Shard ${msg.shard} of '${this.type.typeName}': a hand-off from '${msg.from}' came while ` +
          'this node has no quorum; refused (the shard is held afresh, from replicas if any, where it belongs next)');
        this.claimOnQuorum.add(msg.shard);
      }
      return true;
    }
    // a ring change waits for the quorum; ticks would only tidy (and replication would retire the states it keeps)
    return msg instanceof QuorumChanged || msg instanceof RingChanged || msg instanceof RegionTick;
  }

  /**
   * Stops every entity and singleton here, without handing anything off (the majority takes the shards over,
   * restoring replicated states from their backups; this node's copies stay in its replication store), and fails
   * what waits here with MinorityPartitionError.
   */
  private stopHosting(ctx: Context<unknown>): void {
    this.inMinority = true;
    let stopped = 0;
    for (const [shardNo, shard] of [...this.shards]) {
      if (shard.status === 'restoring') this.replicator?.cancelRestore(shardNo);
      // Being taken over (its states come in HandOffParts after the HandOff, and those on their way are dropped, here
      // now and later as parts of a hand-off this node no longer takes), or being restored (given up just above):
      // claimed when quorum is back, as a refused hand-off is. Else nobody held it until its next message, and this
      // node, its owner by the ring, kept none of its states (a joiner that lost quorum a second missed 100 shards)
      if ((shard.status === 'draining' && shard.peer !== undefined) || shard.status === 'restoring') this.claimOnQuorum.add(shardNo);
      for (const id of shard.entities.keys()) this.host.entityStopped(this.type.typeName, id); // its Terminated finds no shard
      stopped += this.stopEntities(shard, ctx);
      for (const b of [...shard.buffer, ...this.takeParked(shard)]) this.refuseInMinority(b.envelope, b.asked, ctx);
      shard.buffer = [];
      this.shards.delete(shardNo);
      this.unacked.delete(shardNo);
    }
    const waiting = [...this.beforeJoin, ...this.unreachable];
    this.beforeJoin = [];
    this.unreachable = [];
    this.waitingPerShard = new Map();
    for (const p of this.passivating.values()) waiting.push(...p.waiting.splice(0));
    for (const b of waiting) this.refuseInMinority(b.envelope, b.asked, ctx);
    this.ring = undefined;
    this.host.logger.warn(`'${this.type.typeName}' on '${this.host.selfId}': no quorum; ${stopped} entities stopped, ` +
      `${waiting.length} waiting messages refused`);
    this.maybeDoneLeaving();
  }

  /** Quorum is back: the placement is taken afresh, as at the first ring (shards come by hand-off or restore). */
  private hostAgain(ctx: Context<unknown>): void {
    this.inMinority = false;
    this.ring = undefined;
    this.ringChanged(ctx);
    // a shard whose hand-off this node refused meanwhile is claimed now, not at its first message: its old holder
    // answers 'not-held' and it is restored from its replicas, so its states are held and backed up again (waiting
    // for a message, it had a copy fewer, and the old holder dropped its own a minute later if off the list)
    const refused = [...this.claimOnQuorum];
    this.claimOnQuorum.clear();
    for (const shardNo of refused) if (!this.shards.has(shardNo)) this.claim(shardNo, ctx);
  }

  /**
   * Shards whose hand-off came while this node had no quorum (refused), or was under way when it lost it: claimed
   * when quorum is back.
   */
  private readonly claimOnQuorum = new Set<number>();

  private refuseInMinority(envelope: EntityEnvelope, asked: DetachedAsk, ctx: Context<unknown>): void {
    const error = minorityPartitionError(this.host.selfId, this.type.typeName, envelope.entityId);
    asked.forward(new UnroutableRef(`${ctx.selfRef.path}/${entityChildName(envelope.entityId)}`, error, ctx.system), envelope.message);
  }

  /**
   * Another member restores a shard this region holds (its ring says it owns the shard, and has not learned of this
   * node's claim yet): the shard's entities stop here at once, without a hand-off (their states are stored, and the
   * restore's answer carries them, sent after this), and what comes for the shard goes to the restorer.
   */
  private stepDown(msg: StepDown, ctx: Context<unknown>): void {
    const shard = this.shards.get(msg.shard);
    // handing-off while its entities stop: not sent yet, so the restorer has the newest epoch; it is given up
    const capturing = shard?.status === 'handing-off' && shard.capturing > 0;
    if (shard !== undefined && (shard.status === 'held' || shard.status === 'draining' || capturing)) {
      this.host.logger.warn(`Shard ${msg.shard} of '${this.type.typeName}': '${msg.requester}' restores it while it is ` +
        `held here (their rings disagree for now); its ${shard.entities.size} entities stop here first`);
      this.stopEntities(shard, ctx); // counted when their Terminated comes (the shard stays, handed off)
      shard.capturing = 0;
      shard.states = []; // captured for a hand-off that is given up (their stored versions are in the answer)
      this.yieldTo(shard, msg.requester, ctx);
      this.maybeDoneLeaving();
    } else if (shard?.status === 'restoring' && msg.requester < this.host.selfId) {
      // both restore it: the lower node id goes on, the other gives its restore up (each answers the other's query)
      this.host.logger.warn(`Shard ${msg.shard} of '${this.type.typeName}': '${msg.requester}' restores it too; the ` +
        'lower node id goes on, this node gives its restore up');
      this.replicator?.cancelRestore(msg.shard);
      this.yieldTo(shard, msg.requester, ctx);
    }
    msg.then();
  }

  /** Stops the shard's entities without their state (no hand-off); returns how many. */
  private stopEntities(shard: Shard, ctx: Context<unknown>): number {
    for (const [id, ref] of shard.entities) {
      this.forget(id);
      void ctx.stop(ref as ActorRef<never>);
    }
    const stopped = shard.entities.size;
    shard.entities.clear();
    return stopped;
  }

  /** The shard is `to`'s now (see stepDown): what waited for it here goes there, and what comes later too. */
  private yieldTo(shard: Shard, to: NodeId, ctx: Context<unknown>): void {
    const waiting = [...shard.buffer, ...this.takeParked(shard)];
    shard.buffer = [];
    shard.status = 'handed-off';
    shard.peer = to;
    for (const b of waiting) this.passOn(b.envelope, to, ctx, b.asked);
  }

  /** True for a shard number of this type: an integer from 0 to shardCount - 1. */
  private isShard(shard: unknown): boolean {
    return typeof shard === 'number' && Number.isInteger(shard) && shard >= 0 && shard < this.host.shardCount;
  }

  // ---- routing ----

  private route(envelope: EntityEnvelope, ctx: Context<unknown>): void {
    const placement = this.host.ring();
    if (this.leaving === undefined && !this.shards.has(envelope.shard) &&
      (placement === undefined || placement.ownerOf(envelope.shard) === undefined)) {
      // this node has not joined yet, or no member may hold the shard yet (a singleton before the members' join
      // times have spread): the message waits for the next change of placement
      const asked = detachAsk(ctx as Context<never>);
      if (this.beforeJoin.length >= this.host.maxBufferedPerShard) {
        this.unroutable(envelope, asked, ctx, `no member holds its shard yet (this node has not joined, or the members' ` +
          `join times have not spread) and ${this.host.maxBufferedPerShard} messages wait already`);
      } else {
        this.beforeJoin.push({ envelope, asked });
      }
      return;
    }
    const shard = this.shards.get(envelope.shard) ?? this.claim(envelope.shard, ctx);
    if (shard === undefined) {
      this.passOn(envelope, this.ownerOf(envelope.shard), ctx, detachAsk(ctx as Context<never>));
      return;
    }
    switch (shard.status) {
      case 'held':
        this.deliver(envelope, shard, ctx, undefined);
        return;
      case 'draining':
        // a leaving node passes what it takes over straight on: it creates no entity (its system stops spawning)
        if (envelope.via === shard.peer && this.leaving === undefined) this.deliver(envelope, shard, ctx, undefined);
        else this.buffer(shard, envelope, ctx);
        return;
      case 'handing-off':
      case 'awaiting':
      case 'restoring':
        this.buffer(shard, envelope, ctx);
        return;
      case 'handed-off':
        this.passOn(envelope, shard.peer, ctx, detachAsk(ctx as Context<never>));
        return;
    }
  }

  /** The shard is not known here: take it if this node owns it by the ring (at once, or after a hand-off). */
  private claim(shardNo: number, ctx: Context<unknown>): Shard | undefined {
    const ring = this.host.ring();
    if (ring === undefined || ring.ownerOf(shardNo) !== this.host.selfId || this.leaving !== undefined) return undefined;
    // Whoever held it before this node was in the ring may hold it still: ask it (it answers 'not-held' if not).
    return this.becomeOwner(shardNo, ring.without(this.host.selfId), ctx);
  }

  /**
   * This node owns `shardNo` by its ring: hold it at once when nobody alive held it before (by the previous ring
   * this region acted on, `previous`), else wait for that node to hand it over.
   */
  private becomeOwner(shardNo: number, previous: Placement | undefined, ctx: Context<unknown>): Shard {
    const before = previous?.ownerOf(shardNo);
    const from = before !== undefined && before !== this.host.selfId && this.host.isLive(before) ? before : undefined;
    const shard = newShard(from === undefined ? 'held' : 'awaiting', 0, from, ctx.system.clock.now());
    this.shards.set(shardNo, shard);
    if (from !== undefined) this.tell(from, new HandOffRequest(shardNo, this.host.selfId));
    else if (this.replicator !== undefined) this.restore(shardNo, shard, ctx);
    return shard;
  }

  /**
   * Delivers `envelope` in its origin's order: the next one of its origin goes to its entity (then any parked ones
   * that follow it); one that came before an earlier one waits (parked) for it, at most GAP_MS, after which what is
   * parked is delivered as it is (the earlier one was lost with a crashed node, or is very late).
   */
  private deliver(envelope: EntityEnvelope, shard: Shard, ctx: Context<unknown>, asked: DetachedAsk | undefined): void {
    const { origin, seq } = envelope;
    if (seq <= 0) {
      this.deliverNow(envelope, shard, ctx, asked);
      return;
    }
    const expected = shard.next.get(origin) ?? (shard.strict ? 1 : seq);
    if (seq > expected) {
      let parked = shard.parked?.get(origin);
      if (parked === undefined) {
        if (shard.parked === undefined || shard.parked.size === 0) shard.parkedSince = ctx.system.clock.now();
        (shard.parked ??= new Map()).set(origin, (parked = new Map()));
      }
      parked.set(seq, { envelope, asked: asked ?? detachAsk(ctx as Context<never>) });
      return;
    }
    this.deliverNow(envelope, shard, ctx, asked);
    if (seq < expected) return; // delivered before (a passivated entity's waiting message), or given up waiting for
    let next = seq + 1;
    const parked = shard.parked?.get(origin);
    if (parked !== undefined) {
      for (let b = parked.get(next); b !== undefined; b = parked.get(next)) {
        parked.delete(next);
        this.deliverNow(b.envelope, shard, ctx, b.asked);
        next++;
      }
      if (parked.size === 0) shard.parked!.delete(origin);
    }
    shard.next.set(origin, next);
  }

  /** Stops waiting for the messages that parked ones follow: delivers what is parked, each origin in order. */
  private releaseParked(shard: Shard, ctx: Context<unknown>): void {
    const parked = shard.parked;
    if (parked === undefined) return;
    shard.parked = undefined;
    for (const [origin, byNumber] of parked) {
      const numbers = [...byNumber.keys()].sort((a, b) => a - b);
      for (const n of numbers) this.deliverNow(byNumber.get(n)!.envelope, shard, ctx, byNumber.get(n)!.asked);
      shard.next.set(origin, numbers[numbers.length - 1]! + 1);
    }
  }

  /** The parked messages of a shard that moves on, in each origin's order (the next holder orders them again). */
  private takeParked(shard: Shard): Buffered[] {
    const parked = shard.parked;
    shard.parked = undefined;
    if (parked === undefined) return [];
    return [...parked.values()].flatMap((byNumber) => [...byNumber.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b));
  }

  private deliverNow(envelope: EntityEnvelope, shard: Shard, ctx: Context<unknown>, asked: DetachedAsk | undefined): void {
    const passivated = this.passivating.get(envelope.entityId);
    if (passivated !== undefined) {
      // it is stopping after being passivated: the message waits, and starts it again once it has stopped
      passivated.waiting.push({ envelope, asked: asked ?? detachAsk(ctx as Context<never>) });
      return;
    }
    let entity: ActorRef<unknown>;
    try {
      entity = this.entity(envelope.entityId, envelope.shard, shard, ctx, undefined);
    } catch (error) {
      // its constructor threw: this message fails (an ask rejects with why); the next one tries again
      const ref = new UnroutableRef(`${ctx.selfRef.path}/${entityChildName(envelope.entityId)}`, error as Error, ctx.system);
      if (asked === undefined) ctx.forward(ref, envelope.message);
      else asked.forward(ref, envelope.message);
      return;
    }
    const message = envelope.message;
    if (message instanceof AcknowledgedSend) {
      // a send to a replicated entity, answered once its gate released it (see AcknowledgedSend)
      const done = asked ?? detachAsk(ctx as Context<never>);
      deliverAcknowledged(entity as LocalActorRef<unknown>, message, (value) => done.reply(value), (error) => done.fail(error));
    } else if (asked === undefined) ctx.forward(entity, message);
    else asked.forward(entity, message);
    const passivation = this.type.passivation;
    if (passivation !== undefined) {
      this.touch(envelope.entityId, this.coarseNow);
      if (this.lru.size > passivation.maxActive) this.passivate(this.lru.keys().next().value!, 'max-active', ctx);
    }
  }

  /**
   * Marks an entity used now. With a cap on active entities the map is kept in least-recently-used order (moved to
   * the end); without one only the time changes (a Map keeps the key's place), and the idle scan reads every entry.
   */
  private touch(id: string, now: number): void {
    // the entity touched last at this coarse time is at the end of the order with this time already
    if (id === this.touchedId && now === this.touchedAt) return;
    this.touchedId = id;
    this.touchedAt = now;
    if (this.type.passivation!.maxActive !== Infinity) this.lru.delete(id);
    this.lru.set(id, now);
  }

  /** Takes `id` out of the passivation order (false if it was not in it). */
  private forget(id: string): boolean {
    if (id === this.touchedId) this.touchedId = undefined;
    return this.lru.delete(id);
  }

  /** The entity `touch` marked last, and the coarse time it did. */
  private touchedId: string | undefined = undefined;
  private touchedAt = -1;

  /** Stops an idle (or least recently used) entity after the messages queued for it; one that comes meanwhile waits. */
  private passivate(id: string, reason: 'idle' | 'max-active', ctx: Context<unknown>): void {
    if (!this.forget(id)) return;
    const shard = this.shards.get(this.type.singleton ? 0 : this.host.shardOf(id));
    const ref = shard?.status === 'held' ? shard.entities.get(id) : undefined;
    if (shard === undefined || ref === undefined) return;
    shard.entities.delete(id);
    this.passivating.set(id, { path: ref.path, waiting: [] });
    void (ref as LocalActorRef<unknown>).deliver(new StopInTurn());
    const events = ctx.system.events;
    if (events.hasSubscribers(EntityPassivated)) events.publish(new EntityPassivated(this.type.typeName, id, reason));
  }

  private buffer(shard: Shard, envelope: EntityEnvelope, ctx: Context<unknown>): void {
    const asked = detachAsk(ctx as Context<never>);
    if (shard.buffer.length >= this.host.maxBufferedPerShard) {
      this.unroutable(envelope, asked, ctx, `${this.host.maxBufferedPerShard} messages are buffered for its shard, which is ` +
        `moving between nodes (${shard.status}${shard.peer === undefined ? '' : ` ${shard.peer}`})`);
      return;
    }
    shard.buffer.push({ envelope, asked });
  }

  /** Sends `envelope` on to the region of `to` (counting the hop), or fails it when there is nowhere to go. */
  private passOn(envelope: EntityEnvelope, to: NodeId | undefined, ctx: Context<unknown>, asked: DetachedAsk): void {
    if (to === undefined || to === this.host.selfId) {
      this.unroutable(envelope, asked, ctx, `no member holds shard ${envelope.shard} yet (this node has not joined, or is leaving)`);
      return;
    }
    if (envelope.hops >= MAX_HOPS) {
      // The regions' views of the ring disagree (a member's join time or a ring change has not reached them all):
      // it waits here, as for an unreachable holder, and goes again at this node's next ring change or tick with its
      // hops counted afresh. Failed at once, the first asks to a singleton of a cluster that had just formed failed
      // now and then (the nodes knew each other, but not yet each other's join times).
      if (this.leaving !== undefined) {
        this.unroutable(envelope, asked, ctx, `it was passed between regions ${envelope.hops} times (the nodes' views of ` +
          `the ring disagree), and this node is leaving; last holder seen: '${to}'`);
      } else {
        const again = new EntityEnvelope(envelope.entityId, envelope.shard, envelope.message, 0, envelope.via, envelope.origin, envelope.seq);
        this.park({ envelope: again, asked, to, disagreed: true }, ctx);
      }
      return;
    }
    if (!this.host.isReachable(to) || this.waitingPerShard.has(envelope.shard)) {
      // Its holder by this node's view crashed or is cut off, and is not replaced yet (another node, which sent it
      // here, may already have it down): wait for the ring to change rather than fail at once. Behind the messages
      // for the same shard that wait already, so that none overtakes an earlier one of its sender.
      if (this.leaving !== undefined) {
        this.unroutable(envelope, asked, ctx, `its shard's holder '${to}' cannot be reached, and this node is leaving`);
      } else {
        this.park({ envelope, asked, to }, ctx); // or fails it, past the bound
      }
      return;
    }
    if (asked.isAsk) this.inFlight++;
    asked.forward(this.host.regionOn(to),
      toWire(new EntityEnvelope(envelope.entityId, envelope.shard, envelope.message, envelope.hops + 1, this.host.selfId,
        envelope.origin, envelope.seq)),
      asked.isAsk ? () => { this.inFlight--; this.maybeDoneLeaving(); } : undefined);
  }

  /** Keeps a message to route again at the next ring change or tick (see retryUnreachable). */
  private park(w: Omit<Unreachable, 'since'>, ctx: Context<unknown>): void {
    if (this.unreachable.length >= this.host.maxBufferedPerShard) {
      this.unroutable(w.envelope, w.asked, ctx, `${w.disagreed === true ? 'the nodes\' views of the ring disagree' :
        `its shard's holder '${w.to}' cannot be reached`}, and ${this.host.maxBufferedPerShard} messages wait already for such holders`);
      return;
    }
    this.unreachable.push({ ...w, since: this.waitingSince ?? ctx.system.clock.now() });
    this.waitingPerShard.set(w.envelope.shard, (this.waitingPerShard.get(w.envelope.shard) ?? 0) + 1);
  }

  private unroutable(envelope: EntityEnvelope, asked: DetachedAsk, ctx: Context<unknown>, why: string): void {
    const error = new ShardUnavailableError(`A message for entity '${envelope.entityId}' of '${this.type.typeName}' ` +
      `could not be delivered: ${why}. Try again once membership has settled`);
    asked.forward(new UnroutableRef(`${ctx.selfRef.path}/${entityChildName(envelope.entityId)}`, error, ctx.system), envelope.message);
  }

  private entity(id: string, shardNo: number, shard: Shard, ctx: Context<unknown>, state: Uint8Array | null | undefined): ActorRef<unknown> {
    const existing = shard.entities.get(id);
    if (existing !== undefined) return existing;
    // A stopping entity of the same id (its shard moved away and back) still holds its name: take another.
    let name = entityChildName(id);
    for (let n = 1; hasChild(ctx as Context<never>, name); n++) name = `${entityChildName(id)}#${n}`;
    const replicator = this.replicator;
    if (replicator !== undefined) {
      if (state !== undefined && state !== null) replicator.captured(shardNo, shard.epoch, id, state);
      else state = replicator.stateOf(shardNo, id); // passivated, or restored after a crash, or handed over
    }
    const prepare = state === undefined || state === null ? undefined
      : (instance: object) => restoreState(instance, state, this.host.codec);
    const args = this.type.singleton ? [...this.type.args] : [id, ...this.type.args];
    const { ref, started } = spawnChildNow(ctx as Context<never>, this.type.entityClass, { name, args }, prepare);
    started.catch(() => undefined); // an entity whose onStart fails: its messages are dead letters, its asks fail
    if (replicator !== undefined) (ref as LocalActorRef<unknown>).gateReplies(replicator.gate(shardNo, id));
    // messages already queued for it when the node lost quorum (a process stopped, then resumed: the others took the
    // entity over meanwhile) are refused, not served, before the region stops it
    const host = this.host;
    (ref as LocalActorRef<unknown>).admitOnly(() => host.hasQuorum() ? undefined : minorityPartitionError(host.selfId, this.type.typeName, id));
    shard.entities.set(id, ref);
    ctx.watch(ref as ActorRef<never>);
    this.host.entityStarted(this.type.typeName, id);
    return ref;
  }

  // ---- the ring changed ----

  private ringChanged(ctx: Context<unknown>): void {
    const previous = this.ring;
    const ring = this.host.ring();
    if (ring === undefined) return;
    this.ring = ring;
    if (this.beforeJoin.length > 0) {
      const waiting = this.beforeJoin;
      this.beforeJoin = [];
      for (const b of waiting) this.reroute(b, ctx);
    }
    this.retryUnreachable(ctx);
    if (this.leaving !== undefined) {
      this.leavingRing = ring.without(this.host.selfId); // without the members that leave too, as they are learned
      for (const m of ring.members) if (this.host.isLive(m)) this.tellLeaving(m);
      return;
    }
    for (const [shardNo, shard] of this.shards) {
      const owner = ring.ownerOf(shardNo);
      if (shard.status === 'held' && owner !== this.host.selfId && owner !== undefined) this.beginHandOff(shardNo, shard, owner, ctx);
      else if (shard.status === 'awaiting' && owner !== this.host.selfId) this.giveUpClaim(shardNo, shard, owner, ctx);
      else if (shard.status === 'awaiting' && shard.peer !== undefined && !this.host.isLive(shard.peer)) this.holdFresh(shardNo, shard, ctx);
      else if (shard.status === 'handing-off' && shard.peer !== undefined && !this.host.isLive(shard.peer)) this.retarget(shardNo, shard, ctx);
      else if (shard.status === 'handed-off' && owner === this.host.selfId && (shard.peer === undefined || !this.host.isLive(shard.peer))) {
        this.shards.delete(shardNo); // its holder is gone: claimed afresh below
      } else if (shard.status === 'handed-off' && shard.peer !== undefined && !ring.members.includes(shard.peer)) {
        // the node it went to leaves (or is gone): route by the ring from now on, not to that node
        this.shards.delete(shardNo);
      }
    }
    if (previous === undefined) {
      // the first ring: a sharded type's shards are claimed by their first message; a singleton starts now
      if (this.type.singleton && ring.ownerOf(0) === this.host.selfId && !this.shards.has(0)) this.claim(0, ctx);
      this.startSingleton(ctx);
      return;
    }
    for (const shardNo of ring.shardsOf(this.host.selfId)) {
      if (!this.shards.has(shardNo) && previous.ownerOf(shardNo) !== this.host.selfId) this.becomeOwner(shardNo, previous, ctx);
    }
    this.startSingleton(ctx);
    this.replicateAgain();
  }

  /** Held shards' new backups get their content; what this node no longer keeps is dropped (see RegionReplication). */
  private replicateAgain(): void {
    this.replicator?.ringChanged(this.heldShards());
  }

  private heldShards(): Set<number> {
    const held = new Set<number>();
    for (const [shardNo, shard] of this.shards) if (shard.status === 'held') held.add(shardNo);
    return held;
  }

  /** A singleton runs as soon as this node holds it, whether or not a message has come. */
  private startSingleton(ctx: Context<unknown>): void {
    if (!this.type.singleton) return;
    const shard = this.shards.get(0);
    if (shard !== undefined && shard.status === 'held' && shard.entities.size === 0) {
      this.entity(this.type.typeName, 0, shard, ctx, undefined);
    }
  }

  /** Stops routing into the shard, captures each entity's state as it stops (after its queued messages). */
  private beginHandOff(shardNo: number, shard: Shard, to: NodeId, ctx: Context<unknown>): void {
    shard.buffer.push(...this.takeParked(shard));
    shard.status = 'handing-off';
    shard.peer = to;
    shard.since = ctx.system.clock.now();
    shard.states = [];
    shard.capturing = shard.entities.size;
    for (const id of shard.entities.keys()) this.forget(id);
    const self = ctx.selfRef as LocalActorRef<unknown>;
    for (const [id, ref] of shard.entities) {
      void (ref as LocalActorRef<unknown>).deliver(new StopInTurn((instance) => {
        let state: Uint8Array | null = null;
        try {
          // a replicated entity's state is most often the one stored after its last message: then no new bytes
          state = captureState(instance, this.host.codec, this.replicator?.stateOf(shardNo, id));
        } catch (error) {
          this.host.logger.error(`The state of entity '${id}' of '${this.type.typeName}' could not be captured for a ` +
            `hand-off; it starts empty on '${to}'`, error);
        }
        void self.deliver(new EntitySnapshot(id, shardNo, state));
      }));
    }
    if (shard.capturing === 0) this.sendHandOff(shardNo, shard, ctx);
  }

  private snapshot(msg: EntitySnapshot, ctx: Context<unknown>): void {
    const shard = this.shards.get(msg.shard);
    if (shard === undefined || shard.status !== 'handing-off' || !shard.entities.has(msg.entityId)) return;
    shard.states.push([msg.entityId, msg.state]);
    shard.entities.delete(msg.entityId);
    shard.capturing--;
    if (shard.capturing === 0) this.sendHandOff(msg.shard, shard, ctx);
  }

  /**
   * Every entity of the shard has stopped with its state: hand it over (the HandOff, then the states in parts as the
   * connection takes them, see BulkSends), then what was buffered, then Done. Until the last part is sent the shard
   * stays 'handing-off' here, and what comes for it waits: sent before the states, a message would make its entity
   * afresh on the new holder.
   */
  private sendHandOff(shardNo: number, shard: Shard, ctx: Context<unknown>): void {
    const to = shard.peer!;
    if (to === this.host.selfId) {
      // it came back to this node before it left: hold it again, from the captured states
      this.restoreHere(shardNo, shard, ctx);
      return;
    }
    // A replicated type's captured states join its stored ones (the same bytes, but for a change no gate saw), and
    // only those travel: each entity starts on the new holder at its first message, from them, as a passivated one
    // does. Sent besides the stored states, every live entity's state crossed twice (a join's transfer carried a
    // third more bytes than the joiner kept), and the joiner started every entity at once. A state that could not
    // be stored (past the bound) still travels as a live one.
    const live = this.replicator === undefined ? shard.states : this.storeCaptured(shardNo, shard);
    shard.epoch++;
    const epoch = shard.epoch;
    this.replicator?.handingOff(shardNo, epoch);
    this.host.logger.debug(`Shard ${shardNo} of '${this.type.typeName}': handing it to '${to}' at epoch ${epoch} with ` +
      `${shard.states.length} entities`);
    // the HandOff first (small: the order of each sender), then the states in parts that each fit in a frame
    this.tell(to, new HandOff(shardNo, epoch, this.host.selfId, [], shard.next.entries(), [], this.replicator?.holdersOf(shardNo) ?? []));
    this.sendParts(shardNo, epoch, to, live, this.replicator?.handOffEntries(shardNo) ?? []);
    if (!this.host.bulk.pending(to)) {
      this.finishHandOff(shardNo, shard, ctx);
      return;
    }
    const self = ctx.selfRef as LocalActorRef<unknown>;
    this.host.bulk.after(to, this.host.regionOn(to), () => void self.deliver(new PartsSent(shardNo, epoch, to)));
  }

  /**
   * A replicated type's captured states kept as the entities' newest versions (at the shard's epoch, before the
   * hand-off raises it); returns those that could not be (past the bound), which travel as live states.
   */
  private storeCaptured(shardNo: number, shard: Shard): [string, Uint8Array | null][] {
    const replicator = this.replicator!;
    const unstored: [string, Uint8Array | null][] = [];
    for (const [id, state] of shard.states) {
      if (state === null) continue; // not captured: it starts from its stored state, if any
      replicator.captured(shardNo, shard.epoch, id, state);
      const kept = replicator.stateOf(shardNo, id);
      if (kept === undefined || !stateUnchanged(kept, state)) unstored.push([id, state]);
    }
    return unstored;
  }

  /** The states of a hand-off are all sent (see sendHandOff): what waited for the shard follows, then Done. */
  private partsSent(msg: PartsSent, ctx: Context<unknown>): void {
    const shard = this.shards.get(msg.shard);
    // handed to another node meanwhile (its first target left), or back here: that hand-off goes on by itself
    if (shard === undefined || shard.status !== 'handing-off' || shard.peer !== msg.to || shard.epoch !== msg.epoch) return;
    this.finishHandOff(msg.shard, shard, ctx);
  }

  private finishHandOff(shardNo: number, shard: Shard, ctx: Context<unknown>): void {
    const to = shard.peer!;
    shard.since = ctx.system.clock.now(); // the Done is said again from a tick later until it is acknowledged
    this.host.handOffDone(this.type.typeName, shardNo, to, shard.states.length);
    this.publish(new ShardHandedOff(this.type.typeName, shardNo, to, shard.states.length));
    const buffered = shard.buffer;
    shard.buffer = [];
    shard.states = [];
    shard.status = 'handed-off';
    this.unacked.add(shardNo);
    for (const b of buffered) this.passOn(b.envelope, to, ctx, b.asked);
    this.tell(to, new HandOffDone(shardNo, this.host.selfId));
    this.maybeDoneLeaving();
  }

  /**
   * The states of a hand-off in HandOffParts of about HAND_OFF_PART_BYTES, each sent when the connection has room.
   * A part that cannot be sent (an entity whose state alone is over what a frame carries) is logged with the
   * entities it held: they start empty on `to`.
   */
  private sendParts(shardNo: number, epoch: number, to: NodeId, states: ReadonlyArray<readonly [string, Uint8Array | null]>,
    stored: readonly ReplicaEntry[]): void {
    const from = this.host.selfId;
    const region = this.host.regionOn(to);
    const send = (part: HandOffPart, size: number): void => {
      this.host.bulk.send(to, region, part, size, (error) => this.host.logger.error(`Shard ${shardNo} of ` +
        `'${this.type.typeName}': the state of ${part.entities.length + part.stored.length} entities (first: ` +
        `'${part.entities[0]?.[0] ?? part.stored[0]?.[2]}') could not be sent to '${to}' in its hand-off; they start empty there`, error));
    };
    let entities: [string, Uint8Array | null][] = [];
    let kept: ReplicaEntry[] = [];
    let bytes = 0;
    const add = (size: number): void => {
      if (bytes + size > HAND_OFF_PART_BYTES && entities.length + kept.length > 0) {
        send(new HandOffPart(shardNo, epoch, from, entities, kept), bytes);
        entities = [];
        kept = [];
        bytes = 0;
      }
      bytes += size;
    };
    for (const [id, state] of states) {
      add((state?.byteLength ?? 0) + id.length + 16);
      entities.push([id, state]);
    }
    for (const entry of stored) {
      add(entry[4].byteLength + entry[2].length + 32);
      kept.push(entry);
    }
    if (entities.length + kept.length > 0) send(new HandOffPart(shardNo, epoch, from, entities, kept), bytes);
  }

  /** Sends a small message to the region on `to`; one that cannot go is logged (what waits on it is asked again). */
  private tell(to: NodeId, msg: object): void {
    const failed = (error: unknown): void => {
      const now = this.host.clock.now();
      this.failedTells++;
      if (now - this.tellWarnedAt < TELL_WARNING_MS) return;
      this.tellWarnedAt = now;
      this.host.logger.warn(`'${this.type.typeName}': a ${msg.constructor.name} could not be sent to '${to}' ` +
        `(${this.failedTells} such failures so far); the protocol asks again on its next tick or ring change`, error);
    };
    try {
      this.host.regionOn(to).send(msg).catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  private failedTells = 0;
  private tellWarnedAt = -Infinity;

  /** A part of a hand-off in progress (see HandOffPart): its entities are created, its stored states kept. */
  private takePart(msg: HandOffPart, ctx: Context<unknown>): void {
    const shard = this.shards.get(msg.shard);
    if (shard === undefined || shard.status !== 'draining' || shard.peer !== msg.from || shard.epoch !== msg.epoch) {
      this.host.logger.warn(`Shard ${msg.shard} of '${this.type.typeName}': a part of a hand-off from '${msg.from}' at ` +
        `epoch ${msg.epoch} came when this node is not taking it from there; its ${msg.entities.length + msg.stored.length} states are dropped`);
      return;
    }
    this.replicator?.adopt(msg.shard, msg.epoch, msg.stored);
    if (this.leaving !== undefined) {
      shard.states.push(...msg.entities.map(([id, state]): [string, Uint8Array | null] => [id, state]));
      return;
    }
    for (const [id, state] of msg.entities) this.entity(id, msg.shard, shard, ctx, state);
  }

  private restoreHere(shardNo: number, shard: Shard, ctx: Context<unknown>): void {
    shard.status = 'held';
    shard.peer = undefined;
    for (const [id, state] of shard.states) this.entity(id, shardNo, shard, ctx, state);
    shard.states = [];
    this.flush(shard, ctx);
    this.startSingleton(ctx);
  }

  private retarget(shardNo: number, shard: Shard, ctx: Context<unknown>): void {
    const owner = this.ownerOf(shardNo);
    shard.peer = owner ?? this.host.selfId;
    if (shard.capturing === 0) this.sendHandOff(shardNo, shard, ctx);
  }

  /** It was awaited here, and by the ring now belongs elsewhere: pass what was buffered on to its owner. */
  private giveUpClaim(shardNo: number, shard: Shard, owner: NodeId | undefined, ctx: Context<unknown>): void {
    this.shards.delete(shardNo);
    for (const b of shard.buffer) this.passOn(b.envelope, owner, ctx, b.asked);
  }

  private holdFresh(shardNo: number, shard: Shard, ctx: Context<unknown>): void {
    if (this.replicator !== undefined) {
      this.restore(shardNo, shard, ctx);
      return;
    }
    this.host.logger.debug(`Shard ${shardNo} of '${this.type.typeName}': '${shard.peer}' is gone before handing it ` +
      'over; its entities start empty here');
    shard.status = 'held';
    shard.peer = undefined;
    shard.epoch++;
    this.publish(new ShardTakenOver(this.type.typeName, shardNo, undefined, 0));
    this.flush(shard, ctx);
    this.startSingleton(ctx);
  }

  /**
   * Nobody hands the shard over (its holder crashed, or none held it): its entities' states come from the members'
   * replicas (the newest of each), and messages wait meanwhile. Then it is held at an epoch above any seen.
   */
  private restore(shardNo: number, shard: Shard, ctx: Context<unknown>): void {
    shard.status = 'restoring';
    shard.peer = undefined;
    const self = ctx.selfRef as LocalActorRef<unknown>;
    // every live member, not only the ring's: one without quorum (its regions stopped for a while: the load of a
    // restore delayed its pings, say) is left out of the ring, but keeps the replicas it acknowledged. Asked only the
    // ring, a holder restored a shard without them, and the hand-off back overwrote the acknowledged states.
    const members = this.host.liveMembers();
    this.replicator!.restore(shardNo, members, (epoch) => void self.deliver(new ShardRestored(shardNo, epoch)));
  }

  private restored(msg: ShardRestored, ctx: Context<unknown>): void {
    const shard = this.shards.get(msg.shard);
    if (shard === undefined || shard.status !== 'restoring') return;
    shard.status = 'held';
    shard.epoch = Math.max(shard.epoch + 1, msg.epoch);
    this.publish(new ShardTakenOver(this.type.typeName, msg.shard, undefined, 0));
    this.flush(shard, ctx);
    this.startSingleton(ctx);
    const owner = this.ownerOf(msg.shard);
    if (owner !== undefined && owner !== this.host.selfId && this.host.isLive(owner)) this.beginHandOff(msg.shard, shard, owner, ctx);
    else this.maybeDoneLeaving();
  }

  // ---- taking a shard over ----

  private takeOver(msg: HandOff, ctx: Context<unknown>): void {
    this.tellLeaving(msg.from); // a node that hands a shard to this leaving one did not know it leaves
    const known = this.shards.get(msg.shard);
    if (known !== undefined && known.epoch >= msg.epoch && known.status !== 'awaiting') {
      this.host.logger.warn(`Shard ${msg.shard} of '${this.type.typeName}': a hand-off from '${msg.from}' at epoch ` +
        `${msg.epoch} was refused (this node is at epoch ${known.epoch}, ${known.status})`);
      return;
    }
    const fence = known?.status === 'restoring' ? 0 : this.replicator?.fenceOf(msg.shard) ?? 0;
    if (fence >= msg.epoch) {
      // Another member restored the shard at this epoch or a later one meanwhile, and fenced it here: it asked every
      // live member, the sender included, so it holds what this hand-off carries, and serves writes since. Taken,
      // this hand-off made a second holder, whose next hand-off (a higher epoch) overwrote the restorer's newer states
      // (a heal in SplitBrain.multiprocess: the sender's connection here came back a second late).
      this.host.logger.warn(`Shard ${msg.shard} of '${this.type.typeName}': a hand-off from '${msg.from}' at epoch ` +
        `${msg.epoch} was refused: another member restored the shard at epoch ${fence} meanwhile`);
      return;
    }
    if (known?.status === 'restoring') this.replicator?.cancelRestore(msg.shard); // handed over meanwhile: newer
    if (known !== undefined && known.entities.size > 0) {
      // This node ran the shard at an older epoch while another took it on (it was paused or cut off long enough to
      // be declared down): its instances are stale. They stop without their state; the hand-off's states win.
      this.host.logger.warn(`Shard ${msg.shard} of '${this.type.typeName}': held here at epoch ${known.epoch} while ` +
        `'${msg.from}' hands it over at epoch ${msg.epoch}; its ${known.entities.size} entities here are stale and stop`);
      this.stopEntities(known, ctx);
      known.buffer.push(...this.takeParked(known));
    }
    this.host.logger.debug(`Shard ${msg.shard} of '${this.type.typeName}': taking it over from '${msg.from}' at epoch ` +
      `${msg.epoch}${known === undefined ? '' : ` (was ${known.status} at epoch ${known.epoch})`}`);
    const shard = known ?? newShard('draining', msg.epoch, msg.from, ctx.system.clock.now());
    this.shards.set(msg.shard, shard);
    shard.status = 'draining';
    shard.peer = msg.from;
    shard.epoch = msg.epoch;
    shard.next = new Sequences(msg.sequences);
    shard.strict = true;
    this.replicator?.adopt(msg.shard, msg.epoch, msg.stored, Array.isArray(msg.holders) ? msg.holders.filter((m) => typeof m === 'string') : []);
    if (this.leaving !== undefined) {
      shard.states = msg.entities.map(([id, state]) => [id, state]); // passed on as they are once the sender's stream is done
      return;
    }
    for (const [id, state] of msg.entities) this.entity(id, msg.shard, shard, ctx, state);
  }

  private drained(shardNo: number, from: NodeId, ctx: Context<unknown>): void {
    const shard = this.shards.get(shardNo);
    this.tell(from, new HandOffAck(shardNo, this.host.selfId));
    // a Done said again (the first one's ack was lost) is acknowledged again, and changes nothing
    if (shard === undefined || shard.status !== 'draining' || shard.peer !== from) return;
    if (this.leaving !== undefined) {
      // taken over while this node leaves: hand it straight on, with the states it came with
      const next = this.ownerOf(shardNo);
      if (next === undefined || next === this.host.selfId) {
        this.host.logger.debug(`Shard ${shardNo} of '${this.type.typeName}': every member is leaving; its ` +
          `${shard.states.length} entities stop with the cluster`);
        this.shards.delete(shardNo);
        this.maybeDoneLeaving();
        return;
      }
      shard.status = 'handing-off';
      shard.peer = next;
      shard.capturing = 0;
      this.sendHandOff(shardNo, shard, ctx);
      return;
    }
    shard.status = 'held';
    shard.peer = undefined;
    this.replicator?.fill(shardNo); // the backups the sender did not know to hold its content
    this.publish(new ShardTakenOver(this.type.typeName, shardNo, from, shard.entities.size));
    this.flush(shard, ctx);
    this.startSingleton(ctx);
    // it may already belong elsewhere by this node's ring (views moved on meanwhile), or this node is leaving
    const owner = this.ownerOf(shardNo);
    if (owner !== undefined && owner !== this.host.selfId && this.host.isLive(owner)) this.beginHandOff(shardNo, shard, owner, ctx);
    else this.maybeDoneLeaving();
  }

  /** A message that waited (for a passivated entity to stop) is routed as a new one would be, keeping its ask. */
  private reroute(b: Buffered, ctx: Context<unknown>): void {
    const known = this.shards.get(b.envelope.shard);
    if (known === undefined && this.leaving === undefined && this.host.ring()?.ownerOf(b.envelope.shard) === undefined) {
      this.beforeJoin.push(b); // still nobody to hold it: it waits for the next placement
      return;
    }
    const shard = known ?? this.claim(b.envelope.shard, ctx);
    if (shard === undefined || shard.status === 'handed-off') this.passOn(b.envelope, shard?.peer ?? this.ownerOf(b.envelope.shard), ctx, b.asked);
    else if (shard.status === 'held' || (shard.status === 'draining' && b.envelope.via === shard.peer && this.leaving === undefined)) {
      this.deliver(b.envelope, shard, ctx, b.asked);
    } else shard.buffer.push(b);
  }

  /** Delivers what the shard buffered, in order, now that it is held. */
  private flush(shard: Shard, ctx: Context<unknown>): void {
    const buffered = shard.buffer;
    shard.buffer = [];
    for (const b of buffered) this.deliver(b.envelope, shard, ctx, b.asked);
  }

  private handOffRequested(msg: HandOffRequest, ctx: Context<unknown>): void {
    const shard = this.shards.get(msg.shard);
    const reply = (answer: 'not-held' | 'still-mine' | 'moved', to = ''): void =>
      this.tell(msg.requester, new HandOffAnswer(msg.shard, this.host.selfId, answer, to));
    if (shard === undefined) {
      // Not held here. If by this node's view the requester does not own it (a member this node has not seen join,
      // or still holds dead), no answer yet: the requester asks again each tick, and the views agree by then. A
      // 'not-held' now would let it hold the shard while this node may still claim it by its own ring.
      if (this.host.ring()?.ownerOf(msg.shard) === msg.requester) reply('not-held');
      return;
    }
    if (shard.status === 'held') {
      const owner = this.host.ring()?.ownerOf(msg.shard);
      if (owner === msg.requester) this.beginHandOff(msg.shard, shard, owner, ctx);
      else reply('still-mine');
      return;
    }
    // handed to the requester itself, which asks for it: the hand-off never reached it (it was refused there, by a
    // node without quorum, or lost): it holds the shard afresh (restoring replicated states) instead of waiting forever
    if (shard.status === 'handed-off' && shard.peer === msg.requester) {
      reply('not-held');
      return;
    }
    // handed to another node: the requester asks that one (which hands it on when its own ring agrees)
    if (shard.status === 'handed-off' && shard.peer !== msg.requester && shard.peer !== undefined) reply('moved', shard.peer);
    // handing-off, draining, awaiting: the hand-off (or an answer) comes when it is done
  }

  private answered(msg: HandOffAnswer, ctx: Context<unknown>): void {
    const shard = this.shards.get(msg.shard);
    if (shard === undefined || shard.status !== 'awaiting' || shard.peer !== msg.from) return;
    if (msg.answer === 'not-held') this.holdFresh(msg.shard, shard, ctx);
    else if (msg.answer === 'moved' && msg.to !== this.host.selfId && this.host.isLive(msg.to)) {
      shard.peer = msg.to;
      this.tell(msg.to, new HandOffRequest(msg.shard, this.host.selfId));
    }
  }

  private acked(shardNo: number): void {
    this.unacked.delete(shardNo);
    this.maybeDoneLeaving();
  }

  /**
   * A leaving node is done once the others leave it out of their rings, every shard it held is taken over, every
   * ask it passed on has been answered, and nothing waits for an unreachable holder: nothing in flight is cut off
   * when it leaves.
   */
  private maybeDoneLeaving(): void {
    const leaving = this.leaving;
    if (leaving === undefined || leaving.peersToHear.size > 0 || this.unacked.size > 0 || this.pendingLeave() > 0 ||
      this.inFlight > 0 || this.unreachable.length > 0) return;
    leaving.done.reply(true);
  }

  // ---- periodic ----

  /** Routes again what waits for unreachable holders; fails what waited UNREACHABLE_WAIT_MS. */
  private retryUnreachable(ctx: Context<unknown>): void {
    if (this.unreachable.length === 0) return;
    const now = ctx.system.clock.now();
    const waiting = this.unreachable;
    this.unreachable = [];
    this.waitingPerShard = new Map();
    for (const w of waiting) {
      if (now - w.since >= UNREACHABLE_WAIT_MS) {
        this.unroutable(w.envelope, w.asked, ctx, w.disagreed === true
          ? `the nodes' views of the ring disagreed for ${UNREACHABLE_WAIT_MS} ms (it was passed between regions ` +
            `${MAX_HOPS} times at each try); last holder seen: '${w.to}'`
          : `its shard's holder '${w.to}' could not be reached for ${UNREACHABLE_WAIT_MS} ms, and membership did not replace it`);
        continue;
      }
      this.waitingSince = w.since;
      try {
        this.reroute(w, ctx);
      } finally {
        this.waitingSince = undefined;
      }
    }
    this.maybeDoneLeaving(); // a leaving node waits for these too (each at most UNREACHABLE_WAIT_MS)
  }

  private tick(ctx: Context<unknown>): void {
    const now = ctx.system.clock.now();
    this.coarseNow = now;
    this.replicator?.tick(this.heldShards());
    this.retryUnreachable(ctx);
    if (this.beforeJoin.length > 0 && this.host.ring() !== undefined) {
      const waiting = this.beforeJoin;
      this.beforeJoin = [];
      for (const b of waiting) this.reroute(b, ctx);
    }
    for (const shard of this.shards.values()) {
      if (shard.parked !== undefined && shard.parked.size > 0 && now - shard.parkedSince >= GAP_MS && shard.status === 'held') {
        this.host.logger.debug(`'${this.type.typeName}': messages waited ${GAP_MS} ms for earlier ones of their senders; ` +
          'delivered as they are');
        this.releaseParked(shard, ctx);
      }
    }
    const idleMs = this.type.passivation?.idleMs;
    if (idleMs !== undefined) {
      const ordered = this.type.passivation!.maxActive !== Infinity;
      for (const [id, last] of this.lru) {
        if (now - last < idleMs) {
          if (ordered) break; // least recently used first: the rest are younger
          continue;
        }
        this.passivate(id, 'idle', ctx);
      }
    }
    for (const shardNo of this.unacked) {
      // the HandOffDone went out and no HandOffAck came (a Done that could not be sent, say): said again, or the new
      // holder would drain the shard forever. After the states and forwarded messages on the same connection.
      const shard = this.shards.get(shardNo);
      if (shard?.status !== 'handed-off' || shard.peer === undefined) this.unacked.delete(shardNo);
      else if (this.host.isLive(shard.peer) && now - shard.since >= TICK_MS) this.tell(shard.peer, new HandOffDone(shardNo, this.host.selfId));
    }
    for (const [shardNo, shard] of this.shards) {
      if (shard.status === 'awaiting' && shard.peer !== undefined) {
        if (!this.host.isLive(shard.peer)) this.holdFresh(shardNo, shard, ctx);
        else this.tell(shard.peer, new HandOffRequest(shardNo, this.host.selfId));
      } else if (shard.status === 'handing-off' && now - shard.since > CAPTURE_TIMEOUT_MS && shard.capturing > 0) {
        this.host.logger.warn(`Shard ${shardNo} of '${this.type.typeName}': ${shard.capturing} entities did not finish ` +
          `their queued messages within ${CAPTURE_TIMEOUT_MS} ms; they are stopped and start empty on '${shard.peer}'`);
        for (const [id, ref] of shard.entities) {
          shard.states.push([id, null]);
          void ctx.stop(ref as ActorRef<never>);
        }
        shard.entities.clear();
        shard.capturing = 0;
        this.sendHandOff(shardNo, shard, ctx);
      }
    }
  }

  // ---- leaving ----

  private handOffAll(ctx: Context<unknown>): void {
    const asked = detachAsk(ctx as Context<never>);
    const ring = this.host.ring();
    const others = ring?.members.filter((m) => m !== this.host.selfId && this.host.isLive(m)) ?? [];
    if (ring === undefined || others.length === 0) {
      asked.reply(false); // nobody to hand over to: the entities stop with the node
      return;
    }
    this.leaving = { done: asked, peersToHear: new Set(), told: new Set() };
    this.leavingRing = ring.without(this.host.selfId);
    for (const other of others) this.tellLeaving(other);
    ctx.timers.startSingleTimer('peers-silent', new PeersSilent(), PEERS_TIMEOUT_MS);
    for (const [shardNo, shard] of this.shards) {
      if (shard.status === 'awaiting') this.giveUpClaim(shardNo, shard, this.leavingRing.ownerOf(shardNo), ctx);
    }
    for (const [shardNo, shard] of this.shards) {
      const owner = this.leavingRing.ownerOf(shardNo);
      // with nobody left to take it (the whole cluster stops), its entities stop with this node
      if (shard.status === 'held' && owner !== undefined) this.beginHandOff(shardNo, shard, owner, ctx);
    }
    // what waits for an unreachable holder goes now if it can, else fails: the leave does not wait for it
    this.retryUnreachable(ctx);
    this.maybeDoneLeaving();
  }

  /**
   * Tells `nodeId` that this node is leaving, once, and waits for its confirmation: members known when the leave
   * began, and any met later (a node that joined meanwhile, or that sent a hand-off before it knew).
   */
  private tellLeaving(nodeId: NodeId): void {
    const leaving = this.leaving;
    if (leaving === undefined || nodeId === this.host.selfId || leaving.told.has(nodeId)) return;
    leaving.told.add(nodeId);
    leaving.peersToHear.add(nodeId);
    this.tell(nodeId, new PeerLeaving(this.host.selfId));
  }

  private pendingLeave(): number {
    let n = 0;
    for (const shard of this.shards.values()) if (shard.status === 'handing-off' || shard.status === 'draining') n++;
    return n;
  }

  private ownerOf(shardNo: number): NodeId | undefined {
    return (this.leavingRing ?? this.host.ring())?.ownerOf(shardNo);
  }

  private entityTerminated(path: string, ctx: Context<unknown>): void {
    // its id from its child name, its shard from its id: no map from paths to entities (memory per entity counts)
    const id = entityIdOfChildName(path.slice(path.lastIndexOf('/') + 1));
    const entity = { id, shard: this.type.singleton ? 0 : this.host.shardOf(id) };
    const passivated = this.passivating.get(entity.id);
    if (passivated !== undefined && passivated.path === path) {
      const waiting = passivated.waiting;
      this.passivating.delete(entity.id);
      this.host.entityStopped(this.type.typeName, entity.id);
      // what came while it stopped goes where the shard's messages go now (a new instance here, in order)
      for (const b of waiting) this.reroute(b, ctx);
      return;
    }
    this.forget(entity.id);
    const shard = this.shards.get(entity.shard);
    if (shard === undefined) return;
    const ref = shard.entities.get(entity.id);
    if (ref !== undefined && ref.path === path) {
      shard.entities.delete(entity.id);
      if (shard.status === 'handing-off') {
        // it stopped before its turn came (a failure): hand it over empty
        shard.states.push([entity.id, null]);
        shard.capturing--;
      }
    }
    this.host.entityStopped(this.type.typeName, entity.id);
  }

  private publish(event: ShardHandedOff | ShardTakenOver): void {
    const events = this.host.events;
    if (events.hasSubscribers(event.constructor as typeof ShardHandedOff)) events.publish(event);
  }

  /** Shards by status, and entities active here (statistics). */
  summary(): { held: number; moving: number; entities: number; buffered: number; replicaBytes: number; replicaEntities: number } {
    let held = 0;
    let moving = 0;
    let entities = 0;
    // buffered: what waits for a moving shard, for a placement, or for an unreachable holder to be replaced
    let buffered = this.beforeJoin.length + this.unreachable.length;
    for (const shard of this.shards.values()) {
      if (shard.status === 'held') held++;
      else if (shard.status !== 'handed-off') moving++;
      entities += shard.entities.size;
      buffered += shard.buffer.length;
    }
    const replicas = this.replicator?.summary() ?? { bytes: 0, entities: 0 };
    return { held, moving, entities, buffered, replicaBytes: replicas.bytes, replicaEntities: replicas.entities };
  }
}

function newShard(status: ShardStatus, epoch: number, peer: NodeId | undefined, now: number): Shard {
  return { status, epoch, peer, entities: new Map(), buffer: [], states: [], capturing: 0, since: now, next: new Sequences(),
    strict: false, parked: undefined, parkedSince: 0 };
}

const PLAIN_ID = /^[A-Za-z0-9_.:@+=,;!*'()-][A-Za-z0-9_.:@+=,;!*'()~-]*$/;

/**
 * An entity's child name: its id where that is a plain name (no '%', '#', '$' first, '/', spaces...), else the id
 * percent-encoded; a '#n' suffix is added only while a stopping entity of the same id still holds the name.
 */
export function entityChildName(id: string): string {
  return PLAIN_ID.test(id) ? id : encodeURIComponent(id);
}

/** The entity id an entity's child name stands for (see entityChildName). */
export function entityIdOfChildName(name: string): string {
  const base = name.split('#')[0]!;
  return base.includes('%') ? decodeURIComponent(base) : base;
}
