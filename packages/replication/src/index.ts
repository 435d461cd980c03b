// @casty/replication: entity state replicated to backup nodes. This file lists the public API by name.
// The `replication` spawn option itself is typed by @casty/sharding (ReplicationOptions).

export { replication, parseReplication } from './replication';
export { Replicator } from './Replicator';
export type { ReplicationSettings } from './Replicator';
export { ReplicationBoundError, ReplicationTimeoutError, StaleOwnerError } from './errors';
export { ReplicaAcks, ReplicaAnswer, ReplicaBatch, ReplicaFence, ReplicaPull, ReplicaQuery } from './messages';
