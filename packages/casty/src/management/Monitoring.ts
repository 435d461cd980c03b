// Monitoring: the extension every node made by `clustered()`/`startNode()` carries, management endpoint or not,
// so that the endpoint of any one node can show every node. It counts dead letters and membership events from
// the node's start, keeps the recent membership events (bounded), and answers GetNodeStats from other nodes
// at `/system/casty-monitoring` with a snapshot of its counters (NodeStats). Counting costs one map update per
// dead letter or membership event; nothing runs on a timer.

import { Actor, DeadLetter, ExtensionKey, message, Request } from '@casty/core';
import type { ActorSystem, Context, SystemExtension } from '@casty/core';
import { runtimeStats, spawnSystemActor } from '@casty/core/internal';
import { ClusterEvent, formatAddress, MemberAlive, MemberDown, MemberLeft, MemberSuspect, MemberUp } from '@casty/cluster';
import type { ClusteredActorSystem, NodeExtension, TransportStats } from '@casty/cluster';
import { Sharding } from '@casty/sharding';
import type { NodeStats } from './NodeStats';

/** Name of the answering actor under /system. */
export const MONITORING_ACTOR = 'casty-monitoring';
/** Membership events kept for /cluster/events and the dashboard's timeline; older ones are dropped. */
export const MAX_RECENT_EVENTS = 500;

/** Kind of a membership event, as /cluster/events names it. */
export type MembershipEventType = 'up' | 'suspect' | 'alive' | 'down' | 'left';

/** One membership event as this node saw it. */
export interface RecordedEvent {
  /** Increases by one per event on this node; a poller asks for those after the last it saw. */
  readonly seq: number;
  /** Epoch milliseconds (the node's clock, anchored to the wall clock when the node started). */
  readonly at: number;
  readonly type: MembershipEventType;
  readonly nodeId: string;
  readonly address: string;
  readonly incarnation: number;
}

const TYPES: ReadonlyArray<readonly [abstract new (...args: never[]) => ClusterEvent, MembershipEventType]> = [
  [MemberUp, 'up'], [MemberSuspect, 'suspect'], [MemberAlive, 'alive'], [MemberDown, 'down'], [MemberLeft, 'left'],
];

/** Asks a node for its NodeStats (sent by the management endpoint of any node to `/system/casty-monitoring`). */
@message('casty.management.GetNodeStats')
export class GetNodeStats extends Request<NodeStats> {}

/** Answers GetNodeStats with a snapshot. */
class MonitoringActor extends Actor<GetNodeStats> {
  static readonly handles = [GetNodeStats];
  constructor(private readonly monitoring: Monitoring) { super(); }

  override async receive(msg: GetNodeStats, ctx: Context<GetNodeStats>): Promise<void> {
    ctx.reply(this.monitoring.snapshot());
  }
}

export class Monitoring implements SystemExtension {
  static readonly key = new ExtensionKey<Monitoring>('casty.monitoring');
  static readonly path = `/system/${MONITORING_ACTOR}`;

  /** The monitoring of `system`, or undefined on a node that was not composed with it. */
  static of(system: ActorSystem): Monitoring | undefined {
    return system.extension(Monitoring.key);
  }

  private readonly deadLetters = new Map<string, number>();
  private readonly eventCounts = new Map<string, number>();
  private readonly recent: RecordedEvent[] = [];
  private seq = 0;
  private readonly startedAt: number;
  private readonly startedWall: number;
  private readonly unsubscribe: Array<() => void>;

  constructor(private readonly system: ClusteredActorSystem) {
    this.startedAt = system.clock.now();
    this.startedWall = Date.now(); // the one wall-clock reading: event times are shown to people
    this.unsubscribe = [
      system.events.subscribe(DeadLetter, (d) => this.deadLetters.set(d.reason, (this.deadLetters.get(d.reason) ?? 0) + 1)),
      system.events.subscribe(ClusterEvent, (e) => this.record(e)),
    ];
  }

  /** Shutdown phase 'close' (SystemExtension): stops counting. */
  afterShutdown(): Promise<void> {
    for (const off of this.unsubscribe) off();
    return Promise.resolve();
  }

  /** Epoch milliseconds now, by the system's clock. */
  now(): number {
    return this.startedWall + (this.system.clock.now() - this.startedAt);
  }

  /** The membership events recorded after `afterSeq` (all that are kept, by default), oldest first. */
  events(afterSeq = 0): RecordedEvent[] {
    return this.recent.filter((e) => e.seq > afterSeq);
  }

  /** This node's counters now. */
  snapshot(): NodeStats {
    const runtime = runtimeStats(this.system);
    const transport = this.system.transport as { stats?: () => TransportStats };
    const traffic = typeof transport.stats === 'function' ? transport.stats() : undefined;
    const sharding = this.system.extension(Sharding.key)?.stats();
    const memory = process.memoryUsage();
    return {
      nodeId: this.system.nodeId,
      at: this.now(),
      uptimeMs: this.system.clock.now() - this.startedAt,
      messagesProcessed: runtime.messagesProcessed,
      asksStarted: runtime.asksStarted,
      asksTimedOut: runtime.asksTimedOut,
      asksPending: runtime.asksPending,
      deadLetters: Object.fromEntries(this.deadLetters),
      membershipEvents: Object.fromEntries(this.eventCounts),
      ...(traffic === undefined ? {} : { traffic: {
        framesSent: traffic.framesSent, framesReceived: traffic.framesReceived, bytesWritten: traffic.bytesWritten,
        bytesRead: traffic.bytesRead, framesDropped: traffic.framesDropped, connectionsRefused: traffic.connectionsRefused,
      } }),
      ...(sharding === undefined ? {} : { sharding: {
        types: sharding.types.map(({ typeName, singleton, activeEntities, shardsHeld, shardsMoving, buffered }) =>
          ({ typeName, singleton, activeEntities, shardsHeld, shardsMoving, buffered })),
        shardsOwned: sharding.shardsOwned, handOffs: sharding.handOffs,
      } }),
      heapUsedBytes: memory.heapUsed,
      rssBytes: memory.rss,
    };
  }

  private record(event: ClusterEvent): void {
    const type = TYPES.find(([eventClass]) => event instanceof eventClass)?.[1];
    if (type === undefined) return;
    this.eventCounts.set(type, (this.eventCounts.get(type) ?? 0) + 1);
    const { member } = event;
    this.recent.push({ seq: ++this.seq, at: this.now(), type, nodeId: member.nodeId, address: formatAddress(member.address),
      incarnation: member.incarnation });
    // dropped in chunks, so a long-running node does not shift the array on every event
    if (this.recent.length > MAX_RECENT_EVENTS * 1.25) this.recent.splice(0, this.recent.length - MAX_RECENT_EVENTS);
  }
}

/** The node feature (see clustered.ts): installs Monitoring and spawns its answering actor. */
export function monitoring(): NodeExtension {
  return {
    name: 'monitoring',
    install(system: ClusteredActorSystem): void {
      const extension = new Monitoring(system);
      system.registerExtension(Monitoring.key, extension);
      // Until it has started, a GetNodeStats from another node is a dead letter there and that node shows this
      // one without figures for a moment; nothing waits on it.
      spawnSystemActor(system, MonitoringActor, { name: MONITORING_ACTOR, args: [extension] }).catch((error: unknown) =>
        system.logger.error(`Node '${system.nodeId}' could not start its monitoring actor; its figures will be missing ` +
          'from the management endpoints of the other nodes', error));
    },
  };
}
