// Seed 000 "State Replication": bank accounts as sharded entities on three nodes (in one process here), each
// account's state replicated to backup nodes with factor 3 and syncCount 1. After each message that changes an
// account, its state (`balance`; not `_cache`, whose name starts with `_`) goes to the next two nodes of its
// shard's preference list; a deposit's answer comes once one of them holds it. Deposits and withdrawals come
// from different nodes; then the node that holds alice leaves, and alice carries on elsewhere with her balance
// and an empty `_cache`. failover.ts kills a node instead (real processes), and imports the account from here.
import type { Context } from 'casty';
import { Actor, message, Request, Sharding } from 'casty';
import { waitUntil } from 'casty/testing';
import { LocalCluster } from '../sharding/cluster';

// Deposit and Withdraw answer with the new balance: with syncCount 1 that answer comes once a backup holds it
@message('example.replication.Deposit') export class Deposit extends Request<number> { constructor(readonly amount: number) { super(); } }
@message('example.replication.Withdraw') export class Withdraw extends Request<number> { constructor(readonly amount: number) { super(); } }
@message('example.replication.GetBalance') export class GetBalance extends Request<number> {}
/** Where the account runs now (its node's name) and how many deposits and withdrawals this instance has seen. */
@message('example.replication.Where') export class Where extends Request<{ node: string; seenHere: number }> {}
export type AccountMsg = Deposit | Withdraw | GetBalance | Where;

export class Account extends Actor<AccountMsg> {
  balance = 0;                              // replicated: an own field whose name does not start with `_`
  _cache = new Map<string, number>();       // NOT replicated (starts with `_`): what this instance has seen

  constructor(readonly entityId: string) { super(); }   // the id, given again on every node: never replicated

  receive(msg: AccountMsg, ctx: Context<AccountMsg>): void {
    if (msg instanceof Deposit) {
      this.balance += msg.amount;
      this.seen('deposits');
      ctx.reply(this.balance);
    } else if (msg instanceof Withdraw) {
      this.balance -= msg.amount;
      this.seen('withdrawals');
      ctx.reply(this.balance);
    } else if (msg instanceof GetBalance) {
      ctx.reply(this.balance);
    } else {
      ctx.reply({ node: ctx.system.name, seenHere: [...this._cache.values()].reduce((a, b) => a + b, 0) });
    }
  }

  private seen(kind: string): void {
    this._cache.set(kind, (this._cache.get(kind) ?? 0) + 1);
  }
}

/** The same options on every node: a type's replication must be the same wherever it is registered. */
export const replicated = { name: 'accounts', sharded: true, replication: { factor: 3, syncCount: 1 } } as const;

if (process.argv[1]?.endsWith('account.ts')) {
  await using cluster = await LocalCluster.start(['node-1', 'node-2', 'node-3']);
  const accounts = await Promise.all(cluster.nodes.map((n) => n.spawn(Account, replicated)));
  console.log(`three nodes up: ${cluster.nodes.map((n) => n.nodeId).join(', ')}`);

  // each account's operations come from the three nodes in turn, each acknowledged: its answer (the new balance)
  // comes once a backup holds that balance (syncCount 1)
  const ids = ['alice', 'erin', 'peggy'];
  const operations: Record<string, (Deposit | Withdraw)[]> = {
    alice: [new Deposit(100), new Withdraw(30), new Deposit(5)],
    erin: [new Deposit(50), new Deposit(25), new Withdraw(10)],
    peggy: [new Deposit(75), new Withdraw(75), new Deposit(20)],
  };
  for (const id of ids) {
    const done: string[] = [];
    for (const [i, op] of operations[id]!.entries()) {
      const balance = await accounts[i]!.entity(id).ask(op);
      done.push(`${op instanceof Deposit ? 'deposit' : 'withdraw'} ${op.amount} from ${cluster.nodes[i]!.nodeId} (${balance})`);
    }
    console.log(`${id}: ${done.join(', ')}`);
  }

  const sharding = Sharding.of(cluster.nodes[0]!);
  for (const id of ids) {
    const [home, ...backups] = sharding.currentRing.preferenceList(sharding.shardOf(id), 3);
    const balance = await accounts[0]!.entity(id).ask(new GetBalance());
    const { node } = await accounts[0]!.entity(id).ask(new Where());
    console.log(`${id}: balance ${balance}, lives on ${node} (the ring says ${home}), backed up on ${backups.join(' and ')}`);
  }
  // syncCount 1 waits for one backup; the second one gets the state soon after
  const kept = (n: (typeof cluster.nodes)[number]) => Sharding.of(n).stats().types.find((t) => t.typeName === 'accounts')!.replicaEntities;
  await waitUntil('every node keeps every account\'s state', () => cluster.nodes.every((n) => kept(n) === ids.length), 10_000);
  console.log(`each node keeps the state of all ${ids.length} accounts: its own and those it backs up (factor 3 on 3 nodes)`);

  // alice's node leaves: alice starts again on another node from her state, balance kept, _cache empty
  const aliceHome = (await accounts[0]!.entity('alice').ask(new Where())).node;
  const leaving = cluster.nodes.find((n) => n.nodeId === aliceHome)!;
  const staying = accounts[cluster.nodes.indexOf(leaving) === 0 ? 1 : 0]!;
  await cluster.leave(leaving);
  const { node, seenHere } = await staying.entity('alice').ask(new Where());
  console.log(`${aliceHome} left; alice now lives on ${node}: balance ${await staying.entity('alice').ask(new GetBalance())}, ` +
    `deposits and withdrawals in its _cache: ${seenHere} (not replicated)`);
}
