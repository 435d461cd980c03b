// The ref to one sharded entity: location-transparent. Each message goes to the shard region of the node
// that owns the entity's shard by this node's ring (this node's own region, or a remote one), which creates the
// entity on its first message. The ref is the same wherever it is held: sent inside a message, it is read back
// on any node as an EntityRef again.

import { ActorRef } from '@casty/core';
import type { AskOptions, AskableOf, MessageClass, ReplyOf } from '@casty/core';
import type { WireEnvelope } from './envelopes';

/** How an entity ref reaches the regions of its type. */
export interface EntityRouter {
  /** The region, local or remote, that should get messages for `shard` of `typeName` now. */
  regionFor(typeName: string, shard: number): ActorRef<unknown>;
  /** This process's origin id (see EntityEnvelope.origin). */
  readonly origin: number;
  /** The next number of a message from this process to `shard` of `typeName` (1, 2, 3...). */
  nextSeq(typeName: string, shard: number): number;
}

export class EntityRef<TMessage> extends ActorRef<TMessage> {
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
    const router = this.router;
    const wire: WireEnvelope = [this.entityId, this.shard, msg, router.origin, router.nextSeq(this.typeName, this.shard)];
    return router.regionFor(this.typeName, this.shard).send(wire);
  }

  ask<TAsk extends AskableOf<TMessage>>(msg: TAsk, options?: AskOptions): Promise<ReplyOf<TAsk>> {
    const region = this.router.regionFor(this.typeName, this.shard);
    const router = this.router;
    const wire: WireEnvelope = [this.entityId, this.shard, msg, router.origin, router.nextSeq(this.typeName, this.shard)];
    return region.ask(wire, options) as Promise<ReplyOf<TAsk>>;
  }

  handledClasses(): readonly MessageClass[] | undefined {
    return this.handles;
  }
}
