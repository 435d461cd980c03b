// How a node decides, across a network partition, whether it may go on hosting shards and singletons (split-brain
// protection): the strategy and what a node does when it finds itself without quorum. Validated at the call, so a
// wrong option fails with an InvalidArgumentError naming the field.

import { InvalidArgumentError } from '@casty/core';

/**
 * Which side of a partition keeps hosting.
 * - 'keep-majority' (default): the side holding more than half of the last agreed membership; on an exact half,
 *   the side with that membership's lowest node id.
 * - { strategy: 'static-quorum', size }: the side with at least `size` reachable members (for a cluster of known
 *   size; more than half of it, or two sides can both have it).
 * - 'off': every side hosts (development only; a partition then runs two copies of entities and singletons).
 */
export type Downing = 'keep-majority' | 'off' | { readonly strategy: 'static-quorum'; readonly size: number };

/**
 * What a node without quorum does: 'stop-hosting' (default) stops its entities and singletons, fails messages
 * to them with MinorityPartitionError, and hosts again once it has quorum (after the partition heals);
 * 'shutdown' shuts the node's system down (as Akka's split brain resolver does), for an orchestrator to restart.
 */
export type DownAction = 'stop-hosting' | 'shutdown';

/** The validated downing settings of a ClusterConfig. */
export interface DowningSettings {
  readonly strategy: 'keep-majority' | 'static-quorum' | 'off';
  /** static-quorum only: the reachable members needed. */
  readonly size: number;
  readonly downAction: DownAction;
}

export function parseDowning(downing: unknown, downAction: unknown): DowningSettings {
  const action = downAction === undefined ? 'stop-hosting' : downAction;
  if (action !== 'stop-hosting' && action !== 'shutdown') {
    throw new InvalidArgumentError(`ClusterConfig.downAction must be 'stop-hosting' or 'shutdown', got ${JSON.stringify(downAction)}`);
  }
  const value = downing === undefined ? 'keep-majority' : downing;
  if (value === 'keep-majority' || value === 'off') return { strategy: value, size: 0, downAction: action };
  const form = `'keep-majority', 'off' or { strategy: 'static-quorum', size: n }`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`ClusterConfig.downing must be ${form}, got ${JSON.stringify(downing)}`);
  }
  const { strategy, size, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (strategy !== 'static-quorum' || extra.length > 0) {
    throw new InvalidArgumentError(`ClusterConfig.downing must be ${form}, got ${JSON.stringify(downing)}` +
      (extra.length > 0 ? ` (no field '${extra[0]}')` : ''));
  }
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 100_000) {
    throw new InvalidArgumentError(`ClusterConfig.downing.size must be a whole number of members from 1 to 100000 ` +
      `(more than half of the cluster's size), got ${JSON.stringify(size)}`);
  }
  return { strategy: 'static-quorum', size, downAction: action };
}
