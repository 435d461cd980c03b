// ClusteredActorSystem: an ActorSystem whose named actors are reachable from the other nodes of a cluster.
// It is the local runtime plus extensions over a transport. `start` builds them in one place, in order:
// transport -> remote messaging -> membership -> the extensions it is given (sharding, replication; casty's
// `clustered()` passes them), then joins. Shutting down runs the phases: hand-off, leave, actors stop, close.

import { ActorSystem, Codec, InvalidArgumentError } from '@casty/core';
import type { Clock } from '@casty/core';
import { ClusterConfig } from './ClusterConfig';
import type { ClusterConfigOptions } from './ClusterConfig';
import { ClusterMembership } from './ClusterMembership';
import { parseAddress } from './remote/parseAddress';
import type { ClusterMember } from './remote/PeerDirectory';
import { RemoteMessaging } from './remote/RemoteMessaging';
import { refHook } from './remote/wireRefs';
import type { NodeAddress, NodeId, Transport } from './transport/Transport';

/** Options of `ClusteredActorSystem.start`. */
export interface ClusteredSystemOptions {
  /**
   * Nodes to join through, as 'host:port' or { host, port }; SWIM contacts them (retrying with backoff until
   * one answers) and learns the rest of the cluster from them. Default none: the first node of a cluster.
   */
  readonly seeds?: ReadonlyArray<string | NodeAddress> | undefined;
  /** The cluster settings the transport was built with. Default ClusterConfig.production(). */
  readonly config?: ClusterConfig | ClusterConfigOptions | undefined;
  /** Names the system in logs and errors. Default 'casty'. */
  readonly name?: string | undefined;
  /**
   * Time for the actors and the membership protocol. Default: real time. A ManualClock (with an
   * InMemoryNetwork on the same clock) makes a whole cluster of systems a deterministic simulation.
   */
  readonly clock?: Clock | undefined;
  /** Numbers in [0, 1) for the membership protocol's choices. Default Math.random; seed it to replay a run. */
  readonly random?: (() => number) | undefined;
  /**
   * Sends every local message through the wire codec at `send`/`ask` (core's `serializeMessages`), so a test
   * on one node catches a message class that could not cross the network. Default false; meant for tests.
   */
  readonly serializeMessages?: boolean | undefined;
  /** Log each failure a supervisor handles, once (core's `logFailures`). Default true. */
  readonly logFailures?: boolean | undefined;
  /** Longest a shutdown phase waits for its tasks, in milliseconds (core's `shutdownPhaseTimeoutMs`). Default 10 000. */
  readonly shutdownPhaseTimeoutMs?: number | undefined;
  /**
   * Features built on the cluster layer (sharding, replication), installed in this order after remote messaging
   * and membership, before the node joins, so each sees the membership from its first event.
   */
  readonly extensions?: readonly NodeExtension[] | undefined;
}

/** A feature a node is composed of (sharding, replication): installed by `ClusteredActorSystem.start`. */
export interface NodeExtension {
  /** Names it in errors. */
  readonly name: string;
  /**
   * Attaches it to `system` (`system.registerExtension(key, ...)`, shutdown phases, event subscriptions).
   * Remote messaging and membership are there already; the node has not joined yet.
   */
  install(system: ClusteredActorSystem): void;
}

const OPTIONS: ReadonlySet<string> = new Set(['seeds', 'config', 'name', 'clock', 'random', 'serializeMessages',
  'logFailures', 'shutdownPhaseTimeoutMs', 'extensions']);

