// Which cluster members own shards: alive and suspect ones (a suspicion moves nothing, so a slow node does
// not set off a hand-off), not dead or left ones. The one place that maps membership to the ring.

import type { MemberState, NodeId } from '@casty/cluster';
import { isLive } from '@casty/cluster';

/**
 * The ids of the members that belong on the ring: those alive or suspect. Pass the result to HashRing.of.
 * Every node that holds the same view gets the same ids (HashRing sorts them).
 */
export function ringMembers(members: Iterable<{ readonly id: NodeId; readonly state: MemberState }>): NodeId[] {
  const ids: NodeId[] = [];
  for (const member of members) if (isLive(member)) ids.push(member.id);
  return ids;
}
