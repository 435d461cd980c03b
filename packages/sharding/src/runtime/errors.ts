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


for (const cls of [ShardUnavailableError, EntityTypeNotRegisteredError]) {
  registerErrorClass(cls.code, cls);
}
