// The whole cluster as one node's management endpoint shows it: every member this node knows (dead and left
// ones too, while remembered) with the figures each live member reports about itself (GetNodeStats to its
// /system/casty-monitoring, over the ordinary remote messaging). One collection runs at a time and its result
// serves every request for `maxAgeMs`, so many open dashboards cost the cluster no more than one.

import type { ActorRef } from '@casty/core';
import { ClusterMembership, formatAddress, isLive, RemoteMessaging } from '@casty/cluster';
import type { ClusteredActorSystem } from '@casty/cluster';
import { GetNodeStats, Monitoring } from './Monitoring';
import type { NodeStats } from './NodeStats';

/** One member and, when it answered, its figures. */
export interface NodeView {
  readonly nodeId: string;
  readonly address: string;
  readonly state: string;
  readonly incarnation: number;
  readonly self: boolean;
  readonly stats?: NodeStats;
  /** Why `stats` is missing (a live member that did not answer in time, or a node without monitoring). */
  readonly error?: string;
}

export interface ClusterViewOptions {
  /** How long a member has to answer, in milliseconds. */
  readonly timeoutMs: number;
  /** How long a collection is served before the next one, in milliseconds. */
  readonly maxAgeMs: number;
}

export class ClusterView {
  private last: { readonly at: number; readonly nodes: NodeView[] } | undefined;
  private running: Promise<NodeView[]> | undefined;

  constructor(private readonly system: ClusteredActorSystem, private readonly monitoring: Monitoring,
    private readonly options: ClusterViewOptions) {}

  /** Every member, ordered by node id, with the figures of those that answered. */
  nodes(): Promise<NodeView[]> {
    const now = this.system.clock.now();
    if (this.last !== undefined && now - this.last.at < this.options.maxAgeMs) return Promise.resolve(this.last.nodes);
    this.running ??= this.collect().finally(() => (this.running = undefined));
    return this.running;
  }

  private async collect(): Promise<NodeView[]> {
    const startedAt = this.system.clock.now();
    const remote = RemoteMessaging.of(this.system);
    const members = ClusterMembership.of(this.system).swim.members()
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const nodes = await Promise.all(members.map(async (m): Promise<NodeView> => {
      const base = { nodeId: m.id, address: formatAddress(m.address), state: m.state, incarnation: m.incarnation,
        self: m.id === this.system.nodeId };
      if (base.self) return { ...base, stats: this.monitoring.snapshot() };
      if (!isLive(m)) return base;
      const ref = remote.remoteRef(m.id, m.address, Monitoring.path) as ActorRef<GetNodeStats>;
      try {
        return { ...base, stats: await ref.ask(new GetNodeStats(), { timeout: this.options.timeoutMs }) };
      } catch (error) {
        return { ...base, error: error instanceof Error ? error.message : String(error) };
      }
    }));
    this.last = { at: startedAt, nodes };
    return nodes;
  }
}
