// The errors of sharding, typed (CastyError codes) so a caller can tell them apart across nodes.

import { CastyError, registerErrorClass } from '@casty/core';

/** A message for an entity could not reach the node that owns its shard (no member owns it, or views disagree too long). */
export class ShardUnavailableError extends CastyError {
  static readonly code = 'SHARD_UNAVAILABLE';
  constructor(message: string) {
    super(ShardUnavailableError.code, message);
  }
}

/** A message reached a node for an entity type that node has not registered (spawned with `sharded: true`) in time. */
export class EntityTypeNotRegisteredError extends CastyError {
  static readonly code = 'ENTITY_TYPE_NOT_REGISTERED';
  constructor(message: string) {
    super(EntityTypeNotRegisteredError.code, message);
  }
}


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

for (const cls of [ShardUnavailableError, EntityTypeNotRegisteredError, ReplicationTimeoutError, StaleOwnerError]) {
  registerErrorClass(cls.code, cls);
}
