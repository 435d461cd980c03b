// Sharding on one node (an extension of a clustered system, reached with `Sharding.of(system)`): the ring of
// shards over the live members, one shard region per registered entity type at /system/sharding-<type>, and the
// entity refs that route to them. Placement is the ring's: entity id -> shard (shardOf) -> node (HashRing over the
// alive and suspect members, so a suspicion moves nothing). Every node computes the same ring from the same view.

import { randomBytes } from 'node:crypto';
import { ExtensionKey, InvalidArgumentError } from '@casty/core';
import type { ActorRef, AskOptions } from '@casty/core';
import type { ActorClass, ActorSystem, MessageClass, SystemExtension } from '@casty/core';
import { declaredHandledClasses, spawnSystemActor } from '@casty/core/internal';
import type { LocalActorRef } from '@casty/core/internal';
import { ClusterEvent, ClusterMembership, QuorumLost, QuorumRegained, RemoteActorRef, RemoteMessaging } from '@casty/cluster';
import type { ClusteredActorSystem, NodeAddress, NodeExtension, NodeId } from '@casty/cluster';
import { EnvelopeKind, KeyedHeader, NOT_CLUSTERED_HINT } from '@casty/cluster/internal';
import { HashRing } from '../HashRing';
import { ringMembers } from '../ringMembers';
import { DEFAULT_SHARD_COUNT, shardOf, validateShardCount } from '../shardOf';
import { BulkSends } from './BulkSends';
import { EntityRef } from './EntityRef';
import type { EntityRoute, EntityRouter } from './EntityRef';
import { AcknowledgedSend, HandOffAll, QuorumChanged, RingChanged } from './envelopes';
import { minorityPartitionError } from './errors';
import type { WireEnvelope } from './envelopes';
import { SingletonPlacement } from './Placement';
import type { Placement } from './Placement';
import { HeldMessages } from './HeldMessages';
import { RegionEntry } from './RegionEntry';
import { DEFAULT_MAX_BUFFERED_PER_SHARD, entityChildName, entityIdOfChildName, ShardRegion } from './ShardRegion';
import type { RegionHost, ShardedType } from './ShardRegion';
import type { ReplicationProvider } from './ReplicationSeam';

/** Settings of sharding on a node. */
export interface ShardingSettings {
  /** Shards per entity type, the same on every node. Default 4,096 (DEFAULT_SHARD_COUNT). */
  readonly shardCount?: number;
  /** How long a message for a type this node has not registered yet is held before it fails. Default 10 s. */
  readonly typeRegistrationTimeoutMs?: number;
  /** Most messages held per unregistered type. Default 10,000. */
  readonly maxHeldPerType?: number;
  /** Most messages a region buffers for one shard while it moves. Default 10,000. */
  readonly maxBufferedPerShard?: number;
  /**
   * Most bytes of replicated entity state one node keeps per type (its own shards' and its backups'). Past it, a new
   * state is not stored (logged as an error): writes waiting for this node as a backup time out. Default 1 GiB.
   */
  readonly maxReplicaBytes?: number;
}

/** The ref `spawn(Class, { name, sharded: true })` returns: `entity(id)` is the ref to one entity, created on demand. */
export class ShardedRef<TMessage> {
  /** @internal */
  constructor(readonly typeName: string, private readonly sharding: Sharding, private readonly handles: readonly MessageClass[] | undefined) {}

  /**
   * The ref to the entity `id` (any non-empty string): an ordinary ActorRef, location-transparent. The entity is
   * created, on the node that owns its shard, by the first message it gets.
   */
  entity(id: string): ActorRef<TMessage> {
    return this.sharding.entityRef<TMessage>(this.typeName, id, this.handles);
  }
}

const PREFIX = '/system/sharding-';
/** Gossip key prefix of each member's join time (for singleton placement). */
const SINCE_KEY = 'casty.sharding/since/';
/** Gossip key prefix of each member's shard count (they must all be the same). */
const SHARDS_KEY = 'casty.sharding/shards/';
/** Gossip key prefix of the members leaving gracefully (they hold nothing from then on). */
const LEAVING_KEY = 'casty.sharding/leaving/';
/** Gossip key prefix of the members without quorum (split-brain protection): left out of the ring until they have it. */
const NO_QUORUM_KEY = 'casty.sharding/no-quorum/';
/** Longest a graceful leave waits for its shards to be taken over. */
const HAND_OFF_TIMEOUT_MS = 10_000;
/** Longest actor name, in UTF-8 bytes (core's rule). */
const MAX_ACTOR_NAME_BYTES = 255;

