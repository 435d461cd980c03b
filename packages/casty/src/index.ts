// `casty`: one import for everything. Later packages (cluster, sharding, replication) are re-exported here,
// and `clustered()` is the composition root that wires them together.
export * from '@casty/core';
export * from '@casty/cluster';
export * from '@casty/sharding';
export * from '@casty/replication';
export { clustered, startNode } from './clustered';
export type { ClusteredOptions, NodeOptions } from './clustered';
export { Management } from './management/Management';
export { ManagementBindError } from './management/errors';
export type { ManagementOptions } from './management/ManagementOptions';
export type { NodeStats, TypeStats, ShardingStats, TrafficStats } from './management/NodeStats';
export type { NodeView } from './management/ClusterView';
export { Telemetry } from './telemetry/Telemetry';
export type { TelemetryOptions } from './telemetry/TelemetryOptions';
export type { OpenTelemetryApi } from './telemetry/OpenTelemetryApi';
