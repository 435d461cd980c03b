// What regions of a replicated type send each other about entity state (see Replicator): snapshots to the backups
// of a shard, their acknowledgements, and the questions a new owner asks after the shard's holder crashed.

import { message } from '@casty/core';
import type { ReplicaEntry } from '@casty/sharding';


/**
 * Snapshots from the holder of their shards (`from`) to one of their backups; only the latest per entity travels,
 * in batches of at most about MAX_BATCH_BYTES (a shard's whole content goes in several).
 */
@message('casty.replication.ReplicaBatch')
export class ReplicaBatch {
  constructor(readonly from: string, readonly entries: readonly ReplicaEntry[],
    /** False when nothing waits for these states (syncCount 0): the backup answers only a refusal. */
    readonly ack: boolean = true,
    /** Replies the backup delivers to their askers once it holds the state they wait for (see ReplicaReply). */
    readonly replies: readonly ReplicaReply[] = []) {}
}

/**
 * A reply that waits for one backup only (syncCount 1): that backup delivers it to the asker ([node, ask id]) once
 * it holds version (epoch, seq) of the entity or a later one of that epoch, one hop earlier than an acknowledgement back to the
 * holder and the reply from there. `body`: the reply, encoded.
 */
export type ReplicaReply = readonly [shard: number, epoch: number, entityId: string, seq: number, node: string, askId: number, body: Uint8Array];

/**
 * A backup's answer to a ReplicaBatch: the versions it now holds ([shard, entityId, seq]), and the shards whose
 * snapshots it refused because another node holds them at a newer epoch ([shard, epoch]) or is restoring them.
 * `replied`: the replies of the batch it delivered ([node, ask id]); the holder sends the others itself.
 */
@message('casty.replication.ReplicaAcks')
export class ReplicaAcks {
  constructor(readonly from: string, readonly acks: ReadonlyArray<readonly [number, string, number]>,
    readonly refused: ReadonlyArray<readonly [number, number]>,
    readonly replied: ReadonlyArray<readonly [string, number]> = []) {}
}

/**
 * A node that takes `shard` over after its holder crashed asks every member for what it holds of it; until the
 * requester's ReplicaFence comes, a member refuses snapshots of that shard from anyone else (a paused old holder).
 */
@message('casty.replication.ReplicaQuery')
export class ReplicaQuery {
  constructor(readonly shard: number, readonly requester: string) {}
}

/** What a member holds of a shard: its entries, and the highest epoch it has seen for the shard. */
@message('casty.replication.ReplicaAnswer')
export class ReplicaAnswer {
  constructor(readonly shard: number, readonly from: string, readonly epoch: number, readonly entries: readonly ReplicaEntry[],
    /** False for all but the last part of an answer too big for one message. */
    readonly last: boolean = true) {}
}

/** The new owner of `shard` holds it at `epoch` from now on: snapshots of an older epoch are refused. */
@message('casty.replication.ReplicaFence')
export class ReplicaFence {
  constructor(readonly shard: number, readonly epoch: number, readonly from: string) {}
}

/**
 * The ring's primary of `shards` does not hold them and keeps no state of them (a hand-off to it was refused while
 * it had no quorum, so nobody holds them until their next message): each member that keeps states of them sends
 * them to it, as replicas, so that the shards are back to their number of copies without waiting for a message.
 */
@message('casty.replication.ReplicaPull')
export class ReplicaPull {
  constructor(readonly from: string, readonly shards: readonly number[]) {}
}
