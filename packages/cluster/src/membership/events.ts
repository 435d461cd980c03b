// What the SWIM engine tells its listeners (through internal/Listeners).

import type { MemberIdConflictError } from './errors';
import type { Member } from './MemberState';
import type { NodeId } from '../transport/Transport';

/** A change in this node's view of the cluster. */
export type MembershipEvent =
  /** A member became known, or came back from dead or left (a rejoin). */
  | { readonly type: 'up'; readonly member: Member }
  /** A member missed its probes and is suspected. */
  | { readonly type: 'suspect'; readonly member: Member }
  /** A suspected member refuted the suspicion and is alive again. */
  | { readonly type: 'alive'; readonly member: Member }
  /** A member did not refute a suspicion in time: detected as failed. */
  | { readonly type: 'down'; readonly member: Member }
  /** A member announced that it left gracefully. */
  | { readonly type: 'left'; readonly member: Member }
  /**
   * Another member declared this node dead (a claim at its current incarnation reached it, which it refutes):
   * the others may have taken over what it hosts.
   */
  | { readonly type: 'declared-dead'; readonly by: NodeId | undefined }
  /** This node got an answer from the cluster (or has no seeds to join through). */
  | { readonly type: 'joined' }
  /** Two addresses claim one node id; the claim was not accepted. */
  | { readonly type: 'conflict'; readonly error: MemberIdConflictError };
