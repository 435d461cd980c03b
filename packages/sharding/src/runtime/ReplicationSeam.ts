// Where replication (@casty/replication) plugs into sharding: sharding knows only this interface. A node composed
// with replication (clustered() does it) gives its Sharding a ReplicationProvider; each region of a type spawned
// with the `replication` option then gets a RegionReplication, which it tells about entity lifecycles, hand-offs,
// ring changes and restores, and to which it passes the replication messages it receives.

import type { ActorRef, Clock, Codec, Logger } from '@casty/core';
import type { ReplyGate } from '@casty/core/internal';
import type { NodeId } from '@casty/cluster';
import type { ReplyRoute } from '@casty/cluster/internal';

export type { ReplyRoute };
import type { Placement } from './Placement';

/** One entity's state at a version, as replicas and hand-offs carry it: [shard, epoch, entityId, seq, bytes]. */
export type ReplicaEntry = readonly [shard: number, epoch: number, entityId: string, seq: number, state: Uint8Array];

/** What a region's replication needs of its region and node. */
export interface ReplicationHost {
  readonly typeName: string;
  readonly selfId: NodeId;
  readonly logger: Logger;
  readonly codec: Codec;
  readonly clock: Clock;
  /** Most bytes of entity state this node keeps for the type (its own shards' and its backups'). */
  readonly maxBytes: number;
  /** Shard numbers are 0 to shardCount - 1 (what another node sends is checked). */
  readonly shardCount: number;
  placement(): Placement | undefined;
  isLive(nodeId: NodeId): boolean;
  /** Every member alive or suspect in this node's view, those the ring leaves out included (see RegionHost). */
  liveMembers(): readonly NodeId[];
  regionOn(nodeId: NodeId): ActorRef<unknown>;
  /** Sends a small message to the region on `nodeId`; one that cannot go is logged, not thrown. */
  tell(nodeId: NodeId, msg: object): void;
  /**
   * Sends a big message (about `bytes`) to the region on `nodeId` when its connection has room, in order with the
   * region's other big messages to that node (see BulkSends); `failed` gets an error of the send.
   */
  sendBulk(nodeId: NodeId, msg: object, bytes: number, failed: (error: unknown) => void): void;
  /**
   * Delivers, in another node's stead, the reply to an ask that node took (`route`: an ask's `relay`, see ReplyGate);
   * `body` is the reply encoded by the codec. False when it could not go (logged).
   */
  relayReply(route: ReplyRoute, body: Uint8Array): boolean;
  /**
   * `requester` restores `shard`, which this node may hold (their rings disagree a moment, after a heal or a loss of
   * quorum): the region stops the shard's entities here (their states are stored already) and hands what comes
   * for them to `requester`, then calls `then`, which answers the restore. So the restorer starts them only after
   * they stopped here: never two live copies.
   */
  stepDown(shard: number, requester: NodeId, then: () => void): void;
  /** The shard's ownership epoch when this node holds it (or is taking it over), else undefined. */
  epochOf(shard: number): number | undefined;
}

/** A region's replication (see @casty/replication's Replicator). */
export interface RegionReplication {
  /** The gate of an entity of `shard`: after each message its state goes to the backups. */
  gate(shard: number, id: string): ReplyGate;
  /** The state an entity of a held shard starts from (passivated, restored, or handed over), if any. */
  stateOf(shard: number, id: string): Uint8Array | undefined;
  /** An entity's state captured at a hand-off, kept as its newest version under the shard's new epoch. */
  captured(shard: number, epoch: number, id: string, state: Uint8Array): void;
  /** What a hand-off carries of the shard besides its live entities' states. */
  handOffEntries(shard: number): ReplicaEntry[];
  /**
   * Takes what a hand-off brought, at the shard's new epoch; `holders` (with the HandOff itself): the members that
   * hold the shard's content by the sender's knowledge, whom the fill once the hand-off is done leaves out.
   */
  adopt(shard: number, epoch: number, entries: readonly ReplicaEntry[], holders?: readonly NodeId[]): void;
  /** The members that hold the shard's content by this node's knowledge: the backups it filled, and itself. */
  holdersOf(shard: number): NodeId[];
  /** Sends the held shard's content to its backups that have not had it (after a hand-off, say). */
  fill(shard: number): void;
  /** After a ring change: new backups of held shards are filled, what is no longer kept is dropped. */
  ringChanged(held: ReadonlySet<number>): void;
  /** The shard's holder crashed (or none held it): restore it from the members; `done` with its new epoch. */
  restore(shard: number, members: readonly NodeId[], done: (epoch: number) => void): void;
  /** Periodic (the region's tick, about once a second): housekeeping, such as dropping states kept past their time. */
  tick(held: ReadonlySet<number>): void;
  /**
   * The highest ownership epoch of the shard this node has seen (from a restore's fence, a backup's batch, a
   * hand-off); 0 when none.
   */
  fenceOf(shard: number): number;
  /** This node hands the shard over at `epoch`: a restore it answers from now on takes a higher one. */
  handingOff(shard: number, epoch: number): void;
  /** The shard is handed to this node while it restores it: the restore stops (its result would be older). */
  cancelRestore(shard: number): void;
  /** Takes a replication message sent to the region; false for any other message. */
  receive(msg: unknown): boolean;
  /** Bytes of entity state kept, and entities. */
  summary(): { bytes: number; entities: number };
}

/** What @casty/replication gives a node's Sharding. */
export interface ReplicationProvider {
  /**
   * The spawn option `replication`, checked (undefined when absent).
   * @throws {InvalidArgumentError} naming the field that is wrong.
   */
  parse(where: string, value: unknown): object | undefined;
  /**
   * When writes with `settings` wait for backups, how long a `send` waits for its acknowledgement (it resolves
   * only once they hold the new state); undefined when they do not wait (a send resolves once queued).
   */
  sendTimeoutMs(settings: object): number | undefined;
  /** The replication of one region of a type spawned with `settings` (what `parse` returned). */
  forRegion(settings: object, host: ReplicationHost): RegionReplication;
}
