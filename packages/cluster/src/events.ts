// What the cluster publishes on `system.events`: changes in this node's view of the membership, as SWIM
// sees them. Subscribe to one class, or to ClusterEvent for all of them:
//
//   system.events.subscribe(MemberDown, (e) => console.log(`${e.member.nodeId} failed`));

import type { ClusterMember } from './remote/PeerDirectory';

/** Base of every membership event. */
export abstract class ClusterEvent {
  constructor(readonly member: ClusterMember) {}
}

/** A node joined the cluster (this node too, once, when it starts), or came back after it was down or left. */
export class MemberUp extends ClusterEvent {}

/** A node missed its probes and is suspected; it is declared down unless it refutes within the suspicion timeout. */
export class MemberSuspect extends ClusterEvent {}

/** A suspected node refuted the suspicion: it is alive and stays a member. */
export class MemberAlive extends ClusterEvent {}

/**
 * A node was declared failed (it did not refute a suspicion in time). Asks waiting on it have failed with
 * NodeUnavailableError, and its cluster-wide names are gone.
 */
export class MemberDown extends ClusterEvent {}

/** A node left gracefully (its system shut down). Its names are gone; it is not a failure. */
export class MemberLeft extends ClusterEvent {}

/** Why a node lost quorum: it is on the minority side, others declared it dead, or its event loop stalled. */
export type QuorumLossReason = 'minority' | 'declared-dead' | 'stalled';

/**
 * This node lost quorum (split-brain protection, see ClusterConfig.downing): it stops hosting shards and
 * singletons, and messages to them from this node fail with MinorityPartitionError, until QuorumRegained.
 */
export class QuorumLost {
  constructor(readonly nodeId: string, readonly reason: QuorumLossReason, readonly detail: string) {}
}

/** This node has quorum again (the partition healed): it hosts by the ordinary ring and hand-off rules. */
export class QuorumRegained {
  constructor(readonly nodeId: string) {}
}
