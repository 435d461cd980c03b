// The errors of replication: what a write to a replicated entity fails with when its backups do not take it.

import { CastyError, registerErrorClass } from '@casty/core';

/**
 * A write to a replicated entity (syncCount >= 1) was processed, but not enough backups acknowledged the new state
 * within the replication timeout: the message's effect stands on the entity's node, and may be lost if that node
 * fails before the backups catch up.
 */
export class ReplicationTimeoutError extends CastyError {
  static readonly code = 'REPLICATION_TIMEOUT';
  constructor(message: string, readonly acknowledged: number, readonly required: number) {
    super(ReplicationTimeoutError.code, message);
  }
}

/**
 * A write to a replicated entity was processed on a node that no longer holds its shard (it was cut off or paused
 * long enough for another node to take the shard over): the backups refused its state, so it is not acknowledged.
 */
export class StaleOwnerError extends CastyError {
  static readonly code = 'STALE_OWNER';
  constructor(message: string) {
    super(StaleOwnerError.code, message);
  }
}

/**
 * A write to a replicated entity was processed, but its node keeps as much entity state as its maxReplicaBytes
 * allows: the new state is not replicated (nor kept for a restart), and the write is not acknowledged.
 */
export class ReplicationBoundError extends CastyError {
  static readonly code = 'REPLICATION_BOUND';
  constructor(message: string) {
    super(ReplicationBoundError.code, message);
  }
}

for (const cls of [ReplicationTimeoutError, StaleOwnerError, ReplicationBoundError]) registerErrorClass(cls.code, cls);
