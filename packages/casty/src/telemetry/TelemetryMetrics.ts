// The node's OpenTelemetry metrics. Everything but the ask latency is an observable instrument that reads,
// at collection time only, the counters the node keeps anyway (Monitoring's snapshot: runtime, transport,
// membership events, sharding) plus the members by state and the mailbox depths; nothing is counted twice
// and nothing runs between collections. Ask latency is a histogram recorded as each ask settles.

import { mailboxDepths } from '@casty/core/internal';
import { ClusterMembership, MemberState } from '@casty/cluster';
import type { ClusteredActorSystem } from '@casty/cluster';
import { Monitoring } from '../management/Monitoring';
import type { OtelAttributes, OtelBatchResult, OtelHistogram, OtelMeter, OtelObservable } from './OpenTelemetryApi';

/** Bucket bounds of casty.ask.duration, in seconds: from 50 us (a local ask) to 30 s (a slow remote one). */
const ASK_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
  10, 30];

/** Where an ask went: to an actor of this node (including those this node serves for others) or to another node. */
export type AskKind = 'local' | 'remote';

export class TelemetryMetrics {
  private readonly node: OtelAttributes;
  private readonly askDuration: OtelHistogram;
  /** Attributes of ask measurements, made once: [kind][failed]. */
  private readonly askAttributes: Record<AskKind, readonly [OtelAttributes, OtelAttributes]>;
  private readonly observables: OtelObservable[];
  private readonly collect: (result: OtelBatchResult) => void;

  constructor(private readonly system: ClusteredActorSystem, private readonly meter: OtelMeter) {
    const node = this.node = { 'casty.node.id': system.nodeId };
    const attributes = (kind: AskKind): readonly [OtelAttributes, OtelAttributes] =>
      [{ ...node, 'casty.ask.kind': kind, 'casty.ask.outcome': 'ok' }, { ...node, 'casty.ask.kind': kind, 'casty.ask.outcome': 'error' }];
    this.askAttributes = { local: attributes('local'), remote: attributes('remote') };
    this.askDuration = meter.createHistogram('casty.ask.duration', { unit: 's',
      description: 'Time from an ask to its reply or failure, as the asker sees it (local: to an actor of this node, ' +
        'served ones included; remote: to another node)', advice: { explicitBucketBoundaries: ASK_BUCKETS } });
    const counter = (name: string, unit: string, description: string): OtelObservable =>
      meter.createObservableCounter(name, { unit, description });
    const gauge = (name: string, unit: string, description: string): OtelObservable =>
      meter.createObservableGauge(name, { unit, description });
    const instruments = {
      processed: counter('casty.messages.processed', '{message}', 'Messages processed by the actors of this node'),
      deadLetters: counter('casty.dead_letters', '{message}', 'Messages that could not be delivered, by reason'),
      asks: counter('casty.asks', '{ask}', 'Asks registered on this node (made here, or served for another node)'),
      askTimeouts: counter('casty.ask.timeouts', '{ask}', 'Asks registered on this node that timed out'),
      mailboxDepth: gauge('casty.mailbox.depth', '{message}', 'Messages waiting in the mailboxes of this node\'s actors'),
      mailboxDeepest: gauge('casty.mailbox.depth.max', '{message}', 'Messages waiting in the fullest mailbox of this node'),
      framesSent: counter('casty.transport.frames.sent', '{frame}', 'Frames sent to other nodes'),
      framesReceived: counter('casty.transport.frames.received', '{frame}', 'Frames received from other nodes'),
      bytesSent: counter('casty.transport.bytes.sent', 'By', 'Bytes written to other nodes, headers and handshakes included'),
      bytesReceived: counter('casty.transport.bytes.received', 'By', 'Bytes read from other nodes, headers and handshakes included'),
      members: gauge('casty.cluster.members', '{member}', 'Members by state, as this node sees them'),
      suspicions: counter('casty.cluster.suspicions', '{event}', 'Times this node saw a member become suspect'),
      shards: gauge('casty.sharding.shards', '{shard}', 'Shards of each sharded type this node holds'),
      entities: gauge('casty.sharding.entities', '{entity}', 'Active entities on this node, by sharded type'),
      handOffs: counter('casty.sharding.hand_offs', '{shard}', 'Shards this node handed over or took over'),
    };
    this.observables = Object.values(instruments);
    this.collect = (result) => this.observe(result, instruments);
    meter.addBatchObservableCallback(this.collect, this.observables);
  }

  /** Records one settled ask that took `seconds`. */
  askSettled(kind: AskKind, failed: boolean, seconds: number): void {
    this.askDuration.record(seconds, this.askAttributes[kind][failed ? 1 : 0]);
  }

  /** Stops observing (the node shut down). */
  close(): void {
    this.meter.removeBatchObservableCallback(this.collect, this.observables);
  }

  private observe(result: OtelBatchResult, i: Record<string, OtelObservable>): void {
    const node = this.node;
    const stats = Monitoring.of(this.system)?.snapshot();
    if (stats === undefined) return; // a node composed without monitoring (by hand): nothing to read
    result.observe(i.processed!, stats.messagesProcessed, node);
    result.observe(i.asks!, stats.asksStarted, node);
    result.observe(i.askTimeouts!, stats.asksTimedOut, node);
    for (const [reason, count] of Object.entries(stats.deadLetters)) {
      result.observe(i.deadLetters!, count, { ...node, 'casty.dead_letter.reason': reason });
    }
    const depths = mailboxDepths(this.system);
    result.observe(i.mailboxDepth!, depths.queued, node);
    result.observe(i.mailboxDeepest!, depths.deepest, node);
    if (stats.traffic !== undefined) {
      result.observe(i.framesSent!, stats.traffic.framesSent, node);
      result.observe(i.framesReceived!, stats.traffic.framesReceived, node);
      result.observe(i.bytesSent!, stats.traffic.bytesWritten, node);
      result.observe(i.bytesReceived!, stats.traffic.bytesRead, node);
    }
    const members = ClusterMembership.of(this.system).swim.members();
    for (const state of Object.values(MemberState)) {
      result.observe(i.members!, members.filter((m) => m.state === state).length, { ...node, 'casty.member.state': state });
    }
    result.observe(i.suspicions!, stats.membershipEvents.suspect ?? 0, node);
    // Sharding when installed; replication lag joins these when replication lands.
    if (stats.sharding !== undefined) {
      result.observe(i.handOffs!, stats.sharding.handOffs, node);
      for (const type of stats.sharding.types) {
        const attributes = { ...node, 'casty.sharding.type': type.typeName };
        result.observe(i.shards!, type.shardsHeld, attributes);
        result.observe(i.entities!, type.activeEntities, attributes);
      }
    }
  }
}
