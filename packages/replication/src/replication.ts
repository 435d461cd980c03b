// Replication as a feature of a node: `ClusteredActorSystem.start(transport, { extensions: [sharding(), replication()] })`
// (clustered() and startNode() compose it). It gives the node's Sharding the provider of its regions' replication,
// which parses the `replication` spawn option and makes a Replicator per region of a replicated type.

import { InvalidArgumentError } from '@casty/core';
import { MAX_TIMER_DELAY_MS } from '@casty/core/internal';
import type { ClusteredActorSystem, NodeExtension } from '@casty/cluster';
import { Sharding } from '@casty/sharding';
import type { ReplicationProvider } from '@casty/sharding';
import { Replicator } from './Replicator';
import type { ReplicationSettings } from './Replicator';

/** The `replication` spawn option, checked: `{ factor, syncCount?, timeout? }` (undefined: not replicated). */
export function parseReplication(where: string, value: unknown): ReplicationSettings | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`${where} must be { factor, syncCount?, timeout? }, got ${JSON.stringify(value)}`);
  }
  const { factor, syncCount = 0, timeout = 5_000, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`${where} has no field '${unknown[0]}'; its fields are factor, syncCount and timeout`);
  }
  if (typeof factor !== 'number' || !Number.isInteger(factor) || factor < 1) {
    throw new InvalidArgumentError(`${where}.factor must be a whole number >= 1 (the copies of each entity's state, the ` +
      `primary's included), got ${JSON.stringify(factor)}`);
  }
  if (typeof syncCount !== 'number' || !Number.isInteger(syncCount) || syncCount < -1 || syncCount > factor - 1) {
    throw new InvalidArgumentError(`${where}.syncCount must be a whole number from -1 (all backups) to factor - 1 ` +
      `(${factor - 1}), 0 for asynchronous; got ${JSON.stringify(syncCount)}`);
  }
  if (typeof timeout !== 'number' || !(timeout > 0 && timeout <= MAX_TIMER_DELAY_MS)) {
    throw new InvalidArgumentError(`${where}.timeout must be a number of milliseconds > 0 and at most ` +
      `${MAX_TIMER_DELAY_MS}, got ${JSON.stringify(timeout)}`);
  }
  return { factor, syncCount, timeoutMs: timeout };
}

/** How much longer than the replication timeout a send to a replicated entity waits for its acknowledgement. */
const SEND_GRACE_MS = 5_000;

const provider: ReplicationProvider = {
  parse: parseReplication,
  // the entity's gate fails the write after timeoutMs: the ask that carries the send waits a little longer
  sendTimeoutMs: (settings) => {
    const { syncCount, timeoutMs } = settings as ReplicationSettings;
    return syncCount === 0 ? undefined : Math.min(timeoutMs + SEND_GRACE_MS, MAX_TIMER_DELAY_MS);
  },
  forRegion: (settings, host) => new Replicator(settings as ReplicationSettings, host),
};

/** Replication of entity state on a node, installed after sharding (it plugs into the node's Sharding). */
export function replication(): NodeExtension {
  return {
    name: 'replication',
    install(system: ClusteredActorSystem) {
      Sharding.of(system).useReplication(provider);
    },
  };
}
