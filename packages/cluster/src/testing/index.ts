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
export { ClusterSimulation, deriveSeed } from './ClusterSimulation';
export type { ClusterSimulationOptions, SimNode, StartOptions } from './ClusterSimulation';
export { maxSuspicionMs, quorum, SimulationMeasurements, suspicionBoundMs, timeToFraction } from './simulationMeasurements';
export type { FalsePositives, MeasuredNode, SentCounts, SimEvent, Spread } from './simulationMeasurements';
export { measureChurn, measureCrash, measureLoss, measurePartition, measureSlowNode, measureSteadyState, measureUpdateSpread,
  spreadFigures } from './scenarios';
export type { ChurnFigures, CrashFigures, LossFigures, PartitionFigures, Rates, SlowFigures, SpreadFigures, SteadyFigures,
  UpdateFigures } from './scenarios';
export { TestCluster } from './TestCluster';
export { PausableClock } from './PausableClock';
export type { RecordedMembershipEvent, TestClusterNode, TestClusterOptions } from './TestCluster';