interface Registered {
  readonly type: ShardedType;
  readonly region: ActorRef<unknown>;
  readonly handles: readonly MessageClass[] | undefined;
}

export class Sharding implements SystemExtension, EntityRouter {
  static readonly key = new ExtensionKey<Sharding>('casty.sharding');

  /** Sharding of `system`; throws ExtensionNotFoundError, saying how to make one, when it is not a cluster node. */
  static of(system: ActorSystem): Sharding {
    return system.requireExtension(Sharding.key, NOT_CLUSTERED_HINT);
  }

  readonly shardCount: number;
  private ring: HashRing;
  private readonly addresses = new Map<NodeId, NodeAddress>();
  /** Where other nodes' messages for each registered type's region arrive, by the region's path. */
  private readonly entries = new Map<string, RegionEntry>();
  /** Each type's region instance (for RegionEntry's fast path). */
  private readonly instances = new Map<string, ShardRegion>();
  /** Remote refs to each type's region on each node, by type and node id. */
  private readonly regionRefs = new Map<string, Map<NodeId, ActorRef<unknown>>>();
  /** Hand-offs' states and replicas to other nodes, as their connections take them (see BulkSends). */
  private readonly bulk: BulkSends;
  private readonly types = new Map<string, Registered>();
  private readonly held = new Map<string, HeldMessages>();
  private readonly active = new Map<string, number>();
  private readonly remote: RemoteMessaging;
  private readonly membership: ClusterMembership;
  private readonly selfId: NodeId;
  private readonly holdMs: number;
  private readonly maxHeld: number;
  private readonly maxBuffered: number;
  private readonly maxReplicaBytes: number;
  private joined = false;
  /** When each member joined (gossiped by each): singletons go to the oldest. */
  private readonly since = new Map<NodeId, number>();
  private singletonPlacement: SingletonPlacement | undefined;
  /** This node has once known every member's join time (see SingletonPlacement). */
  private singletonSettled = false;
  private sinceAnnounced = false;
  private leavingSelf = false;
  /** Members that said they are leaving (PeerLeaving), left out of the ring until they are gone. */
  private readonly leavingPeers = new Set<NodeId>();
  /** Members that said they have no quorum: they host nothing, so they are left out of the ring until they have it. */
  private readonly peersWithoutQuorum = new Set<NodeId>();
  /** Members whose shard count differs from this node's, with theirs: left out of the ring. */
  private readonly incompatible = new Map<NodeId, number>();
  private live = new Set<NodeId>();
  private handOffs = 0;
  private ringChanges = 0;

