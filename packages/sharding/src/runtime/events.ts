// What sharding publishes on `system.events`: shards moving between nodes, and entities passivated.

/** A sharding event, published on the system of the node it happened on. */
export abstract class ShardingEvent {
  constructor(readonly typeName: string) {}
}

/** This node handed `shard` over to `to`, with `entities` entities' state. */
export class ShardHandedOff extends ShardingEvent {
  constructor(typeName: string, readonly shard: number, readonly to: string, readonly entities: number) {
    super(typeName);
  }
}

/** This node took `shard` over from `from` (with its entities' state), or afresh (`from` undefined: its holder was gone). */
export class ShardTakenOver extends ShardingEvent {
  constructor(typeName: string, readonly shard: number, readonly from: string | undefined, readonly entities: number) {
    super(typeName);
  }
}

/** The entity `entityId` was stopped for being idle (or the least recently used over the cap); a message starts it again. */
export class EntityPassivated extends ShardingEvent {
  constructor(typeName: string, readonly entityId: string, readonly reason: 'idle' | 'max-active') {
    super(typeName);
  }
}
