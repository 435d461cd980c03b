// `clustered()`: the composition root of a cluster node. It holds no logic of its own: `clustered()` builds the
// TCP transport from the config, and `startNode()` composes a node on any transport (tests pass an in-memory
// one, a ManualClock and a seeded random): transport -> remote messaging -> membership -> the features below,
// in this order, then the node joins: sharding, replication (it plugs into sharding) and monitoring. With the
// `management` option, `clustered()` then starts the node's HTTP endpoint (src/management).

import { InvalidArgumentError } from '@casty/core';
import { ClusterConfig, ClusteredActorSystem, TcpTransport } from '@casty/cluster';
import { sharding } from '@casty/sharding';
import { replication } from '@casty/replication';
import type { ClusterConfigOptions, ClusteredSystemOptions, NodeAddress, NodeExtension, Transport } from '@casty/cluster';
import { Management } from './management/Management';
import { resolveManagementOptions } from './management/ManagementOptions';
import type { ManagementOptions } from './management/ManagementOptions';
import { monitoring } from './management/Monitoring';
import { Telemetry } from './telemetry/Telemetry';
import { resolveTelemetryOptions } from './telemetry/TelemetryOptions';
import type { TelemetryOptions } from './telemetry/TelemetryOptions';

/**
 * The features every node is composed of, beyond remote messaging and membership, in install order. Monitoring
 * is on every node, management endpoint or not, so that the endpoint of any node can show all of them.
 */
const NODE_FEATURES: ReadonlyArray<() => NodeExtension> = [() => sharding(), () => replication(), () => monitoring()];

/** Options of `startNode`: those of `ClusteredActorSystem.start`, less the features, which this composition root picks. */
export type NodeOptions = Omit<ClusteredSystemOptions, 'extensions'>;

/**
 * Composes a cluster node on `transport` (started here) and joins through `options.seeds`: what `clustered()`
 * does after making its TCP transport. Tests call it with an InMemoryTransport, a ManualClock and a seeded
 * `random` (`TestCluster.start({ start: startNode, ... })`) to run the same composition deterministically.
 */
export function startNode(transport: Transport, options: NodeOptions = {}): Promise<ClusteredActorSystem> {
  if ('extensions' in options) {
    return Promise.reject(new InvalidArgumentError("startNode() has no option 'extensions': the composition root picks " +
      'the features; use ClusteredActorSystem.start(transport, { extensions }) to compose a node by hand'));
  }
  return ClusteredActorSystem.start(transport, { ...options, extensions: NODE_FEATURES.map((make) => make()) });
}

/** Options of `clustered()`. */
export interface ClusteredOptions {
  /**
   * Interface to bind. Default '127.0.0.1' (nothing exposed to the network unless asked for). Any host but a
   * loopback one (127.0.0.0/8, ::1, localhost) needs `config.secret` or `config.tls`, or `config.insecure: true`.
   */
  readonly host?: string;
  /** Port to bind; 0 picks a free one (read it back from `system.address`). Default 0. */
  readonly port?: number;
  /** Host other nodes dial, when it differs from `host`; required when `host` is '0.0.0.0' or '::'. */
  readonly advertiseHost?: string;
  /** Nodes to join through, 'host:port' or { host, port }. Default none (the first node of a cluster). */
  readonly seeds?: ReadonlyArray<string | NodeAddress>;
  /** This node's id, unique in the cluster and stable across restarts. Default: a random UUID. */
  readonly nodeId?: string;
  /** `ClusterConfig.production()` (the default), `.development()`, or fields over the production preset. */
  readonly config?: ClusterConfig | ClusterConfigOptions;
  /** Names the system in logs and errors. Default 'casty'. */
  readonly name?: string;
  /** Log each failure a supervisor handles, once (as `ActorSystem.create`'s option). Default true. */
  readonly logFailures?: boolean;
  /** Longest a shutdown phase waits for its tasks, in milliseconds (as `ActorSystem.create`'s option). Default 10 000. */
  readonly shutdownPhaseTimeoutMs?: number;
  /**
   * Send every local message through the wire codec at `send`/`ask`, so a single-node test catches a message that
   * could not cross the network. Default false; meant for tests.
   */
  readonly serializeMessages?: boolean;
  /**
   * Serve the node's HTTP management endpoint and dashboard: `{ host, port }` (default 127.0.0.1:8558; port 0
   * picks a free one), plus `token` off loopback. Read where it listens from `Management.of(system).url`.
   * Default: none.
   */
  readonly management?: ManagementOptions;
  /**
   * Export OpenTelemetry metrics and traces through the given `@opentelemetry/api` module and its global
   * providers: `{ api }` with `import * as api from '@opentelemetry/api'`. Default: none (nothing is measured).
   */
  readonly telemetry?: TelemetryOptions;
}

const OPTIONS: ReadonlySet<string> = new Set(['host', 'port', 'advertiseHost', 'seeds', 'nodeId', 'config', 'name',
  'logFailures', 'shutdownPhaseTimeoutMs', 'serializeMessages', 'management', 'telemetry']);

/**
 * Starts an actor system that is one node of a cluster: it listens on `host:port`, joins through `seeds`,
 * and its named top-level actors can be looked up from the other nodes. Dispose it with `await using` or
 * `shutdown()` (actors stop first, then the connections close). Options are validated at the call.
 *
 * ```ts
 * await using system = await clustered({ port: 7946, seeds: ['10.0.0.2:7946'], config: ClusterConfig.production() });
 * ```
 */
export async function clustered(options: ClusteredOptions = {}): Promise<ClusteredActorSystem> {
  for (const key of Object.keys(options)) {
    if (!OPTIONS.has(key)) {
      throw new InvalidArgumentError(`clustered() has no option '${key}'; known options are ${[...OPTIONS].join(', ')}`);
    }
  }
  const management = options.management === undefined ? undefined : resolveManagementOptions(options.management);
  // Checked before the node starts, so a wrong value starts nothing (Telemetry.start checks it again).
  if (options.telemetry !== undefined) resolveTelemetryOptions(options.telemetry);
  const config = ClusterConfig.from(options.config);
  let transport: TcpTransport;
  try {
    transport = new TcpTransport(config.transportConfig(options));
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    // Name the fields as the caller spelled them: where a node listens is an option of clustered(), the rest
    // (secret, tls, insecure, ...) is ClusterConfig.
    let message = error.message.replace(/^TransportConfig\.(host|port|advertiseHost|nodeId)\b/, 'clustered() option $1')
      .replace(/^TransportConfig/, 'ClusterConfig');
    if (message.includes('is not a loopback address')) {
      message = message.replace(/\b(secret|tls|insecure: true)\b(?=[ ,(])/g, 'config.$1');
    }
    throw new InvalidArgumentError(message);
  }
  const system = await startNode(transport, { config, seeds: options.seeds, name: options.name,
    logFailures: options.logFailures, shutdownPhaseTimeoutMs: options.shutdownPhaseTimeoutMs,
    serializeMessages: options.serializeMessages });
  if (options.telemetry !== undefined) Telemetry.start(system, options.telemetry);
  if (management !== undefined) {
    try {
      await Management.start(system, management);
    } catch (error) {
      await system.shutdown();
      throw error;
    }
  }
  return system;
}