  constructor(private readonly system: ClusteredActorSystem, settings: ShardingSettings = {}) {
    this.shardCount = settings.shardCount ?? DEFAULT_SHARD_COUNT;
    validateShardCount('sharding({ shardCount })', this.shardCount);
    this.holdMs = settings.typeRegistrationTimeoutMs ?? 10_000;
    this.maxHeld = settings.maxHeldPerType ?? 10_000;
    this.maxBuffered = settings.maxBufferedPerShard ?? DEFAULT_MAX_BUFFERED_PER_SHARD;
    this.maxReplicaBytes = settings.maxReplicaBytes ?? 2 ** 30;
    for (const [field, value] of [['maxHeldPerType', this.maxHeld], ['maxBufferedPerShard', this.maxBuffered],
      ['maxReplicaBytes', this.maxReplicaBytes],
      ['typeRegistrationTimeoutMs', this.holdMs]] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new InvalidArgumentError(`sharding({ ${field} }) must be a whole number >= 1, got ${JSON.stringify(value)}`);
      }
    }
    this.remote = RemoteMessaging.of(system);
    this.bulk = new BulkSends(system.clock, (ref, bytes) => this.remote.roomFor(ref, bytes));
    this.membership = ClusterMembership.of(system);
    this.selfId = this.remote.nodeId;
    // A random 53-bit number, drawn anew by each process (an earlier process of the same node id has another): as
    // Akka's UniqueAddress uid, unique by chance (two of 10,000 processes share one with odds under 1 in 10^8).
    // A number because it travels in every entity message, where a string cost a UTF-8 decode and a hash.
    this.origin = Number(randomBytes(8).readBigUInt64BE() >> 11n) || 1;
    this.ring = HashRing.of([this.selfId], { shardCount: this.shardCount });
    this.live.add(this.selfId);
    this.addresses.set(this.selfId, this.remote.address);
    system.events.subscribe(ClusterEvent, () => this.updateRing());
    // split-brain protection: a node without quorum hosts nothing (each region stops its entities), and hosts again
    system.events.subscribe(QuorumLost, () => this.quorumChanged(false));
    system.events.subscribe(QuorumRegained, () => this.quorumChanged(true));
    this.remote.handlePaths(PREFIX, {
      transparentRef: (path) => this.refForPath(path),
      target: (path) => this.entries.get(path),
      fromKeyed: (key, shard, origin, seq, msg): WireEnvelope => [key, shard, msg, origin, seq],
      missingTarget: (path) => this.heldFor(path),
    });
    system.shutdownPhases.add('hand-off', 'casty.sharding.hand-off', () => this.handOffAll());
    // SWIM publishes the members a join brings before it marks the node joined: take the view again then
    ClusterMembership.of(system).whenJoined(() => this.updateRing());
    // Every node must cut ids into the same shards: one with another shard count is left out of the ring, both ways.
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.shardCount, 0);
    ClusterMembership.of(system).gossip.set(`${SHARDS_KEY}${this.selfId}`, count);
    ClusterMembership.of(system).gossip.subscribe(`${SHARDS_KEY}*`, (change) => {
      const nodeId = change.key.slice(SHARDS_KEY.length);
      if (nodeId === this.selfId || change.value === undefined || change.value.byteLength !== 4) return;
      const theirs = Buffer.from(change.value).readUInt32BE(0);
      if (theirs === this.shardCount) {
        if (this.incompatible.delete(nodeId)) this.updateRing();
        return;
      }
      if (!this.incompatible.has(nodeId)) {
        this.incompatible.set(nodeId, theirs);
        system.logger.error(`Node '${nodeId}' cuts entity ids into ${theirs} shards and this node ('${this.selfId}') into ` +
          `${this.shardCount}: the two would place entities differently, so neither holds shards for the other (it is left ` +
          'out of this node\'s ring). Give every node the same shard count');
        this.updateRing();
      }
    });
    ClusterMembership.of(system).gossip.subscribe(`${NO_QUORUM_KEY}*`, (change) => {
      const nodeId = change.key.slice(NO_QUORUM_KEY.length);
      if (nodeId === this.selfId) {
        // left behind by an earlier run of this node id, or by this run before it regained quorum
        if (change.value !== undefined && this.membership.hasQuorum) ClusterMembership.of(system).gossip.delete(change.key);
        return;
      }
      if (change.value === undefined) this.peersWithoutQuorum.delete(nodeId);
      else this.peersWithoutQuorum.add(nodeId);
      this.updateRing();
    });
    ClusterMembership.of(system).gossip.subscribe(`${LEAVING_KEY}*`, (change) => {
      const nodeId = change.key.slice(LEAVING_KEY.length);
      if (nodeId === this.selfId) {
        // left behind by an earlier run of this node id: this run is not leaving
        if (change.value !== undefined && !this.leavingSelf) ClusterMembership.of(system).gossip.delete(change.key);
        return;
      }
      if (change.value === undefined) this.leavingPeers.delete(nodeId);
      else this.leavingPeers.add(nodeId);
      this.updateRing();
    });
    ClusterMembership.of(system).gossip.subscribe(`${SINCE_KEY}*`, (change) => {
      const nodeId = change.key.slice(SINCE_KEY.length);
      if (change.value === undefined || change.value.byteLength !== 8) this.since.delete(nodeId);
      else this.since.set(nodeId, Buffer.from(change.value).readDoubleBE(0));
      this.updateRing();
    });
    system.shutdownPhases.add('close', 'casty.sharding.close', () => {
      for (const h of this.held.values()) h.close();
    });
  }

  /**
   * Gossips when this node joined (once, at its first ring): its wall clock, or one past the latest it knows of if
   * that is later, so it counts as younger than every member it has heard of (a join never moves a singleton).
   */
  private announceSince(): void {
    if (this.sinceAnnounced) return;
    this.sinceAnnounced = true;
    let since = Date.now();
    for (const [id, t] of this.since) if (id !== this.selfId && t >= since) since = t + 1;
    const value = Buffer.alloc(8);
    value.writeDoubleBE(since, 0);
    this.since.set(this.selfId, since);
    ClusterMembership.of(this.system).gossip.set(`${SINCE_KEY}${this.selfId}`, value);
  }

  /** Hands every shard of every type to its next owner (a graceful leave); resolves when all are taken. */
  private async handOffAll(): Promise<void> {
    // Every node, a joiner too (it gets the gossiped state when it joins), leaves this one out of its ring.
    this.leavingSelf = true;
    if (this.types.size > 0) ClusterMembership.of(this.system).gossip.set(`${LEAVING_KEY}${this.selfId}`, new Uint8Array([1]));
    await Promise.all([...this.types.values()].map(({ region }) => new Promise<unknown>((resolve) =>
      (region as LocalActorRef<unknown>).deliverAsk(new HandOffAll(), HAND_OFF_TIMEOUT_MS, resolve, resolve))));
  }

  /** This process's origin id (its messages are numbered per shard; see EntityEnvelope). */
  readonly origin: number;
  /** The last number given to a message to each shard of each type from this process. */
  private readonly seqs = new Map<string, Float64Array>();

  /** The next number of a message from this process to `shard` of `typeName`. */
  private nextSeq(typeName: string, shard: number): number {
    return ++this.counters(typeName)[shard]!;
  }

  private counters(typeName: string): Float64Array {
    let counters = this.seqs.get(typeName);
    if (counters === undefined) this.seqs.set(typeName, (counters = new Float64Array(this.shardCount)));
    return counters;
  }

  /** The shard of entity `id` (the same on every node). */
  shardOf(id: string): number {
    return shardOf(id, this.shardCount);
  }

  /** The current ring (a pure value: every node with the same view has the same one). */
  get currentRing(): HashRing {
    return this.ring;
  }

  /**
   * Per type registered here: active entities, shards held and moving (handing off, awaited, draining or
   * restoring), messages buffered while shards move, and with replication the entity states kept here (its own
   * shards' and those it backs up: bytes and entities); with the shards this node owns by the ring, hand-offs done, ring changes,
   * and the members left out for another shard count. A snapshot, read outside the regions' turns.
   */
  stats(): { types: { typeName: string; singleton: boolean; activeEntities: number; shardsHeld: number; shardsMoving: number; buffered: number;
    replicaBytes: number; replicaEntities: number }[];
    shardsOwned: number; handOffs: number; ringChanges: number; incompatibleNodes: Record<string, number> } {
    return {
      incompatibleNodes: Object.fromEntries(this.incompatible),
      types: [...this.types.keys()].map((typeName) => {
        const summary = this.instances.get(typeName)?.summary() ??
          { held: 0, moving: 0, entities: 0, buffered: 0, replicaBytes: 0, replicaEntities: 0 };
        return { typeName, singleton: this.types.get(typeName)!.type.singleton, activeEntities: this.active.get(typeName) ?? 0,
          shardsHeld: summary.held, shardsMoving: summary.moving,
          buffered: summary.buffered, replicaBytes: summary.replicaBytes, replicaEntities: summary.replicaEntities };
      }),
      shardsOwned: this.ring.assignment().shardsOf(this.selfId).length,
      handOffs: this.handOffs,
      ringChanges: this.ringChanges,
    };
  }

  /**
   * Replication of entity state for the types spawned with the `replication` option: what @casty/replication's
   * node extension gives this node's sharding (clustered() composes it). Once, before any type is spawned.
   */
  useReplication(provider: ReplicationProvider): void {
    if (this.replication !== undefined) throw new InvalidArgumentError('Sharding.useReplication: replication is installed already');
    this.replication = provider;
  }

  private replication: ReplicationProvider | undefined;

  /** The `replication` spawn option, checked by the provider; undefined when absent. */
  private replicationOf(where: string, value: unknown): ShardedType['replication'] {
    if (value === undefined) return undefined;
    const provider = this.replication;
    if (provider === undefined) {
      throw new InvalidArgumentError(`${where}: this node has no replication installed; compose it with @casty/replication's ` +
        'replication() extension (clustered() and startNode() from casty do)');
    }
    const settings = provider.parse(where, value);
    return settings === undefined ? undefined : { provider, settings, sendTimeoutMs: provider.sendTimeoutMs(settings) };
  }

  /** Called by ActorSystem.spawn for `sharded`, `singleton` and `replication`. */
  async spawnDistributed(actorClass: ActorClass, options: Readonly<Record<string, unknown>>): Promise<unknown> {
    const className = typeof actorClass === 'function' ? actorClass.name : String(actorClass);
    const singleton = options.singleton !== undefined;
    const kind = singleton ? 'singleton' : 'sharded';
    if (singleton && options.sharded !== undefined) {
      throw new InvalidArgumentError(`spawn(${className}): 'sharded' and 'singleton' exclude each other; a singleton is one ` +
        'actor in the cluster, a sharded type many entities');
    }
    for (const key of Object.keys(options)) {
      if (!(key === kind || key === 'name' || key === 'args' || key === 'replication' || (key === 'passivation' && !singleton))) {
        throw new InvalidArgumentError(`spawn(${className}, { ${kind}: true }): unknown option '${key}'; ` +
          `the options of a ${singleton ? 'singleton are name, singleton, args and replication'
            : 'sharded type are name, sharded, args, passivation and replication'}`);
      }
    }
    const passivation = singleton ? undefined : parsePassivation(className, options.passivation);
    const replication = this.replicationOf(`spawn(${className}, { ${kind}: true }): replication`, options.replication);
    if (options[kind] !== true) {
      throw new InvalidArgumentError(`spawn(${className}): '${kind}' must be true, got ${JSON.stringify(options[kind])}`);
    }
    const name = options.name;
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > MAX_ACTOR_NAME_BYTES - PREFIX.length ||
      !/^[A-Za-z0-9_.:@+=,;!*'()~-]+$/.test(name)) {
      throw new InvalidArgumentError(`spawn(${className}, { ${kind}: true }): 'name' names it on every node and ` +
        `must be a plain name (letters, digits and _.:@+=,;!*'()~-), got ${JSON.stringify(name)}`);
    }
    const args = options.args ?? [];
    if (!Array.isArray(args)) {
      throw new InvalidArgumentError(`spawn(${className}, { ${kind}: true }): 'args' must be an array of the constructor ` +
        `arguments${singleton ? '' : ' after the entity id'}`);
    }
    const existing = this.types.get(name);
    if (existing !== undefined) {
      if (existing.type.entityClass !== actorClass || existing.type.singleton !== singleton) {
        throw new InvalidArgumentError(`spawn(${className}, { name: '${name}', ${kind}: true }): the name '${name}' is ` +
          `registered already, ${existing.type.singleton ? 'as a singleton' : 'as a sharded type'} of class ${existing.type.entityClass.name}`);
      }
      if (JSON.stringify(existing.type.replication?.settings) !== JSON.stringify(replication?.settings)) {
        throw new InvalidArgumentError(`spawn(${className}, { name: '${name}', ${kind}: true }): the name '${name}' is ` +
          `registered already with replication ${JSON.stringify(existing.type.replication?.settings ?? 'off')}; register it once, ` +
          'with the same options on every node');
      }
      return singleton ? this.entityRef(name, name, existing.handles) : new ShardedRef(name, this, existing.handles);
    }
    const type: ShardedType = { typeName: name, entityClass: actorClass, args, singleton, passivation, replication };
    const region = await spawnSystemActor(this.system, ShardRegion, { name: `sharding-${name}`, args: [type, this.regionHost(name)] });
    const handles = declaredHandledClasses(actorClass);
    this.types.set(name, { type, region, handles });
    this.routeVersion++;
    const entry = new RegionEntry(region as LocalActorRef<unknown>);
    entry.attach(this.instances.get(name));
    this.entries.set(region.path, entry);
    void (region as LocalActorRef<unknown>).deliver(new RingChanged()); // its first view of the placement
    const held = this.held.get(name);
    if (held !== undefined) {
      this.held.delete(name);
      held.release(region);
    }
    return singleton ? this.entityRef(name, name, handles) : new ShardedRef(name, this, handles);
  }

  /** @internal The ref to an entity (see ShardedRef.entity). */
  entityRef<TMessage>(typeName: string, id: string, handles: readonly MessageClass[] | undefined): ActorRef<TMessage> {
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidArgumentError(`entity(id) of '${typeName}' needs a non-empty string id, got ${JSON.stringify(id)}`);
    }
    const childName = entityChildName(id);
    if (Buffer.byteLength(childName) > MAX_ACTOR_NAME_BYTES - 8) {
      throw new InvalidArgumentError(`entity(id) of '${typeName}': the id is too long (${Buffer.byteLength(childName)} bytes ` +
        `once encoded; at most ${MAX_ACTOR_NAME_BYTES - 8})`);
    }
    const shard = this.types.get(typeName)?.type.singleton === true ? 0 : shardOf(id, this.shardCount);
    return new EntityRef<TMessage>(typeName, id, shard, `${PREFIX}${typeName}/${childName}`, this, handles);
  }

  /**
   * EntityRouter: through the region that should get it now; to another node's region as a keyed tell (the routing
   * fields in the envelope's header, made once per ref and region: see RemoteMessaging.tellKeyed), to this node's
   * as the wire envelope.
   */
  tellEntity(ref: EntityRef<unknown>, msg: unknown): Promise<void> {
    // without quorum nothing is sent: what a minority forwards to the majority could be processed there unseen
    if (!this.membership.hasQuorum) return Promise.reject(minorityPartitionError(this.selfId, ref.typeName, ref.entityId));
    const route = this.remoteRoute(ref);
    const timeout = route === undefined ? this.sendTimeoutOf(ref.typeName) : route.sendTimeoutMs;
    if (timeout !== undefined) {
      // resolves once the entity processed it and its backups hold the new state (see AcknowledgedSend)
      return this.askEntity(ref, new AcknowledgedSend(msg), { timeout }).then(() => undefined);
    }
    if (route === undefined) {
      const wire: WireEnvelope = [ref.entityId, ref.shard, msg, this.origin, this.nextSeq(ref.typeName, ref.shard)];
      return this.regionFor(ref.typeName, ref.shard).send(wire);
    }
    route.tell ??= new KeyedHeader(EnvelopeKind.KEYED_TELL, route.region.actorPath, ref.entityId, ref.shard, this.origin);
    return this.remote.tellKeyed(route.region, route.tell, ref.entityId, ++route.counters[ref.shard]!, msg);
  }

  /** EntityRouter: as tellEntity, an ask. */
  askEntity(ref: EntityRef<unknown>, msg: unknown, options: AskOptions | undefined): Promise<unknown> {
    if (!this.membership.hasQuorum) return Promise.reject(minorityPartitionError(this.selfId, ref.typeName, ref.entityId));
    const route = this.remoteRoute(ref);
    if (route === undefined) {
      const wire: WireEnvelope = [ref.entityId, ref.shard, msg, this.origin, this.nextSeq(ref.typeName, ref.shard)];
      return this.regionFor(ref.typeName, ref.shard).ask(wire as never, options);
    }
    route.ask ??= new KeyedHeader(EnvelopeKind.KEYED_ASK, route.region.actorPath, ref.entityId, ref.shard, this.origin);
    const seq = ++route.counters[ref.shard]!;
    return this.remote.askKeyed(route.region, route.ask, ref.entityId, seq, msg, options?.timeout,
      (): WireEnvelope => [ref.entityId, ref.shard, msg, this.origin, seq]);
  }

  /**
   * The route of `ref` when its messages go to another node's region now (kept on the ref while the routing's
   * version stands), or undefined when they go to this node's region (or wait here).
   */
  private remoteRoute(ref: EntityRef<unknown>): EntityRoute | undefined {
    const kept = ref.route;
    if (kept !== undefined && kept.version === this.routeVersion) return kept;
    const region = this.regionFor(ref.typeName, ref.shard);
    if (!(region instanceof RemoteActorRef)) {
      ref.route = undefined;
      return undefined;
    }
    const route = kept?.region === region ? kept
      : { region, tell: undefined, ask: undefined, counters: this.counters(ref.typeName), version: 0, sendTimeoutMs: undefined };
    route.version = this.routeVersion;
    route.sendTimeoutMs = this.sendTimeoutOf(ref.typeName); // a registration bumps the version too
    ref.route = route;
    return route;
  }

  /** How long a send to an entity of `typeName` waits for its backups; undefined when it does not wait. */
  private sendTimeoutOf(typeName: string): number | undefined {
    return this.types.get(typeName)?.type.replication?.sendTimeoutMs;
  }

  /**
   * Quorum was lost or regained: the others are told (they leave this node out of their rings meanwhile, so they do
   * not route to it or hand it shards), routes are made again, and each region stops hosting or hosts again.
   */
  private quorumChanged(has: boolean): void {
    const gossip = ClusterMembership.of(this.system).gossip;
    if (has) gossip.delete(`${NO_QUORUM_KEY}${this.selfId}`);
    else gossip.set(`${NO_QUORUM_KEY}${this.selfId}`, new Uint8Array([1]));
    this.routeVersion++;
    // a local signal, as RingChanged
    for (const { region } of this.types.values()) void (region as LocalActorRef<unknown>).deliver(new QuorumChanged());
  }

  /** Bumped by whatever can change where an entity's messages go: ring or placement updates, registrations. */
  private routeVersion = 0;

  /** The region that should get a message for `shard` of `typeName` now. */
  regionFor(typeName: string, shard: number): ActorRef<unknown> {
    const owner = this.placementOf(typeName)?.ownerOf(shard) ?? this.selfId;
    if (owner === this.selfId) return this.types.get(typeName)?.region ?? this.heldFor(`${PREFIX}${typeName}`)!;
    return this.regionOn(typeName, owner);
  }

  private regionOn(typeName: string, nodeId: NodeId): ActorRef<unknown> {
    let byNode = this.regionRefs.get(typeName);
    const cached = byNode?.get(nodeId);
    if (cached !== undefined) return cached;
    const address = this.addresses.get(nodeId);
    if (address === undefined) return this.types.get(typeName)?.region ?? this.heldFor(`${PREFIX}${typeName}`)!;
    const ref = this.remote.remoteRef(nodeId, address, `${PREFIX}${typeName}`);
    if (byNode === undefined) this.regionRefs.set(typeName, (byNode = new Map()));
    byNode.set(nodeId, ref);
    return ref;
  }

  private regionHost(typeName: string): RegionHost {
    return {
      selfId: this.selfId,
      logger: this.system.logger,
      events: this.system.events,
      maxBufferedPerShard: this.maxBuffered,
      codec: this.remote.codec,
      clock: this.system.clock,
      maxReplicaBytes: this.maxReplicaBytes,
      ring: () => this.placementOf(typeName),
      isLive: (nodeId) => this.live.has(nodeId),
      // members with another shard count number shards otherwise: their replicas are not this node's to count on
      liveMembers: () => [...this.live].filter((id) => !this.incompatible.has(id)),
      isReachable: (nodeId) => !this.remote.isUnavailable(nodeId),
      relayReply: (route, body) => this.remote.relayReply(route, body),
      hasQuorum: () => this.membership.hasQuorum,
      regionOn: (nodeId) => this.regionOn(typeName, nodeId),
      bulk: this.bulk,
      entityStarted: (t) => this.active.set(t, (this.active.get(t) ?? 0) + 1),
      entityStopped: (t) => this.active.set(t, (this.active.get(t) ?? 1) - 1),
      handOffDone: () => { this.handOffs++; },
      attach: (region) => {
        this.instances.set(typeName, region);
        const entry = this.types.get(typeName);
        if (entry !== undefined) this.entries.get(entry.region.path)?.attach(region);
      },
      shardOf: (id) => shardOf(id, this.shardCount),
      shardCount: this.shardCount,
      excludeFromRing: (nodeId) => {
        this.leavingPeers.add(nodeId);
        this.updateRing();
      },
    };
  }

  /** Where `typeName`'s shards go: the ring, or for a singleton the oldest member; undefined before the join. */
  private placementOf(typeName: string): Placement | undefined {
    const ring = this.joinedRing();
    if (ring === undefined || this.types.get(typeName)?.type.singleton !== true) return ring;
    // computed with the ring in updateRing; this covers the moment before its first update
    return (this.singletonPlacement ??= this.singletonPlacementOf(ring.members));
  }

  private singletonPlacementOf(members: readonly NodeId[]): SingletonPlacement {
    // alone, every time is known but no other member's has been heard: not settled yet
    this.singletonSettled ||= members.length > 1 && members.every((m) => this.since.has(m));
    return new SingletonPlacement(members, this.since, this.selfId, this.singletonSettled);
  }

  /** The ring once this node has joined the cluster (before, it holds no shard). */
  private joinedRing(): HashRing | undefined {
    if (!this.joined) {
      if (!ClusterMembership.of(this.system).isJoined) return undefined;
      this.joined = true;
      this.updateRing();
    }
    return this.ring;
  }

  private updateRing(): void {
    this.routeVersion++;
    const membership = ClusterMembership.of(this.system);
    if (!this.joined && !membership.isJoined) return;
    this.joined = true;
    const members = membership.members();
    for (const m of members) {
      const known = this.addresses.get(m.nodeId);
      if (known === undefined || known.host !== m.address.host || known.port !== m.address.port) {
        this.addresses.set(m.nodeId, m.address);
        this.regionRefs.clear(); // a member's address changed (a restart elsewhere): refs are made again
      }
    }
    const live = ringMembers(members.map((m) => ({ id: m.nodeId, state: m.state })));
    this.live = new Set(live);
    for (const id of this.leavingPeers) if (!this.live.has(id)) this.leavingPeers.delete(id);
    // a member without quorum hosts nothing: leaving it in would route its shards to refusals
    // a member leaving gracefully owns nothing from the moment it says so (it hands its shards over meanwhile)
    const ids = live.filter((id) => !this.leavingPeers.has(id) && !this.incompatible.has(id) && !this.peersWithoutQuorum.has(id));
    if (!ids.includes(this.selfId)) ids.push(this.selfId);
    const first = !this.sinceAnnounced;
    this.announceSince();
    const next = HashRing.of(ids, { shardCount: this.shardCount });
    // the singleton goes to the oldest member, members without quorum included: left out, two members that regained
    // quorum together each still saw the other's old "no quorum" in the gossip and each took the singleton (it waits
    // instead, refused, until that member hosts again or is declared down)
    const singletonIds = live.filter((id) => !this.leavingPeers.has(id) && !this.incompatible.has(id));
    if (!singletonIds.includes(this.selfId)) singletonIds.push(this.selfId);
    const nextSingleton = this.singletonPlacementOf(HashRing.of(singletonIds, { shardCount: this.shardCount }).members);
    const changed = first || !next.equals(this.ring) || this.singletonPlacement === undefined ||
      !nextSingleton.equals(this.singletonPlacement);
    // the same ring keeps its object, and with it the table of owners that routing reads for every message
    if (!next.equals(this.ring)) this.ring = next;
    this.ring.assignment();
    this.singletonPlacement = nextSingleton;
    if (!changed) return;
    this.system.logger.debug(`Node '${this.selfId}': the ring is now ${this.ring.members.join(', ')}`);
    // a local signal, not a message that crosses the wire: past serializeMessages' round trip
    for (const { region } of this.types.values()) void (region as LocalActorRef<unknown>).deliver(new RingChanged());
    this.ringChanges++;
  }

  /** A wire ref whose path is an entity's (`/system/sharding-<type>/<entity>`) is that entity's EntityRef here. */
  private refForPath(path: string): ActorRef<unknown> | undefined {
    const rest = path.slice(PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || rest.indexOf('/', slash + 1) !== -1) return undefined;
    const typeName = rest.slice(0, slash);
    return this.entityRef(typeName, entityIdOfChildName(rest.slice(slash + 1)), this.types.get(typeName)?.handles);
  }

  /** The stand-in region for a type not registered here yet. */
  private heldFor(path: string): HeldMessages | undefined {
    const typeName = path.slice(PREFIX.length);
    if (typeName.length === 0 || typeName.includes('/') || this.types.has(typeName)) return undefined;
    let held = this.held.get(typeName);
    if (held === undefined) {
      held = new HeldMessages(path, typeName, this.selfId, this.system, this.system.clock, this.holdMs, this.maxHeld);
      this.held.set(typeName, held);
    }
    return held;
  }
}

