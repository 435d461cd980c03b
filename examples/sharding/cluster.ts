// The setup the sharding examples share: a few cluster nodes in this one process, each on a port the OS picks,
// the others joining through the first (its address is their seed), development preset. In production each node
// is its own process or machine running the same program; nothing else changes.
import type { ClusteredActorSystem } from 'casty';
import { clustered, ClusterConfig } from 'casty';
import { waitUntil } from 'casty/testing';

export class LocalCluster implements AsyncDisposable {
  private constructor(readonly nodes: ClusteredActorSystem[]) {}

  /** Starts a node per id (named by it, so entities can say where they run) and waits until each sees all. */
  static async start(ids: readonly string[]): Promise<LocalCluster> {
    const start = (nodeId: string, seeds: string[]) =>
      clustered({ nodeId, name: nodeId, port: 0, seeds, config: ClusterConfig.development() });
    const first = await start(ids[0]!, []);
    const seed = `127.0.0.1:${first.address.port}`;
    const nodes = [first, ...await Promise.all(ids.slice(1).map((id) => start(id, [seed])))];
    await waitUntil('every node sees every node', () => nodes.every((n) => n.members().length === ids.length), 10_000);
    return new LocalCluster(nodes);
  }

  /** Shuts `node` down gracefully (it hands its entities over, with their state) and waits until the others see it gone. */
  async leave(node: ClusteredActorSystem): Promise<void> {
    this.nodes.splice(this.nodes.indexOf(node), 1);
    await node.shutdown();
    await waitUntil(`the others see ${node.nodeId} gone`, () => this.nodes.every((n) => n.members().length === this.nodes.length), 10_000);
  }

  /** Shuts the nodes down one after the other, last first: each hands its entities to those still up. */
  async [Symbol.asyncDispose](): Promise<void> {
    while (this.nodes.length > 0) await this.leave(this.nodes[this.nodes.length - 1]!);
  }
}
