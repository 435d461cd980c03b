// What one node reports about itself to the management endpoint of any node (its dashboard, its /metrics):
// counters since the node started, read as a snapshot. The page turns counters into rates; nothing here is
// averaged or sampled, so two snapshots always subtract to an exact count.

/** One sharded type (or singleton) on one node, from `Sharding.of(system).stats()`. */
export interface TypeStats {
  readonly typeName: string;
  /** True for a singleton: its one shard is held on the node where it runs. */
  readonly singleton: boolean;
  readonly activeEntities: number;
  readonly shardsHeld: number;
  readonly shardsMoving: number;
  readonly buffered: number;
}

/** Sharding on one node; absent where sharding is not installed. */
export interface ShardingStats {
  readonly types: readonly TypeStats[];
  /** Shards this node owns by its ring (all types share the ring). */
  readonly shardsOwned: number;
  readonly handOffs: number;
}

/** The transport's traffic counters (TcpTransport.stats()); absent on a transport that keeps none. */
export interface TrafficStats {
  readonly framesSent: number;
  readonly framesReceived: number;
  readonly bytesWritten: number;
  readonly bytesRead: number;
  readonly framesDropped: number;
  readonly connectionsRefused: number;
}

/** A node's snapshot. */
export interface NodeStats {
  readonly nodeId: string;
  /** Wall-clock time of the snapshot, epoch milliseconds (rates are computed between two of one node). */
  readonly at: number;
  readonly uptimeMs: number;
  readonly messagesProcessed: number;
  readonly asksStarted: number;
  readonly asksTimedOut: number;
  readonly asksPending: number;
  /** Dead letters published on this node since it started, by reason. */
  readonly deadLetters: Readonly<Record<string, number>>;
  /** Membership events this node published, by type (MemberSuspect counts suspicions). */
  readonly membershipEvents: Readonly<Record<string, number>>;
  readonly traffic?: TrafficStats;
  readonly sharding?: ShardingStats;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
}
