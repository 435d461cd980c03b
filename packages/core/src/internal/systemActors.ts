// The `/system` namespace: where Casty's own packages (sharding's shard regions, replication's replica
// stores, singleton managers) spawn their actors, apart from the user's `/user` tree.

import type { ActorRef } from '../ActorRef';
import type { ActorSystem } from '../ActorSystem';
import type { Context } from '../Context';
import { InvalidArgumentError } from '../errors';
import type { ActorClass, AnyActor, MessageOf, SpawnOptions, SpawnParams } from '../spawn';
import { ActorCell } from './ActorCell';
import type { DetachedAsk } from './ActorCell';
import { ChildContainer } from './ChildContainer';

/** The key of ActorSystem's accessor for its system guardian (a symbol, so it is not in the public API). */
export const SYSTEM_ACTORS: unique symbol = Symbol('casty.systemActors');

/**
 * Spawns a framework actor at `/system/<name>` of `system`. Its name is unique among system actors; users
 * cannot spawn there, `lookup(name)` does not find it (only `lookup('/system/<name>')` does), the cluster does
 * not gossip it as a user name, and it stops after every user actor at shutdown.
 */
export function spawnSystemActor<TActor extends AnyActor, TArgs extends unknown[]>(system: ActorSystem,
  actorClass: ActorClass<TActor, TArgs>, ...options: SpawnParams<TArgs>): Promise<ActorRef<MessageOf<TActor>>> {
  return system[SYSTEM_ACTORS]().spawn(actorClass, ...options);
}

/**
 * Creates a child of the actor whose context is `ctx` at once (see ChildContainer.spawnChildNow): the ref can be
 * sent to in the same turn; messages wait in its mailbox until its onStart has run. Throws what spawn would reject.
 */
export function spawnChildNow(ctx: Context<never>, actorClass: ActorClass, options?: SpawnOptions<unknown[]>,
  prepare?: (instance: AnyActor) => void): { ref: ActorRef<unknown>; started: Promise<unknown> } {
  if (!(ctx instanceof ChildContainer)) throw new InvalidArgumentError('spawnChildNow needs the context of a local actor');
  return ctx.spawnChildNow(actorClass, options, prepare);
}

/** Takes the current message's ask out of its turn (see ActorCell.detachAsk), to answer it later. */
export function detachAsk(ctx: Context<never>): DetachedAsk {
  if (!(ctx instanceof ActorCell)) throw new InvalidArgumentError('detachAsk needs the context of a local actor');
  return ctx.detachAsk();
}

/** True when the actor whose context is `ctx` has a live child named `name` (one that has not finished stopping). */
export function hasChild(ctx: Context<never>, name: string): boolean {
  if (!(ctx instanceof ChildContainer)) throw new InvalidArgumentError('hasChild needs the context of a local actor');
  return ctx.childCells?.has(name) === true;
}
