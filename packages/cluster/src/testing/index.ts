// @casty/cluster/testing: tools for testing cluster protocols without real sockets or real time.
export { InMemoryNetwork, IN_MEMORY_HOST } from './InMemoryNetwork';
export type { InMemoryNetworkOptions, InMemoryNetworkStats, LinkFaults, LinkSelector } from './InMemoryNetwork';
export { InMemoryTransport } from './InMemoryTransport';
export type { InMemoryTransportOptions } from './InMemoryTransport';
export { CapturingLogger } from './CapturingLogger';
export type { LogEntry } from './CapturingLogger';
export { seededRandom } from './seededRandom';
// The condition wait lives in core's test kit; re-exported so cluster tests need one import.
export { waitUntil } from '@casty/core/testing';
export { ClusterSimulation, deriveSeed, maxSuspicionMs, quorum, suspicionBoundMs, timeToFraction } from './ClusterSimulation';
export type { ClusterSimulationOptions, FalsePositives, SentCounts, SimEvent, SimNode, Spread, StartOptions } from './ClusterSimulation';
export { measureChurn, measureCrash, measureLoss, measurePartition, measureSlowNode, measureSteadyState, measureUpdateSpread,
  spreadFigures } from './scenarios';
export type { ChurnFigures, CrashFigures, LossFigures, PartitionFigures, Rates, SlowFigures, SpreadFigures, SteadyFigures,
  UpdateFigures } from './scenarios';
export { TestCluster } from './TestCluster';
export type { RecordedMembershipEvent, TestClusterNode, TestClusterOptions } from './TestCluster';
