// Runs every example as a user would (tsx, importing the built `casty` package) and checks what it prints.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const examples = join(root, 'examples');

function run(name: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(examples, `${name}.ts`)], {
      cwd: examples,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(examples, 'tsconfig.json') },
      timeout: 60_000,
    }, (error, stdout, stderr) => resolve({ code: error ? (error.code as number | null) ?? 1 : 0, stdout, stderr }));
  });
}

/** What example `name` printed, line by line; it fails with its output when the example exits with an error. */
async function lines(name: string): Promise<string[]> {
  const result = await run(name);
  if (result.code !== 0) throw new Error(`${name} exited with ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result.stdout.trim().split('\n');
}

const expected: Record<string, string[]> = {
  quickstart: ['Hello, Alice!', 'Hello, Bob!', 'Total greetings: 2'],
  'message-patterns': ['2 + 3 = 5', '4 * 5 = 20', 'done: 123, 124', 'timed out: /user/forgetful GetStatus'],
  lifecycle: ['Connection established', 'rows for select 1', 'Temporary error, continuing: timeout running select flaky',
    'ask rejected: timeout running select flaky', 'rows for select 2', 'Connection closed'],
  'state-machine': ['Ignored (inactive): ignored', 'Activating...', 'Processing: hello', 'Processing: world',
    'Deactivating...', 'Ignored (inactive): ignored'],
  'combining-refs': ['LOG: Hello', 'METRIC: cpu=0.75'],
  hierarchies: ['children: 3', 'found /user/supervisor/worker-1', 'cached: value', 'worker stopped', 'worker stopped',
    'worker stopped', 'supervisor stopped (after its children)'],
  supervision: ['Failed after 2 tasks: task 3 failed', 'Restarted with fresh state', 'processed since restart: 1',
    'member-0 restarted', 'member-1 restarted', 'member-2 restarted',
    // three restarts allowed within 60 s: the first crash above, then tasks 100 and 101; task 102 stops it
    'Failed after 1 tasks: task 100 failed', 'Restarted with fresh state',
    'Failed after 0 tasks: task 101 failed', 'Restarted with fresh state', 'worker stopped: restart-limit'],
  'two-nodes': ['node-2 sees: node-1, node-2', 'found greeter on node-1', 'Hello, Alice! (from /user/greeter on node-1)',
    'News on node-2: node-1 says hi'],
};

describe('examples (seed 000, Quick Start to Supervision)', () => {
  test.each(Object.keys(expected))('%s runs and prints what the seed shows', async (name) => {
    const result = await run(name);
    const lines = result.stdout.trim().split('\n');
    if (result.code !== 0) throw new Error(`${name} exited with ${result.code}\n${result.stderr}`);
    expect(lines).toEqual(expected[name]);
  }, 60_000);
});

describe('sharding examples (seed 000 "Chat Room Server" and "Distributed Counter", three nodes in one process)', () => {
  const node = 'node-[123]';
  test('sharding/chat-room: one room answers from every node, each room lives on one node', async () => {
    const rooms = [['random', 'dave'], ['help', 'erin'], ['games', 'frank'], ['music', 'grace']];
    const expected = [
      /^three nodes up: node-1, node-2, node-3$/, /^Members: alice, bob$/, /^asked from node-1: alice, bob$/,
      /^asked from node-3: alice, bob$/, new RegExp(`^#general lives on ${node}; history: alice: Hello everyone!$`),
      ...rooms.map(([room, user]) => new RegExp(`^#${room} lives on ${node}; history: ${user}: hi from ${user}$`)),
    ];
    const printed = await lines('sharding/chat-room');
    expect(printed).toHaveLength(expected.length);
    printed.forEach((line, i) => expect(line).toMatch(expected[i]!));
  }, 60_000);

  test('sharding/singleton: one scheduler for the cluster, on the oldest node; a graceful leave moves it with its jobs', async () => {
    const printed = await lines('sharding/singleton');
    expect(printed).toEqual([
      'the scheduler runs on node-1, with 3 jobs: report-1, report-2, report-3',
      'node-1 left; the scheduler now runs on node-2, with 3 jobs: report-1, report-2, report-3',
      'another job from the last node: 4 jobs',
    ]);
  }, 60_000);

  test('sharding/distributed-counter: 100 hits from three nodes counted once; a leaving node\'s counters move with their counts', async () => {
    const pages = (where: string) =>
      new RegExp(`^pages: ${['home', 'about', 'pricing', 'blog', 'docs', 'contact'].map((p, i) => `${p}=${10 * (i + 1)}@${where}`).join(' ')}$`);
    const printed = await lines('sharding/distributed-counter');
    expect(printed).toHaveLength(6);
    expect(printed[0]).toBe('Total hits: 100');
    expect(printed[1]).toMatch(new RegExp(`^hits lives on ${node}$`));
    expect(printed[2]).toMatch(pages(node));
    expect(printed[4]).toMatch(pages('node-[12]'));
    expect(printed[5]).toBe('Total hits: 100');
    // what moved is what node-3 held: its pages before (and hits, if it lived there)
    const onNode3 = [...printed[2]!.matchAll(/(\w+)=\d+@node-3/g)].map((m) => m[1]);
    if (printed[1] === 'hits lives on node-3') onNode3.push('hits');
    expect(printed[3]).toBe(`node-3 left; its counters moved: ${onNode3.join(', ')}`);
  }, 60_000);
});

