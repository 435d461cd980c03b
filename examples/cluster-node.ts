// One node of the cluster demo, in its own process: `node --import tsx cluster-node.ts <nodeId> <port> [seed]`.
// It hosts a named Counter (`counter-<nodeId>`) and the sharded type 'accounts', prints `READY <port>` once it
// listens, and leaves the cluster when its stdin closes, so it never outlives the demo that started it.
import type { Context } from 'casty';
import { Actor, clustered, ClusterConfig, ClusterMembership, message, Request } from 'casty';

@message('demo.Increment') export class Increment { constructor(readonly by: number) {} }
@message('demo.GetCount') export class GetCount extends Request<{ node: string; count: number }> {}

@message('demo.Deposit') export class Deposit extends Request<{ node: string; balance: number }> { constructor(readonly amount: number) { super(); } }

/** A sharded entity: one per account id, created on demand on the node the ring picks, reached from every node. */
export class Account extends Actor<Deposit> {
  balance = 0;
  constructor(readonly entityId: string) { super(); }
  receive(msg: Deposit, ctx: Context<Deposit>): void {
    this.balance += msg.amount;
    ctx.reply({ node: ClusterMembership.of(ctx.system).nodeId, balance: this.balance });
  }
}

export class Counter extends Actor<Increment | GetCount> {
  count = 0;
  constructor(readonly node: string) { super(); }
  receive(msg: Increment | GetCount, ctx: Context<Increment | GetCount>): void {
    if (msg instanceof Increment) this.count += msg.by;
    else ctx.reply({ node: this.node, count: this.count });
  }
}

if (process.argv[1]?.endsWith('cluster-node.ts')) {
  const [nodeId = 'node', port = '0', seed] = process.argv.slice(2);
  const system = await clustered({
    host: '127.0.0.1', port: Number(port), nodeId, seeds: seed === undefined ? [] : [seed],
    config: ClusterConfig.development(),
  });
  await system.spawn(Counter, { name: `counter-${nodeId}`, args: [nodeId] });
  await system.spawn(Account, { name: 'accounts', sharded: true });
  console.log(`READY ${system.address.port}`);
  process.stdin.resume();
  process.stdin.on('end', () => void system.shutdown().then(() => process.exit(0)));
}
