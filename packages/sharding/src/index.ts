// @casty/sharding: placement of sharded entities. This file lists the public API by name; internals are not exported.
// Entity id -> shard (shardOf) -> node (HashRing), over the members that own shards (ringMembers).
export { shardOf, DEFAULT_SHARD_COUNT, MAX_SHARD_COUNT } from './shardOf';
export { HashRing, DEFAULT_VIRTUAL_NODES, MAX_VIRTUAL_NODES } from './HashRing';
export type { HashRingOptions } from './HashRing';
export { ShardAllocation } from './ShardAllocation';
export type { ShardMove } from './ShardAllocation';
export { ringMembers } from './ringMembers';
export { Sharding, ShardedRef, sharding } from './runtime/Sharding';
export type { ShardingSettings } from './runtime/Sharding';
export type { ShardedSpawnOptions, SingletonSpawnOptions, EntityClass, ReplicationOptions } from './runtime/spawnTypes';
export { EntityRef } from './runtime/EntityRef';
export { ShardUnavailableError, EntityTypeNotRegisteredError, MinorityPartitionError } from './runtime/errors';
export { ShardingEvent, ShardHandedOff, ShardTakenOver, EntityPassivated } from './runtime/events';
// The seam @casty/replication plugs into (types only; for Casty's own packages).
export type { ReplicationProvider, RegionReplication, ReplicationHost, ReplicaEntry, ReplyRoute } from './runtime/ReplicationSeam';
export type { Placement } from './runtime/Placement';