describe('the main demo', () => {
  test('cluster-demo runs a real three-process cluster with sharded accounts and the dashboard, fails an ask fast on SIGKILL, every account answers again, and heals', async () => {
    const result = await run('cluster-demo');
    if (result.code !== 0) throw new Error(`cluster-demo exited with ${result.code}\n${result.stdout}\n${result.stderr}`);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^three nodes up on ports \d+, \d+, \d+$/);
    // the dashboard's line; the rest keep their places
    expect(lines.splice(1, 1)[0]).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/ \(members, events, rates; \/metrics for Prometheus\)$/);
    expect(lines.slice(1, 5)).toEqual([
      'client sees: client, node-1, node-2, node-3',
      'counter on node-1: 100', 'counter on node-2: 100', 'counter on node-3: 100',
    ]);
    expect(lines[5]).toMatch(/^12 accounts, each on one node: (client: \d+, )?node-1: \d+, node-2: \d+, node-3: \d+$/);
    expect(lines[7]).toMatch(/^ask failed fast with NodeUnavailableError after \d+ ms \(timeout was 30 s\)$/);
    expect(lines[8]).toMatch(/^SWIM declared node-3 down after \d+ ms; members: client, node-1, node-2; counter-node-3 found: false$/);
    expect(lines[9]).toMatch(/^all 12 accounts answer again: (client: \d+, )?node-1: \d+, node-2: \d+; the \d+ that were on node-3 started empty elsewhere: true \(no replication yet\)$/);
    expect(lines[10]).toMatch(/^node-3 rejoined with incarnation [1-9]\d*$/);
    expect(lines[11]).toBe('node-3 restarted on the same port; the old ref reaches its new counter (node-3: 0)');
  }, 60_000);
});

describe('replication examples (seed 000 "State Replication": Account with factor 3, syncCount 1)', () => {
  const node = 'node-[123]';
  test('replication/account: deposits and withdrawals from every node; a leaving node\'s account keeps its balance, not its _cache', async () => {
    const printed = await lines('replication/account');
    const backups = `${node} and ${node}`;
    const expected = [
      /^three nodes up: node-1, node-2, node-3$/,
      /^alice: deposit 100 from node-1 \(100\), withdraw 30 from node-2 \(70\), deposit 5 from node-3 \(75\)$/,
      /^erin: deposit 50 from node-1 \(50\), deposit 25 from node-2 \(75\), withdraw 10 from node-3 \(65\)$/,
      /^peggy: deposit 75 from node-1 \(75\), withdraw 75 from node-2 \(0\), deposit 20 from node-3 \(20\)$/,
      ...[['alice', 75], ['erin', 65], ['peggy', 20]].map(([id, balance]) =>
        new RegExp(`^${id}: balance ${balance}, lives on (${node}) \\(the ring says \\1\\), backed up on ${backups}$`)),
      /^each node keeps the state of all 3 accounts: its own and those it backs up \(factor 3 on 3 nodes\)$/,
      new RegExp(`^(${node}) left; alice now lives on ${node}: balance 75, deposits and withdrawals in its _cache: 0 \\(not replicated\\)$`),
    ];
    expect(printed).toHaveLength(expected.length);
    printed.forEach((line, i) => expect(line).toMatch(expected[i]!));
    // the backups are the two other nodes; the node that left is the one alice lived on, and she moved off it
    for (const line of printed.slice(4, 7)) {
      const [, home, b1, b2] = /lives on (\S+) .* backed up on (\S+) and (\S+)$/.exec(line)!;
      expect(new Set([home, b1, b2]).size).toBe(3);
    }
    const [, aliceHome] = /^alice: .* lives on (\S+) /.exec(printed[4]!)!;
    const [, left, movedTo] = /^(\S+) left; alice now lives on (\S+):/.exec(printed[8]!)!;
    expect(left).toBe(aliceHome);
    expect(movedTo).not.toBe(left);
  }, 60_000);

  test('replication/failover: four processes, SIGKILL of the node holding the most accounts; every acknowledged deposit survives', async () => {
    const printed = await lines('replication/failover');
    const ids = Array.from({ length: 12 }, (_, i) => `acct-${i + 1}`);
    const node4 = 'node-[1-4]';
    expect(printed).toHaveLength(2 + 12 + 2 + 12 + 1);
    expect(printed[0]).toBe('four nodes up, each its own process: node-1, node-2, node-3, node-4');
    expect(printed[1]).toBe('36 deposits into 12 accounts from all four nodes, each acknowledged (syncCount 1: a backup held it)');
    const readings = (from: number, label: string) => ids.map((id, i) => {
      const match = new RegExp(`^${label}: ${id} = (\\d+) on (${node4})$`).exec(printed[from + i]!);
      expect(match).not.toBeNull();
      return { balance: Number(match![1]), node: match![2]! };
    });
    const before = readings(2, 'before');
    // three deposits of 10 * (i + 1) + round, rounds 1 to 3
    expect(before.map((r) => r.balance)).toEqual(ids.map((_, i) => 30 * (i + 1) + 6));
    const killed = new RegExp(`^SIGKILL (${node4}) \\(it held (\\d+) of 12 accounts\\); (${node4}), (${node4}), (${node4}) declared it down after \\d+ ms$`)
      .exec(printed[14]!);
    expect(killed).not.toBeNull();
    const victim = killed![1]!;
    const held = before.filter((r) => r.node === victim).length;
    expect(Number(killed![2])).toBe(held);
    // the victim held the most accounts
    for (const other of ['node-1', 'node-2', 'node-3', 'node-4']) expect(before.filter((r) => r.node === other).length).toBeLessThanOrEqual(held);
    expect(printed[15]).toMatch(new RegExp(`^every account answered again through ${node4} \\d+ ms later$`));
    const after = readings(16, 'after');
    expect(after.map((r) => r.balance)).toEqual(before.map((r) => r.balance));
    expect(after.filter((r) => r.node === victim)).toEqual([]);
    expect(printed[28]).toBe(`every acknowledged deposit survived: 36 deposits, 12 balances the same, ${held} of them restored from replicas`);
  }, 60_000);
});
