// Seed 000 "State Replication", with a real crash: four cluster nodes, each its own process on 127.0.0.1 (this
// same file, started with a node id), register account.ts's Account with factor 3 and syncCount 1. This process
// is no member: it drives the nodes over their stdin, one JSON command a line, and reads their answers on stdout.
// It makes deposits into 12 accounts from every node, each acknowledged (its answer comes once a backup holds the
// new balance), reads every balance, then SIGKILLs the node holding the most accounts. Once the survivors have
// declared it down, its accounts start on them from their newest replicated state, and every balance is read again
// from a survivor: every acknowledged deposit is still there. Nothing sleeps: each step waits for a condition, with
// a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { clustered, ClusterConfig, MemberDown } from 'casty';
import { waitUntil } from 'casty/testing';
import { Account, Deposit, GetBalance, replicated, Where } from './account';

/** A command to a node: how many members it sees, a deposit into an account, or an account's balance and node. */
type Command = { op: 'members' } | { op: 'deposit'; account: string; amount: number } | { op: 'read'; account: string };
interface Reading { balance: number; node: string }

/** One node, in this process when it was started with a node id: `failover.ts <nodeId> <port> [seed]`. */
async function runNode(nodeId: string, port: number, seed: string | undefined): Promise<void> {
  const system = await clustered({ host: '127.0.0.1', port, nodeId, name: nodeId, seeds: seed === undefined ? [] : [seed],
    config: ClusterConfig.development() });
  const accounts = await system.spawn(Account, replicated);
  system.events.subscribe(MemberDown, (e) => console.log(`DOWN ${e.member.nodeId}`));
  const run = async (cmd: Command): Promise<number | Reading> => {
    if (cmd.op === 'members') return system.members().length;
    const account = accounts.entity(cmd.account);
    if (cmd.op === 'deposit') return account.ask(new Deposit(cmd.amount));
    return { balance: await account.ask(new GetBalance(), { timeout: 2_000 }), node: (await account.ask(new Where())).node };
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const { id, ...cmd } = JSON.parse(line) as Command & { id: number };
    run(cmd).then((result) => ({ id, result }), (error: unknown) => ({ id, error: String(error) }))
      .then((reply) => console.log(`REPLY ${JSON.stringify(reply)}`), () => {});
  });
  lines.on('close', () => void system.shutdown().then(() => process.exit(0)));  // never outlives the demo
  console.log(`READY ${system.address.port}`);
}

/** A node's process, seen from the demo: commands go to its stdin, answers and MemberDown events come on stdout. */
class NodeProcess {
  readonly sawDown = new Set<string>();
  private readonly pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  private nextId = 0;

  private constructor(readonly nodeId: string, private readonly child: ChildProcess, readonly port: Promise<number>) {}

