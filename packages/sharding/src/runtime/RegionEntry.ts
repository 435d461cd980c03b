// Where messages from other nodes for a type's region arrive (RemoteMessaging's path handler for
// /system/sharding-<type>): an entity message for a live entity of a shard the region holds goes straight to the
// entity when the region has nothing queued (one actor hop, as a message to a named actor); anything else goes
// through the region, which keeps the order and the hand-off rules.

import { ActorRef } from '@casty/core';
import type { AskOptions, MessageClass } from '@casty/core';
import type { LocalActorRef } from '@casty/core/internal';
import type { ShardRegion } from './ShardRegion';

export class RegionEntry extends ActorRef<unknown> {
  /** The region's actor instance (a new one after a restart), which knows its shards and entities. */
  private instance: ShardRegion | undefined;

  constructor(
    readonly path: string,
    private readonly region: LocalActorRef<unknown>,
  ) {
    super();
  }

  attach(instance: ShardRegion | undefined): void {
    this.instance = instance;
  }

  send(msg: unknown): Promise<void> {
    const entity = this.fast(msg);
    if (entity !== undefined) return entity.deliver((msg as unknown[])[2]);
    return this.region.deliver(msg);
  }

  ask(msg: unknown, options?: AskOptions): Promise<never> {
    const entity = this.fast(msg);
    return (entity !== undefined ? entity.ask((msg as unknown[])[2], options) : this.region.ask(msg, options)) as Promise<never>;
  }

  handledClasses(): readonly MessageClass[] | undefined {
    return undefined;
  }

  /** The entity, when `msg` is an entity message straight from its sender that may skip the region. */
  private fast(msg: unknown): LocalActorRef<unknown> | undefined {
    // straight from the sender (five fields); forwarded ones (seven) keep the slow path
    if (this.instance === undefined || !Array.isArray(msg) || msg.length !== 5) return undefined;
    const fields = msg as unknown[];
    const id = fields[0];
    const shard = fields[1];
    const origin = fields[3];
    const seq = fields[4];
    if (typeof id !== 'string' || typeof shard !== 'number' || typeof origin !== 'number' || typeof seq !== 'number') return undefined;
    return this.instance.fastEntity(id, shard, origin, seq, this.region);
  }
}
