// @casty/sharding: placement of sharded entities. This file lists the public API by name; internals are not exported.
// Entity id -> shard (shardOf) -> node (HashRing), over the members that own shards (ringMembers).
export { shardOf, DEFAULT_SHARD_COUNT, MAX_SHARD_COUNT } from './shardOf';