  static start(nodeId: string, log: string[], seed?: string): NodeProcess {
    const here = dirname(fileURLToPath(import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), nodeId, '0', ...(seed ? [seed] : [])], {
      env: { ...process.env, TSX_TSCONFIG_PATH: join(here, '..', 'tsconfig.json') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (chunk: Buffer) => log.push(`${nodeId}: ${chunk.toString().trimEnd()}`));
    let ready: (port: number) => void = () => {};
    const port = new Promise<number>((resolve, reject) => {
      ready = resolve;
      child.on('exit', (code, signal) => reject(new Error(`${nodeId} exited (${code ?? signal}) before it was ready`)));
    });
    port.catch(() => {});  // a node killed later exits too: that is not an error
    const node = new NodeProcess(nodeId, child, port);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [kind, rest = ''] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
      if (kind === 'READY') ready(Number(rest));
      else if (kind === 'DOWN') node.sawDown.add(rest);
      else if (kind === 'REPLY') node.settle(JSON.parse(rest) as { id: number; result?: unknown; error?: string });
    });
    return node;
  }

  command<T>(cmd: Command): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: never) => void, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, ...cmd })}\n`);
    });
  }

  private settle({ id, result, error }: { id: number; result?: unknown; error?: string }): void {
    const waiter = this.pending.get(id);
    this.pending.delete(id);
    if (error === undefined) waiter?.resolve(result as never);
    else waiter?.reject(new Error(`${this.nodeId}: ${error}`));
  }

  kill(): void { this.child.kill('SIGKILL'); }
  stop(): void { this.child.stdin!.end(); }
}

async function runDemo(): Promise<void> {
  const log: string[] = [];
  const nodes: NodeProcess[] = [];
  try {
    nodes.push(NodeProcess.start('node-1', log));
    const seed = `127.0.0.1:${await nodes[0]!.port}`;
    for (const id of ['node-2', 'node-3', 'node-4']) nodes.push(NodeProcess.start(id, log, seed));
    await Promise.all(nodes.map((n) => n.port));
    await waitUntil('every node sees all four', async () =>
      (await Promise.all(nodes.map((n) => n.command<number>({ op: 'members' })))).every((m) => m === 4), 15_000);
    console.log(`four nodes up, each its own process: ${nodes.map((n) => n.nodeId).join(', ')}`);

    // three deposits into each account, each from another node, each acknowledged by its answer
    const ids = Array.from({ length: 12 }, (_, i) => `acct-${i + 1}`);
    let acknowledged = 0;
    for (let round = 1; round <= 3; round++) {
      await Promise.all(ids.map(async (id, i) => {
        await nodes[(i + round) % nodes.length]!.command<number>({ op: 'deposit', account: id, amount: 10 * (i + 1) + round });
        acknowledged++;
      }));
    }
    console.log(`${acknowledged} deposits into ${ids.length} accounts from all four nodes, each acknowledged (syncCount 1: a backup held it)`);
    const read = (from: NodeProcess) => Promise.all(ids.map((id) => from.command<Reading>({ op: 'read', account: id })));
    const before = await read(nodes[0]!);
    for (const [i, id] of ids.entries()) console.log(`before: ${id} = ${before[i]!.balance} on ${before[i]!.node}`);

    // SIGKILL the node holding the most accounts (no goodbye, no hand-off)
    const held = (nodeId: string) => before.filter((r) => r.node === nodeId).length;
    const victim = [...nodes].sort((a, b) => held(b.nodeId) - held(a.nodeId) || a.nodeId.localeCompare(b.nodeId))[0]!;
    const survivors = nodes.filter((n) => n !== victim);
    const killedAt = performance.now();
    victim.kill();
    await waitUntil(`the survivors declare ${victim.nodeId} down`, () => survivors.every((n) => n.sawDown.has(victim.nodeId)), 30_000);
    const downAt = performance.now();
    console.log(`SIGKILL ${victim.nodeId} (it held ${held(victim.nodeId)} of ${ids.length} accounts); ` +
      `${survivors.map((n) => n.nodeId).join(', ')} declared it down after ${Math.round(downAt - killedAt)} ms`);

    // every account answers again from a survivor: those of the killed node from their newest replicated state
    let after: Reading[] = [];
    await waitUntil('every account answers from a survivor', async () => {
      after = await read(survivors[0]!).catch(() => []);
      return after.length === ids.length && after.every((r) => r.node !== victim.nodeId);
    }, 15_000);
    console.log(`every account answered again through ${survivors[0]!.nodeId} ${Math.round(performance.now() - downAt)} ms later`);
    for (const [i, id] of ids.entries()) console.log(`after: ${id} = ${after[i]!.balance} on ${after[i]!.node}`);
    const lost = ids.filter((_, i) => after[i]!.balance !== before[i]!.balance);
    if (lost.length > 0) throw new Error(`balances changed: ${lost.join(', ')}`);
    console.log(`every acknowledged deposit survived: ${acknowledged} deposits, ${ids.length} balances the same, ` +
      `${held(victim.nodeId)} of them restored from replicas`);
  } catch (error) {
    console.error(`failover failed: ${String(error)}\nwhat the nodes logged:\n${log.join('\n')}`);
    process.exitCode = 1;
  } finally {
    for (const node of nodes) node.stop();
  }
}

const [nodeId, port = '0', seed] = process.argv.slice(2);
if (nodeId === undefined) await runDemo();
else await runNode(nodeId, Number(port), seed);
