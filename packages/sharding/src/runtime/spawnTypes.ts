// The types of `system.spawn(Entity, { name, sharded: true })` (a ShardedRef typed by the entity's messages, with
// the constructor's arguments after the entity id type-checked in `args`) and of `{ name, singleton: true }`. Added to ActorSystem's `spawn` by
// declaration merging, so it is there wherever '@casty/sharding' (or 'casty') is imported.

import type { ActorClass, ActorRef, AnyActor, MessageOf } from '@casty/core';
import type { ShardedRef } from './Sharding';

/** Options of a sharded type's spawn. */
export interface ShardedSpawnOptions<TArgs extends unknown[]> {
  /** The entity type's name, the same on every node (a plain name: letters, digits and _.:@+=,;!*'()~-). */
  readonly name: string;
  readonly sharded: true;
  /** Constructor arguments after the entity id. */
  readonly args?: TArgs;
  /**
   * Idle entities stop after `idleMs` (default 120 s) and, over `maxActive` on one node, the least recently used
   * stop; a message starts them again (empty without replication, from its last state with it). `false` keeps
   * them until their shard moves.
   */
  readonly passivation?: { readonly idleMs?: number; readonly maxActive?: number } | false;
  /** Replicates each entity's state to the next nodes of its shard's preference list (see ReplicationOptions). */
  readonly replication?: ReplicationOptions;
}

/**
 * `replication` of a sharded type or singleton: after each message that changed an entity's state, the state goes
 * to `factor - 1` backups; a node that dies loses nothing its backups hold.
 */
export interface ReplicationOptions {
  /** Copies of each entity's state, the primary's included (1: no backups). */
  readonly factor: number;
  /**
   * Backups that must hold the new state before a `send` resolves or an `ask` gets its reply: 0 (default) none,
   * asynchronous; N that many; -1 all. At most factor - 1.
   */
  readonly syncCount?: number;
  /** Milliseconds an acknowledgement waits for them before failing with ReplicationTimeoutError. Default 5000. */
  readonly timeout?: number;
}

/** Options of a cluster singleton's spawn. */
export interface SingletonSpawnOptions<TArgs extends unknown[]> {
  /** The singleton's name, the same on every node (a plain name: letters, digits and _.:@+=,;!*'()~-). */
  readonly name: string;
  readonly singleton: true;
  /** Constructor arguments. */
  readonly args?: TArgs;
  /** Replicates the singleton's state to the members that would hold it next (see ReplicationOptions). */
  readonly replication?: ReplicationOptions;
}

/** An entity class: its constructor takes the entity id first. */
export type EntityClass<TActor extends AnyActor, TArgs extends unknown[]> = new (entityId: string, ...args: TArgs) => TActor;

declare module '@casty/core' {
  interface ActorSystem {
    /** Registers a sharded entity type on this node (every node does the same): see ShardedRef. */
    spawn<TActor extends AnyActor, TArgs extends unknown[]>(entityClass: EntityClass<TActor, TArgs>,
      options: [] extends TArgs ? ShardedSpawnOptions<TArgs> : ShardedSpawnOptions<TArgs> & { readonly args: TArgs }):
      Promise<ShardedRef<MessageOf<TActor>>>;
    /**
     * Registers a cluster singleton on this node (every node does the same): one instance in the cluster, on the
     * oldest member; the ref reaches it from every node, wherever it runs.
     */
    spawn<TActor extends AnyActor, TArgs extends unknown[]>(actorClass: ActorClass<TActor, TArgs>,
      options: [] extends TArgs ? SingletonSpawnOptions<TArgs> : SingletonSpawnOptions<TArgs> & { readonly args: TArgs }):
      Promise<ActorRef<MessageOf<TActor>>>;
  }
}
