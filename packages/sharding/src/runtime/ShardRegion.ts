// The shard region of one entity type on one node (an actor at /system/sharding-<type>): it routes each
// message to the entity in this node's shards, creating the entity on its first message, and passes on what
// belongs to a shard another node owns (by this node's view of the ring). When the ring changes, the entities
// of shards that moved away stop in turn: each finishes the messages queued before the stop.

import { Actor, Terminated } from '@casty/core';
import type { ActorClass, ActorRef, Context } from '@casty/core';
import { LocalActorRef, spawnChildNow, StopInTurn } from '@casty/core/internal';
import type { NodeId } from '@casty/cluster';
import { EntityEnvelope, MAX_HOPS, RingChanged } from './envelopes';
import { ShardUnavailableError } from './errors';
import { UnroutableRef } from './UnroutableRef';

/** A registered sharded type, as its region needs it. */
export interface ShardedType {
  readonly typeName: string;
  readonly entityClass: ActorClass;
  /** Constructor arguments after the entity id. */
  readonly args: readonly unknown[];
}

/** What a region asks of the node's sharding. */
export interface RegionHost {
  readonly selfId: NodeId;
  /** The owner of `shard` by this node's ring; undefined while the ring is empty. */
  ownerOf(shard: number): NodeId | undefined;
  /** The region of this type on `nodeId` (a remote ref). */
  regionOn(nodeId: NodeId): ActorRef<unknown>;
  /** Counts an entity started or stopped here (for statistics). */
  entityStarted(typeName: string, entityId: string): void;
  entityStopped(typeName: string, entityId: string): void;
}

interface Entity {
  readonly id: string;
  readonly shard: number;
  readonly ref: ActorRef<unknown>;
}

export class ShardRegion extends Actor<unknown> {
  private readonly entities = new Map<string, Entity>();
  private readonly byPath = new Map<string, Entity>();
  private readonly shards = new Map<number, Set<string>>();

  constructor(private readonly type: ShardedType, private readonly host: RegionHost) {
    super();
  }

  override receive(msg: unknown, ctx: Context<unknown>): void {
    if (msg instanceof EntityEnvelope) this.route(msg, ctx);
    else if (msg instanceof RingChanged) this.stopShardsMovedAway(ctx);
    else if (msg instanceof Terminated) this.entityTerminated(msg.ref.path);
    else ctx.unhandled(msg);
  }

  /** Entities alive here now, by shard (statistics). */
  activeEntities(): number {
    return this.entities.size;
  }

  private route(envelope: EntityEnvelope, ctx: Context<unknown>): void {
    const owner = this.host.ownerOf(envelope.shard);
    if (owner === this.host.selfId) {
      let entity: ActorRef<unknown>;
      try {
        entity = this.entity(envelope.entityId, envelope.shard, ctx);
      } catch (error) {
        // its constructor threw: this message fails (an ask rejects with why); the next one tries again
        ctx.forward(new UnroutableRef(`${ctx.selfRef.path}/${entityChildName(envelope.entityId)}`, error as Error, ctx.system), envelope.message);
        return;
      }
      ctx.forward(entity, envelope.message);
      return;
    }
    if (owner === undefined || envelope.hops >= MAX_HOPS) {
      const why = owner === undefined
        ? `no member owns shard ${envelope.shard} (this node's ring is empty)`
        : `it was passed between regions ${envelope.hops} times (the nodes' views of the ring disagree); last owner seen: '${owner}'`;
      const error = new ShardUnavailableError(`A message for entity '${envelope.entityId}' of '${this.type.typeName}' ` +
        `could not be delivered: ${why}. Try again once membership has settled`);
      ctx.forward(new UnroutableRef(`${ctx.selfRef.path}/${envelope.entityId}`, error, ctx.system), envelope.message);
      return;
    }
    ctx.forward(this.host.regionOn(owner), new EntityEnvelope(envelope.entityId, envelope.shard, envelope.message, envelope.hops + 1));
  }

  private entity(id: string, shard: number, ctx: Context<unknown>): ActorRef<unknown> {
    const existing = this.entities.get(id);
    if (existing !== undefined) return existing.ref;
    // A stopping entity of the same id (its shard moved away and back) still holds its name: take another.
    let name = entityChildName(id);
    const taken = new Set(ctx.children.map((c) => c.path.slice(c.path.lastIndexOf('/') + 1)));
    for (let n = 1; taken.has(name); n++) name = `${entityChildName(id)}#${n}`;
    const { ref, started } = spawnChildNow(ctx as Context<never>, this.type.entityClass, { name, args: [id, ...this.type.args] });
    started.catch(() => undefined); // an entity whose constructor or onStart fails: its messages are dead letters, its asks fail
    const entity: Entity = { id, shard, ref };
    this.entities.set(id, entity);
    this.byPath.set(ref.path, entity);
    let inShard = this.shards.get(shard);
    if (inShard === undefined) this.shards.set(shard, (inShard = new Set()));
    inShard.add(id);
    ctx.watch(ref as ActorRef<never>);
    this.host.entityStarted(this.type.typeName, id);
    return ref;
  }

  private stopShardsMovedAway(ctx: Context<unknown>): void {
    for (const [shard, ids] of this.shards) {
      if (this.host.ownerOf(shard) === this.host.selfId) continue;
      for (const id of ids) {
        const entity = this.entities.get(id);
        if (entity !== undefined) void (entity.ref as LocalActorRef<unknown>).deliver(new StopInTurn());
        this.forget(id);
      }
      this.shards.delete(shard);
    }
    void ctx;
  }

  private entityTerminated(path: string): void {
    const entity = this.byPath.get(path);
    if (entity === undefined) return;
    this.byPath.delete(path);
    if (this.entities.get(entity.id) === entity) this.forget(entity.id);
  }

  private forget(id: string): void {
    const entity = this.entities.get(id);
    if (entity === undefined) return;
    this.entities.delete(id);
    const inShard = this.shards.get(entity.shard);
    inShard?.delete(id);
    if (inShard?.size === 0) this.shards.delete(entity.shard);
    this.host.entityStopped(this.type.typeName, id);
  }
}

const PLAIN_ID = /^[A-Za-z0-9_.:@+=,;!*'()-][A-Za-z0-9_.:@+=,;!*'()~-]*$/;

/**
 * An entity's child name: its id where that is a plain name (no '%', '#', '$' first, '/', spaces...), else the id
 * percent-encoded; a '#n' suffix is added only while a stopping entity of the same id still holds the name.
 */
export function entityChildName(id: string): string {
  return PLAIN_ID.test(id) ? id : encodeURIComponent(id);
}

/** The entity id an entity's child name stands for (see entityChildName). */
export function entityIdOfChildName(name: string): string {
  const base = name.split('#')[0]!;
  return base.includes('%') ? decodeURIComponent(base) : base;
}
