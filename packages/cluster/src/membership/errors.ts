// The membership layer's errors: an invalid member state transition (a bug in whoever asked for it) and two
// nodes claiming one id (a deployment mistake). Codes are stable and only ever added, as core's.

import { CastyError, registerErrorClass } from '@casty/core';
import type { NodeAddress, NodeId } from '../transport/Transport';
import { formatAddress } from '../transport/Transport';

/** A member state change that the transition table in MemberState.ts does not allow. */
export class InvalidTransitionError extends CastyError {
  static readonly code = 'INVALID_MEMBER_TRANSITION';
  constructor(readonly from: string, readonly to: string, readonly memberId?: NodeId) {
    super(InvalidTransitionError.code,
      `Member${memberId === undefined ? '' : ` '${memberId}'`} cannot go from ${from} to ${to}; ` +
      'allowed: alive -> suspect|dead|left, suspect -> alive|dead|left, dead -> alive, left -> alive ' +
      '(a node comes back from dead or left only by rejoining with a higher incarnation)');
  }
}

/** Two different addresses claim one node id while the member is alive. */
export class MemberIdConflictError extends CastyError {
  static readonly code = 'MEMBER_ID_CONFLICT';
  constructor(readonly memberId: NodeId, readonly knownAddress: NodeAddress, readonly claimedAddress: NodeAddress) {
    super(MemberIdConflictError.code,
      `Node id '${memberId}' is claimed by ${formatAddress(claimedAddress)} while the member at ` +
      `${formatAddress(knownAddress)} is alive; give every node a unique id (a restarted node keeps its id ` +
      'only if it comes back on the same address or after the old one is declared dead)');
  }
}

for (const cls of [InvalidTransitionError, MemberIdConflictError]) {
  registerErrorClass(cls.code, cls as unknown as new (...args: never[]) => CastyError);
}
