// What a dead letter carries when a message from another node could not be decoded here.

import type { NodeId } from '../transport/Transport';

/**
 * Published as the `message` of a DeadLetter (reason 'unroutable') when a message from another node could
 * not be decoded on this one: most often its class is not registered here (`error` is then an
 * UnknownMessageClassError naming it), else the bytes were corrupt (MalformedMessageError).
 */
export class UndecodableMessage {
  constructor(
    /** The node that sent it. */
    readonly fromNode: NodeId,
    /** Why it could not be decoded. */
    readonly error: unknown,
  ) {}
}
