// The error a remote ask (or lookup) fails with when the node it waits on is gone: raised at once when the
// connection dies, instead of letting every pending ask wait out its timeout.

import { CastyError, registerErrorClass } from '@casty/core';
import { formatAddress } from '../transport/Transport';
import type { NodeAddress, NodeId } from '../transport/Transport';

/**
 * The node an ask was sent to is unreachable: its connection was lost while the ask waited, or had been lost
 * (and not re-established) when the ask was made. The transport keeps redialing the node; asks succeed again
 * once it is back.
 */
export class NodeUnavailableError extends CastyError {
  static readonly code = 'NODE_UNAVAILABLE';

  constructor(readonly nodeId: NodeId, readonly address: NodeAddress, readonly attempted: string, readonly reason: string) {
    super(NodeUnavailableError.code,
      `Node '${nodeId}' at ${formatAddress(address)} is unavailable (${reason}), so ${attempted} failed; ` +
      'the node is reconnected automatically when it comes back: retry then, or send to another node');
  }
}

registerErrorClass(NodeUnavailableError.code, NodeUnavailableError as unknown as new (...args: never[]) => CastyError);
