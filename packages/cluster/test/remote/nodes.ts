// Starting clustered systems for in-process tests, over the in-memory network or real TCP on 127.0.0.1
// port 0, and shutting them all down after each test.

import { ClusterConfig, ClusteredActorSystem, TcpTransport } from '@casty/cluster';
import type { ClusterConfigOptions, NodeAddress, Transport } from '@casty/cluster';
import { CapturingLogger, InMemoryNetwork, waitUntil } from '@casty/cluster/testing';

export type TransportKind = 'in-memory' | 'tcp';

export interface TestNode {
  readonly system: ClusteredActorSystem;
  readonly transport: Transport;
  readonly logger: CapturingLogger;
}

export interface NodeOptions {
  readonly seeds?: readonly NodeAddress[];
  /** Reuse a port (a node restarting in place). */
  readonly port?: number;
  readonly config?: ClusterConfigOptions;
}

/** Starts nodes of one kind of transport; `shutdown()` stops every node it started. */
export class TestNodes {
  readonly network = new InMemoryNetwork({ logger: new CapturingLogger() });
  private readonly started: TestNode[] = [];

  constructor(readonly kind: TransportKind) {}

  async start(nodeId: string, options: NodeOptions = {}): Promise<TestNode> {
    const logger = new CapturingLogger();
    const config = ClusterConfig.development({ logger, ...options.config });
    const transport = this.kind === 'tcp'
      ? new TcpTransport(config.transportConfig({ nodeId, port: options.port ?? 0 }))
      : this.network.createTransport({ nodeId, logger, maxFrameBytes: config.maxFrameBytes,
        ...(options.port === undefined ? {} : { port: options.port }) });
    const system = await ClusteredActorSystem.start(transport, { config, seeds: options.seeds, name: nodeId });
    const node = { system, transport, logger };
    this.started.push(node);
    return node;
  }

  /** Starts nodes `ids[0]`, then the others with the first as their seed, and waits until all see all. */
  async cluster<TIds extends [string, ...string[]]>(...ids: TIds): Promise<{ [K in keyof TIds]: TestNode }> {
    const first = await this.start(ids[0]);
    const rest = await Promise.all(ids.slice(1).map((id) => this.start(id, { seeds: [first.system.address] })));
    const nodes = [first, ...rest];
    await converged(nodes);
    return nodes as { [K in keyof TIds]: TestNode };
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.started.splice(0).map((n) => n.system.shutdown()));
  }
}

/** Waits until every node lists every other as a member. */
export async function converged(nodes: readonly TestNode[]): Promise<void> {
  await waitUntil(`all ${nodes.length} nodes see each other`,
    () => nodes.every((n) => n.system.members().length === nodes.length), 5_000,
    () => nodes.map((n) => ({ node: n.system.nodeId, members: n.system.members().map((m) => m.nodeId) })));
}
