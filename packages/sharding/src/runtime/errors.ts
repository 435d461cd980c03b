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
 * The node the message was sent from (or passed through) has no quorum: it is on the minority side of a network
 * partition (or was cut off or stalled), so it hosts no entity or singleton and nothing sent there is processed or
 * acknowledged. Retry through a node of the majority, or once the partition has healed (see ClusterConfig.downing).
 */
export class MinorityPartitionError extends CastyError {
  static readonly code = 'MINORITY_PARTITION';
  constructor(message: string) {
    super(MinorityPartitionError.code, message);
  }
}

/** The error for a message to entity `entityId` of `typeName` on node `nodeId`, which has no quorum. */
export function minorityPartitionError(nodeId: string, typeName: string, entityId: string): MinorityPartitionError {
  return new MinorityPartitionError(`A message for entity '${entityId}' of '${typeName}' was refused on node '${nodeId}': ` +
    'the node is in a minority partition (it cannot reach a quorum of the cluster), so it hosts no entities or singletons ' +
    'and nothing sent there is processed or acknowledged. Send it through a node of the majority, or retry once the ' +
    'partition has healed');
}

for (const cls of [ShardUnavailableError, EntityTypeNotRegisteredError, MinorityPartitionError]) {
  registerErrorClass(cls.code, cls);
}
