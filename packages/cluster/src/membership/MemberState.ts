// Member states and the one table of transitions between them (pekko's MemberStatus.allowedTransitions).
// The SWIM engine asks `transition` for every state change, so a change the protocol should never make
// fails loudly, naming it, instead of silently corrupting the member list.

import type { NodeAddress, NodeId } from '../transport/Transport';
import { InvalidTransitionError } from './errors';

/** What this node believes about a member. */
export const MemberState = {
  /** Answering probes (or not yet suspected). */
  ALIVE: 'alive',
  /** Missed a probe and its indirect probes; declared dead unless it refutes within the suspicion timeout. */
  SUSPECT: 'suspect',
  /** Did not refute a suspicion in time. Only a rejoin with a higher incarnation brings it back. */
  DEAD: 'dead',
  /** Announced that it left gracefully; never detected, only told. */
  LEFT: 'left',
} as const;

export type MemberState = (typeof MemberState)[keyof typeof MemberState];

/**
 * THE transition table. Staying in a state is not a transition (an alive member with a newer incarnation is
 * an update, a further suspicion a confirmation). dead and left are final except for a rejoin, which is a
 * new incarnation of the node announcing itself alive. dead -> left is not allowed: once detected dead, a
 * late leave announcement changes nothing.
 */
const ALLOWED: Readonly<Record<MemberState, readonly MemberState[]>> = {
  alive: ['suspect', 'dead', 'left'],
  suspect: ['alive', 'dead', 'left'],
  dead: ['alive'],
  left: ['alive'],
};

/** True when the table allows `from -> to`. */
export function canTransition(from: MemberState, to: MemberState): boolean {
  return ALLOWED[from].includes(to);
}

/** Every allowed transition, as [from, to] pairs (for tests and docs). */
export function allowedTransitions(): ReadonlyArray<readonly [MemberState, MemberState]> {
  return (Object.keys(ALLOWED) as MemberState[]).flatMap((from) => ALLOWED[from].map((to) => [from, to] as const));
}

/**
 * Returns `to` when `from -> to` is allowed.
 * @throws {InvalidTransitionError} naming the transition (and the member, when given) otherwise.
 */
export function transition(from: MemberState, to: MemberState, memberId?: NodeId): MemberState {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to, memberId);
  return to;
}

/** One member as this node sees it. A value: the engine replaces it on every change. */
export interface Member {
  readonly id: NodeId;
  readonly address: NodeAddress;
  /** Raised only by the member itself, to refute a suspicion or to rejoin; orders claims about it. */
  readonly incarnation: number;
  readonly state: MemberState;
  /** When this node saw the member enter `state`, in milliseconds on the engine's Clock. */
  readonly since: number;
}

/** True for alive and suspect: members that are still probed and count toward the cluster size. */
export function isLive(member: Pick<Member, 'state'>): boolean {
  return member.state === MemberState.ALIVE || member.state === MemberState.SUSPECT;
}
