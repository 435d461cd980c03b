// ClusterMembership: the system extension that makes a node a member of a cluster. It runs SWIM (failure
// detection, who is in), the gossiped key-value state on top of it, and the cluster-wide name registry on
// that; it turns SWIM's view into `system.members()` and MemberUp/Suspect/Alive/Down/Left events on
// `system.events`, and tells remote messaging when a node is gone so asks waiting on it fail at once.
//
// Registered before RemoteMessaging, so `lookup(name)` consults the registry (no network round trip) before
// remote messaging asks the connected nodes (for paths of children, and names not gossiped yet).

import { CastyError, ExtensionKey, InvalidArgumentError } from '@casty/core';
import type { ActorRef, ActorSystem, Clock, SystemExtension } from '@casty/core';
import type { ClusterConfig } from './ClusterConfig';
import type { ClusterEvent } from './events';
import { MemberAlive, MemberDown, MemberLeft, MemberSuspect, MemberUp, QuorumLost, QuorumRegained } from './events';
import { Quorum } from './downing/Quorum';
import { Gossip } from './gossip/Gossip';
import type { MembershipEvent } from './membership/events';
import type { Member } from './membership/MemberState';
import { isLive } from './membership/MemberState';
import type { MemberIdConflictError } from './membership/errors';
import { Swim } from './membership/Swim';
import { NOT_CLUSTERED_HINT } from './notClustered';
import { NameRegistry } from './registry/NameRegistry';
import { formatAddress } from './transport/Transport';
import type { ClusterMember } from './remote/PeerDirectory';
import type { RemoteMessaging } from './remote/RemoteMessaging';
import type { Logger } from '@casty/core';
import type { NodeAddress, NodeId, Transport, Unsubscribe } from './transport/Transport';

/** What ClusterMembership is built from. */
export interface ClusterMembershipOptions {
  readonly system: ActorSystem;
  readonly transport: Transport;
  readonly remote: RemoteMessaging;
  readonly config: ClusterConfig;
  /** Addresses to join through (this node's own may be among them). */
  readonly seeds: readonly NodeAddress[];
  /** Default: the system's clock. */
  readonly clock?: Clock;
  /** Default: Math.random. */
  readonly random?: () => number;
}

export class ClusterMembership implements SystemExtension {
  static readonly key = new ExtensionKey<ClusterMembership>('casty.membership');

  /** The membership of `system`; throws ExtensionNotFoundError, saying how to make one, when it is not a cluster node. */
  static of(system: ActorSystem): ClusterMembership {
    return system.requireExtension(ClusterMembership.key, NOT_CLUSTERED_HINT);
  }
  readonly swim: Swim;
  readonly gossip: Gossip;
  readonly names: NameRegistry;
  /** Split-brain protection: whether this node may host shards and singletons now (see ClusterConfig.downing). */
  readonly quorum: Quorum;
  private readonly system: ActorSystem;
  private readonly remote: RemoteMessaging;
  private offSwim: Unsubscribe | undefined;
  private started = false;
  private readonly clock: Clock;
  private readonly seeds: readonly NodeAddress[];
  private readonly joinedWaiters = new Set<(error?: Error) => void>();
  /** Set when another node holds this node's id: joining cannot succeed. */
  private idConflict: MemberIdConflictError | undefined;
  private leaving: Promise<void> | undefined;

  constructor(options: ClusterMembershipOptions) {
    const { system, transport, remote, config } = options;
    this.system = system;
    this.remote = remote;
    const clock = options.clock ?? system.clock;
    this.clock = clock;
    this.seeds = options.seeds;
    const random = options.random ?? Math.random;
    const logger = system.logger;
    this.swim = new Swim({
      transport, clock, random, config: config.swim, logger, seeds: options.seeds,
      self: { id: transport.nodeId, address: transport.address },
    });
    this.gossip = new Gossip({ transport, clock, random, config: config.gossip, selfId: transport.nodeId, membership: this.swim, logger });
    this.names = new NameRegistry({
      system, gossip: this.gossip, selfId: transport.nodeId,
      liveAddress: (nodeId) => {
        const m = this.swim.member(nodeId);
        return m !== undefined && isLive(m) ? m.address : undefined;
      },
      remoteRef: (nodeId, address, path) => remote.remoteRef(nodeId, address, path),
    });
    this.quorum = new Quorum({ swim: this.swim, clock, swimConfig: config.swim, downing: config.downing, logger,
      changed: (has, reason, detail) => {
        if (has) {
          system.events.publish(new QuorumRegained(transport.nodeId));
          return;
        }
        system.events.publish(new QuorumLost(transport.nodeId, reason!, detail!));
        if (config.downing.downAction === 'shutdown') {
          logger.error(`Node '${transport.nodeId}' shuts down: it lost quorum (downAction 'shutdown')`);
          system.shutdown().catch((error: unknown) => logger.error('Shutting down after losing quorum failed', error as Error));
        }
      } });
    // a node without quorum downs no one, and refutes its own death only once it has quorum again (see MemberRules)
    this.swim.gateOnQuorum(() => this.quorum.hasQuorum, (suspecting) => this.quorum.isQuorumOf(suspecting));
    if (config.downing.strategy === 'off') {
      logger.warn(`Node '${transport.nodeId}': split-brain protection is off (ClusterConfig.downing 'off'): across a ` +
        'network partition both sides host every entity and singleton, and their writes conflict. For development only');
    }
    remote.lookupAlso(() => this.swim.members().filter((m) => m.state === 'alive').map((m) => ({ nodeId: m.id, address: m.address })));
    // Remote messaging tells its peers this node is leaving once SWIM's leave has spread (its LEAVING closes
    // connections, which must not cut SWIM's announcement short).
    remote.announceLeavingAfter(() => this.leaveCluster());
    system.shutdownPhases.add('leave', 'casty.membership.leave', () => this.leaveCluster());
    system.shutdownPhases.add('close', 'casty.membership.stop', () => this.stop());
  }