/** Default idle time before an entity is passivated (Akka's default too). */
export const DEFAULT_PASSIVATION_IDLE_MS = 120_000;

/** `passivation`: `{ idleMs?, maxActive? }` (defaults 120 s, no cap), or false to keep entities until their shard moves. */
function parsePassivation(className: string, value: unknown): ShardedType['passivation'] {
  if (value === false) return undefined;
  if (value === undefined) return { idleMs: DEFAULT_PASSIVATION_IDLE_MS, maxActive: Infinity };
  const where = `spawn(${className}, { sharded: true }): passivation`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`${where} must be { idleMs?, maxActive? } or false, got ${JSON.stringify(value)}`);
  }
  const { idleMs = DEFAULT_PASSIVATION_IDLE_MS, maxActive = Infinity, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new InvalidArgumentError(`${where} has no field '${unknown[0]}'; its fields are idleMs and maxActive`);
  if (typeof idleMs !== 'number' || !(idleMs >= 1_000)) {
    throw new InvalidArgumentError(`${where}.idleMs must be a number of milliseconds >= 1000, got ${JSON.stringify(idleMs)}`);
  }
  if (maxActive !== Infinity && (typeof maxActive !== 'number' || !Number.isInteger(maxActive) || maxActive < 1)) {
    throw new InvalidArgumentError(`${where}.maxActive must be a whole number >= 1, got ${JSON.stringify(maxActive)}`);
  }
  return { idleMs, maxActive: maxActive as number };
}


/** Sharding as a feature of a node, for `ClusteredActorSystem.start(transport, { extensions: [sharding()] })`. */
export function sharding(settings: ShardingSettings = {}): NodeExtension {
  return {
    name: 'sharding',
    install(system: ClusteredActorSystem) {
      system.registerExtension(Sharding.key, new Sharding(system, settings));
    },
  };
}