/** An actor system that is one node of a cluster. Create it with `clustered()` (package `casty`). */
export class ClusteredActorSystem extends ActorSystem {
  private constructor(readonly transport: Transport, readonly config: ClusterConfig, options: ClusteredSystemOptions) {
    super({ askTimeoutMs: config.askTimeoutMs, ...(config.logger === undefined ? {} : { logger: config.logger }),
      ...(options.name === undefined ? {} : { name: options.name }), ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.serializeMessages === undefined ? {} : { serializeMessages: options.serializeMessages }),
      ...(options.logFailures === undefined ? {} : { logFailures: options.logFailures }),
      ...(options.shutdownPhaseTimeoutMs === undefined ? {} : { shutdownPhaseTimeoutMs: options.shutdownPhaseTimeoutMs }) });
  }

  /** The remote messaging of this node (remote refs, lookups across nodes); `RemoteMessaging.of(system)`. */
  get remote(): RemoteMessaging {
    return RemoteMessaging.of(this);
  }

  /** Membership of this node: SWIM failure detection, the gossiped state, cluster-wide names; `ClusterMembership.of(system)`. */
  get membership(): ClusterMembership {
    return ClusterMembership.of(this);
  }

  /**
   * core's serializeMessages round trip knows local refs only, and a clustered system's messages hold refs
   * to actors on other nodes too: the round trip goes through the codec remote messaging uses instead (each
   * kind of ref comes back as itself).
   */
  private roundTripThroughClusterCodec(config: ClusterConfig): void {
    const codec = new Codec({ refs: refHook(this.remote), maxBytes: config.maxFrameBytes });
    this.serializeMessagesWith((msg) => codec.decode(codec.encode(msg)));
  }

  /**
   * Starts `transport` (binding its port) and a system on top of it, then joins the cluster through `seeds`.
   * Resolves once the node listens; joining continues in the background. Options are validated first.
   */
  static async start(transport: Transport, options: ClusteredSystemOptions = {}): Promise<ClusteredActorSystem> {
    for (const key of Object.keys(options)) {
      if (!OPTIONS.has(key)) {
        throw new InvalidArgumentError(`ClusteredActorSystem.start has no option '${key}'; known options are ${[...OPTIONS].join(', ')}`);
      }
    }
    const config = ClusterConfig.from(options.config);
    const seeds = parseSeeds(options.seeds);
    const extensions = parseExtensions(options.extensions);
    await transport.start();
    let system: ClusteredActorSystem | undefined;
    try {
      system = new ClusteredActorSystem(transport, config, options);
      const remote = new RemoteMessaging(system, transport, { askTimeoutMs: config.askTimeoutMs,
        lookupTimeoutMs: config.lookupTimeoutMs, maxMessageBytes: config.maxFrameBytes });
      const membership = new ClusterMembership({ system, transport, remote, config, seeds,
        ...(options.random === undefined ? {} : { random: options.random }) });
      // Membership first: a name is looked up in the gossiped registry before remote messaging asks the nodes,
      // and the node announces that it leaves before its connections close.
      system.registerExtension(ClusterMembership.key, membership);
      system.registerExtension(RemoteMessaging.key, remote);
      if (options.serializeMessages === true) system.roundTripThroughClusterCodec(config);
      for (const extension of extensions) extension.install(system);
      membership.start();
      return system;
    } catch (error) {
      if (system !== undefined) await system.shutdown();
      else await transport.close();
      throw error;
    }
  }

  /** This node's id in the cluster. */
  get nodeId(): NodeId {
    return this.remote.nodeId;
  }

  /** Where this node listens, with the port actually bound (so port 0 can be read back here). */
  get address(): NodeAddress {
    return this.remote.address;
  }

  /**
   * The current membership view: the nodes alive or suspect as this node sees them, itself included, ordered
   * by node id. Changes are published on `system.events` (MemberUp, MemberSuspect, MemberAlive, MemberDown,
   * MemberLeft).
   */
  members(): ClusterMember[] {
    return this.membership.members();
  }

  /**
   * True while this node may host shards and singletons: it reaches a quorum of the cluster (split-brain protection,
   * see ClusterConfig.downing). QuorumLost and QuorumRegained on `system.events` tell when it changes.
   */
  get hasQuorum(): boolean {
    return this.membership.hasQuorum;
  }

  /**
   * Resolves once this node has heard from the cluster (at once for the first node of one). Rejects with a
   * CastyError of code 'JOIN_TIMEOUT', naming the seeds and what to check, if no seed answered within
   * `timeoutMs` (default 30 s; 1 to 2^31 - 1 ms, else InvalidArgumentError); joining goes on in the background.
   */
  joined(timeoutMs = 30_000): Promise<void> {
    return this.membership.joined(timeoutMs);
  }
}

/** The extensions, checked: each must be { name, install(system) }. */
function parseExtensions(extensions: unknown): readonly NodeExtension[] {
  if (extensions === undefined) return [];
  if (!Array.isArray(extensions)) {
    throw new InvalidArgumentError(`extensions must be an array of { name, install(system) }, got ${typeof extensions}`);
  }
  extensions.forEach((extension: unknown, i) => {
    const e = extension as Partial<NodeExtension> | null;
    if (e === null || typeof e !== 'object' || typeof e.name !== 'string' || typeof e.install !== 'function') {
      throw new InvalidArgumentError(`extensions[${i}] must be { name: string, install(system) }, got ${JSON.stringify(extension)}`);
    }
  });
  return extensions as readonly NodeExtension[];
}

/** The seeds' addresses; anything but an array of addresses is an InvalidArgumentError saying how to write it. */
function parseSeeds(seeds: unknown): NodeAddress[] {
  if (seeds === undefined) return [];
  if (!Array.isArray(seeds)) {
    const got = typeof seeds === 'string'
      ? `the string '${seeds.length > 100 ? `${seeds.slice(0, 100)}...` : seeds}' — wrap it in [ ]`
      : seeds === null ? 'null' : typeof seeds === 'object' ? 'an object (not an array)' : `a ${typeof seeds}`;
    throw new InvalidArgumentError(`seeds must be an array of 'host:port' strings or { host, port } objects; got ${got}`);
  }
  return seeds.map((seed: string | NodeAddress, i) => parseAddress(seed, `seeds[${i}]`));
}
