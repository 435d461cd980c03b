// Where messages from other nodes for a type's region arrive (RemoteMessaging's path handler for
// /system/sharding-<type>): an entity message for a live entity of a shard the region holds goes straight to the
// entity when the region has nothing queued (one actor hop, as a message to a named actor); anything else goes
// through the region, which keeps the order and the hand-off rules. Asks are taken as a local actor takes them,
// with callbacks and no promise.

import type { DeliveryTarget, ReplyRoute } from '@casty/cluster/internal';
import { RESOLVED } from '@casty/core/internal';
import type { LocalActorRef } from '@casty/core/internal';
import { AcknowledgedSend, deliverAcknowledged } from './envelopes';
import type { WireEnvelope } from './envelopes';
import type { ShardRegion } from './ShardRegion';

export class RegionEntry implements DeliveryTarget {
  /** The region's actor instance (a new one after a restart), which knows its shards and entities. */
  private instance: ShardRegion | undefined;

  constructor(private readonly region: LocalActorRef<unknown>) {}

  attach(instance: ShardRegion | undefined): void {
    this.instance = instance;
  }

  deliver(msg: unknown): Promise<void> {
    const entity = this.fast(msg);
    if (entity !== undefined) return entity.deliver((msg as unknown[])[2]);
    // replication's messages touch only its own state: taken at once, not after the region's queue
    if (!Array.isArray(msg) && this.instance?.replicationTakes(msg) === true) return RESOLVED;
    return this.region.deliver(msg);
  }

  deliverAsk(msg: unknown, timeoutMs: number, replied: (value: unknown) => void, failed: (error: unknown) => void): void {
    const entity = this.fast(msg);
    if (entity === undefined) this.region.deliverAsk(msg, timeoutMs, replied, failed);
    else {
      const message = (msg as unknown[])[2];
      if (message instanceof AcknowledgedSend) deliverAcknowledged(entity, message, replied, failed);
      else entity.deliverAsk(message, timeoutMs, replied, failed);
    }
  }

  deliverKeyed(id: string, shard: number, origin: number, seq: number, msg: unknown): Promise<void> {
    const entity = this.instance?.fastEntity(id, shard, origin, seq, this.region);
    if (entity !== undefined) return entity.deliver(msg);
    const wire: WireEnvelope = [id, shard, msg, origin, seq];
    return this.region.deliver(wire);
  }

  deliverKeyedAsk(id: string, shard: number, origin: number, seq: number, msg: unknown, timeoutMs: number,
    replied: (value: unknown) => void, failed: (error: unknown) => void, relay?: ReplyRoute): void {
    const entity = this.instance?.fastEntity(id, shard, origin, seq, this.region);
    if (entity !== undefined) {
      if (msg instanceof AcknowledgedSend) deliverAcknowledged(entity, msg, replied, failed);
      // a replicated entity's backup may deliver the reply (see ReplyGate); through the region it never does
      else entity.deliverAsk(msg, timeoutMs, replied, failed, relay);
      return;
    }
    const wire: WireEnvelope = [id, shard, msg, origin, seq];
    this.region.deliverAsk(wire, timeoutMs, replied, failed);
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