  /** Starts SWIM (joining through the seeds in the background), gossip and the name registry. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.offSwim = this.swim.on((event) => this.onMembership(event));
    this.names.start();
    this.swim.start();
    this.gossip.start();
    this.quorum.start();
    this.publish(MemberUp, this.swim.member(this.swim.id) as Member);
  }

  /**
   * True while this node may host shards and singletons: it reaches a quorum of the cluster (see
   * ClusterConfig.downing). Changes are published on `system.events` as QuorumLost and QuorumRegained.
   */
  get hasQuorum(): boolean {
    return this.quorum.hasQuorum;
  }

  /** This node's id. */
  get nodeId(): NodeId {
    return this.swim.id;
  }

  /** True once this node has heard from the cluster (or had no other seed to join through). */
  get isJoined(): boolean {
    return this.swim.isJoined;
  }

  /**
   * Resolves once this node has heard from the cluster; rejects after `timeoutMs` (1 to 2^31 - 1 ms) with a
   * CastyError of code 'JOIN_TIMEOUT' naming the seeds and what to check (joining goes on).
   */
  joined(timeoutMs: number): Promise<void> {
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 2 ** 31 - 1) {
      return Promise.reject(new InvalidArgumentError(
        `joined(timeoutMs) needs a number of milliseconds from 1 to ${2 ** 31 - 1}, got ${String(timeoutMs)}`));
    }
    if (this.idConflict !== undefined) return Promise.reject(this.idConflict);
    if (this.swim.isJoined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        this.clock.clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      const timer = this.clock.setTimeout(() => {
        this.joinedWaiters.delete(done);
        const seeds = this.seeds.map(formatAddress).join(', ');
        reject(new CastyError('JOIN_TIMEOUT', `No seed answered within ${timeoutMs} ms (seeds: ${seeds}), so this node ` +
          'has not joined the cluster. Check that a seed is running and reachable from this node, and that every ' +
          'node has the same clusterName and the same secret and TLS settings; joining goes on in the background'));
      }, timeoutMs);
      this.clock.setKeepAlive?.(timer, true);
      this.joinedWaiters.add(done);
    });
  }

  /**
   * Calls `listener` once, when this node has joined the cluster (at once if it has): what a feature that acts
   * only on a joined view (sharding's ring) waits for. No timer; it never fires if the node never joins.
   */
  whenJoined(listener: () => void): void {
    if (this.swim.isJoined) {
      listener();
      return;
    }
    this.joinedWaiters.add((error?: Error) => {
      if (error === undefined) listener();
    });
  }

  /** The members alive or suspect in this node's view, this node included, ordered by node id. */
  members(): ClusterMember[] {
    return this.swim.members().filter(isLive).map((m) => this.toClusterMember(m))
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }

  /** One member as this node sees it (dead and left ones too, while remembered), or undefined. */
  member(nodeId: NodeId): ClusterMember | undefined {
    const m = this.swim.member(nodeId);
    return m === undefined ? undefined : this.toClusterMember(m);
  }

  // ---- SystemExtension ----

  lookup(nameOrPath: string): Promise<ActorRef<unknown> | undefined> {
    return Promise.resolve(this.names.lookup(nameOrPath));
  }

  /**
   * Leaves gracefully (shutdown phase 'leave'): the others see this node as left, not failed, and drop its
   * names at once. Idempotent: later calls return the same promise.
   */
  leaveCluster(): Promise<void> {
    this.leaving ??= this.swim.leave();
    return this.leaving;
  }

  /** Stops the protocols (shutdown phase 'close'). */
  private stop(): void {
    this.offSwim?.();
    this.quorum.stop();
    this.names.stop();
    this.gossip.stop();
    this.swim.stop();
  }

  // ---- SWIM's events ----

  private onMembership(event: MembershipEvent): void {
    switch (event.type) {
      case 'up':
        this.remote.nodeBack(event.member.id);
        this.publish(MemberUp, event.member);
        return;
      case 'suspect':
        this.publish(MemberSuspect, event.member);
        return;
      case 'alive':
        this.remote.nodeBack(event.member.id);
        this.publish(MemberAlive, event.member);
        return;
      case 'down':
        this.gone(event.member, 'the cluster declared it failed (it did not answer probes)');
        this.publish(MemberDown, event.member);
        return;
      case 'left':
        this.gone(event.member, 'it left the cluster');
        this.publish(MemberLeft, event.member);
        return;
      case 'conflict':
        this.system.logger.error(event.error.message, event.error);
        if (event.error.memberId === this.swim.id && this.idConflict === undefined) {
          // Another live node holds this node's id: `joined()` fails with why, now and later.
          this.idConflict = event.error;
          for (const done of [...this.joinedWaiters]) done(event.error);
          this.joinedWaiters.clear();
        }
        return;
      case 'declared-dead':
        return; // the quorum tracker acts on it
      case 'joined':
        this.system.logger.debug(`Node '${this.swim.id}' joined the cluster`);
        for (const done of [...this.joinedWaiters]) done();
        this.joinedWaiters.clear();
        return;
    }
  }

  private gone(member: Member, reason: string): void {
    this.remote.nodeGone(member.id, member.address, reason);
    this.names.nodeGone(member.id);
  }

  private publish(type: new (member: ClusterMember) => ClusterEvent, member: Member): void {
    this.system.events.publish(new type(this.toClusterMember(member)));
  }

  private toClusterMember(m: Member): ClusterMember {
    return { nodeId: m.id, address: m.address, self: m.id === this.swim.id, state: m.state, incarnation: m.incarnation };
  }
}
