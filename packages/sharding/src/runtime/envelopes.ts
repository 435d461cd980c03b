// What travels between shard regions: a message for one entity, with the shard it belongs to and how many
// regions have passed it on (a bound on forwarding while nodes' views of the ring differ).

import { message } from '@casty/core';

/** A message for the entity `entityId` of a region's type, in shard `shard`. */
@message('casty.sharding.EntityEnvelope')
export class EntityEnvelope {
  constructor(
    readonly entityId: string,
    readonly shard: number,
    readonly message: unknown,
    /** Regions that forwarded it so far (the owner by their view was another node). */
    readonly hops: number,
  ) {}
}

/** Told to every region of a node when its ring changed: entities of shards it no longer owns stop. */
export class RingChanged {}

/** Most times a message is passed from region to region before it is given up as unroutable. */
export const MAX_HOPS = 3;
