// The main demo (`npm run demo`): a real three-process cluster on 127.0.0.1. This process joins it as a
// fourth node, finds each node's named counter with lookup(), sends and asks across processes, deposits into
// sharded accounts (created on demand on the node the ring picks), then SIGKILLs one node to show pending asks
// failing at once, SWIM declaring it down (its name gone) and every account answering again, and restarts it to
// show it rejoining and the cluster healing. This fourth node serves the management endpoint and its dashboard
// (the URL is printed): run from a terminal, the cluster stays up at the end until Enter is pressed, to look at it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clustered, ClusterConfig, Management, MemberDown, MemberUp, NodeUnavailableError, type ActorRef, type Logger } from 'casty';
import { waitUntil } from 'casty/testing';
import { Account, Deposit, GetCount, Increment } from './cluster-node';

const here = dirname(fileURLToPath(import.meta.url));
const children = new Map<string, ChildProcess>();
const logs: string[] = [];
// Connection-lost and redial warnings are expected here (we kill a node on purpose): keep them for a failure.
const keepLogs: Logger = {
  debug() {},
  warn: (message) => void logs.push(`client: ${message}`),
  error: (message) => void logs.push(`client: ${message}`),
};

function startNode(nodeId: string, port: number, seed?: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'cluster-node.ts'), nodeId, String(port), ...(seed ? [seed] : [])], {
    env: { ...process.env, TSX_TSCONFIG_PATH: join(here, 'tsconfig.json') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.set(nodeId, child);
  child.stderr!.on('data', (chunk: Buffer) => logs.push(`${nodeId}: ${chunk.toString().trimEnd()}`));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const ready = /READY (\d+)/.exec(chunk.toString());
      if (ready) resolve(Number(ready[1]));
    });
    child.on('exit', (code) => reject(new Error(`${nodeId} exited with ${code} before it was ready`)));
  });
}

try {
  const port1 = await startNode('node-1', 0);
  const seed = `127.0.0.1:${port1}`;
  const [port2, port3] = await Promise.all([startNode('node-2', 0, seed), startNode('node-3', 0, seed)]);
  console.log(`three nodes up on ports ${port1}, ${port2}, ${port3}`);

  await using client = await clustered({ nodeId: 'client', port: 0, seeds: [seed], config: ClusterConfig.development({ logger: keepLogs }),
    management: { port: 0 } });   // 127.0.0.1, a free port
  console.log(`dashboard: ${Management.of(client).url}/ (members, events, rates; /metrics for Prometheus)`);
  await waitUntil('the client sees all three nodes', () => client.members().length === 4, 10_000);
  console.log(`client sees: ${client.members().map((m) => m.nodeId).sort().join(', ')}`);

  const counters: ActorRef<Increment | GetCount>[] = [];
  for (const node of ['node-1', 'node-2', 'node-3']) {
    // a name is found by asking the members; one that answers late (a loaded machine) is asked again
    let ref: ActorRef<Increment | GetCount> | undefined;
    await waitUntil(`counter-${node} is found`, async () => (ref = await client.lookup<Increment | GetCount>(`counter-${node}`)) !== undefined, 10_000);
    counters.push(ref!);
  }
  for (let i = 0; i < 300; i++) await counters[i % 3]!.send(new Increment(1));
  for (const counter of counters) {
    const { node, count } = await counter.ask(new GetCount());
    console.log(`counter on ${node}: ${count}`);
  }

  // Sharded entities: every node registers 'accounts'; each account lives on one node, whichever one asks.
  const accounts = await client.spawn(Account, { name: 'accounts', sharded: true });
  const ids = Array.from({ length: 12 }, (_, i) => `acct-${i}`);
  const home = new Map<string, string>();
  for (const id of ids) home.set(id, (await accounts.entity(id).ask(new Deposit(10))).node);
  const byNode = (where: Map<string, string>) => [...new Set(where.values())].sort()
    .map((n) => `${n}: ${[...where.values()].filter((h) => h === n).length}`).join(', ');
  console.log(`12 accounts, each on one node: ${byNode(home)}`);

  console.log('SIGKILL node-3 while an ask to it is pending...');
  const started = performance.now();
  const slowAsk = counters[2]!.ask(new GetCount(), { timeout: 30_000 });
  const down = client.events.next(MemberDown, (e) => e.member.nodeId === 'node-3');
  children.get('node-3')!.kill('SIGKILL');
  try {
    await slowAsk;
  } catch (error) {
    if (!(error instanceof NodeUnavailableError)) throw error;
    console.log(`ask failed fast with NodeUnavailableError after ${Math.round(performance.now() - started)} ms (timeout was 30 s)`);
  }
  await down;
  console.log(`SWIM declared node-3 down after ${Math.round(performance.now() - started)} ms; members: ` +
    `${client.members().map((m) => m.nodeId).join(', ')}; counter-node-3 found: ${(await client.lookup('counter-node-3')) !== undefined}`);
  const after = new Map<string, string>();
  let emptied = 0;
  for (const id of ids) {
    const { node, balance } = await accounts.entity(id).ask(new Deposit(1));
    after.set(id, node);
    if (home.get(id) === 'node-3' && balance === 1) emptied++;
  }
  const onDead = ids.filter((id) => home.get(id) === 'node-3').length;
  console.log(`all 12 accounts answer again: ${byNode(after)}; the ${onDead} that were on node-3 started empty ` +
    `elsewhere: ${emptied === onDead} (no replication yet)`);

  const up = client.events.next(MemberUp, (e) => e.member.nodeId === 'node-3');
  await startNode('node-3', port3, seed);
  const rejoined = await up;
  console.log(`node-3 rejoined with incarnation ${rejoined.member.incarnation}`);
  await waitUntil('node-3 reachable again', async () => {
    try { await counters[2]!.ask(new GetCount(), { timeout: 500 }); return true; } catch { return false; }
  }, 15_000);
  const { node, count } = await counters[2]!.ask(new GetCount());
  console.log(`node-3 restarted on the same port; the old ref reaches its new counter (${node}: ${count})`);
  if (process.stdin.isTTY) {
    console.log(`the cluster stays up: look at ${Management.of(client).url}/ and press Enter to stop it`);
    await once(process.stdin, 'data');
    process.stdin.pause();
  }
} catch (error) {
  console.error(`demo failed: ${String(error)}\nwhat the nodes logged:\n${logs.join('\n')}`);
  process.exitCode = 1;
} finally {
  for (const child of children.values()) child.stdin?.end();
}
