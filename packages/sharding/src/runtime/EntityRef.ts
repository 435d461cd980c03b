// The ref to one sharded entity: location-transparent. Each message goes to the shard region of the node
// that owns the entity's shard by this node's ring (this node's own region, or a remote one), which creates the
// entity on its first message. The ref is the same wherever it is held: sent inside a message, it is read back
// on any node as an EntityRef again.

import { ActorRef } from '@casty/core';
import type { AskOptions, AskableOf, MessageClass, ReplyOf } from '@casty/core';
import type { RemoteActorRef } from '@casty/cluster';
import type { KeyedHeader } from '@casty/cluster/internal';

/** How an entity ref reaches the regions of its type. */
export interface EntityRouter {
  /** Sends `msg` to the entity of `ref` through the region that should get it now. */
  tellEntity(ref: EntityRef<unknown>, msg: unknown): Promise<void>;
  /** Asks it (see tellEntity). */
  askEntity(ref: EntityRef<unknown>, msg: unknown, options: AskOptions | undefined): Promise<unknown>;
}

/**
 * Where an entity ref's messages went last, when that was another node's region: the region, its keyed headers
 * (see RemoteMessaging.tellKeyed), the numbering of its type's shards, and the version of the routing it was found
 * by. While the routing has not changed since (no ring change, no registration), the next message goes there
 * without looking the region up again.
 */
export interface EntityRoute {
  readonly region: RemoteActorRef<unknown>;
  tell: KeyedHeader | undefined;
  ask: KeyedHeader | undefined;
  /** The last number given per shard of the type, from this process. */
  readonly counters: Float64Array;
  version: number;
  /** Set when the type's writes wait for backups: a send then goes as an acknowledged ask (see AcknowledgedSend). */
  sendTimeoutMs: number | undefined;
}

export class EntityRef<TMessage> extends ActorRef<TMessage> {
  /** @internal Kept by the router (see EntityRoute). */
  route: EntityRoute | undefined = undefined;

  constructor(
    readonly typeName: string,
    readonly entityId: string,
    readonly shard: number,
    /** `/system/sharding-<type>/<entity>`: the same on every node, read back as this ref anywhere. */
    readonly path: string,
    private readonly router: EntityRouter,
    private readonly handles: readonly MessageClass[] | undefined,
  ) {
    super();
  }

  send(msg: TMessage): Promise<void> {
    return this.router.tellEntity(this as EntityRef<unknown>, msg);
  }

  ask<TAsk extends AskableOf<TMessage>>(msg: TAsk, options?: AskOptions): Promise<ReplyOf<TAsk>> {
    return this.router.askEntity(this as EntityRef<unknown>, msg, options) as Promise<ReplyOf<TAsk>>;
  }

  handledClasses(): readonly MessageClass[] | undefined {
    return this.handles;
  }
}
