// The management endpoint over real HTTP, on a real three-node cluster (clustered() on 127.0.0.1 in this
// process, development preset): every path, the status codes of bad paths and methods, HEAD, /ready through
// shutdown and before the join, the token, members without monitoring, the bounds on what it keeps and asks,
// and the options refused at the call.

import { connect, createServer } from 'node:net';
import { Actor, ActorStopped, ClusterConfig, clustered, ClusteredActorSystem, DEFAULT_SHARD_COUNT, ExtensionNotFoundError, InvalidArgumentError,
  Management, ManagementBindError, MemberSuspect, message, silentLogger, TcpTransport } from 'casty';
import type { Context, NodeView } from 'casty';
import { runtimeStats } from '@casty/core/internal';
import { waitUntil } from '@casty/core/testing';
import { MAX_RECENT_EVENTS } from '../../src/management/Monitoring';
import { freePort, getJson, http } from './http';

@message('mgmt.Ping') class Ping {}
class Sink extends Actor<Ping> {
  override async receive(_msg: Ping, _ctx: Context<Ping>): Promise<void> {}
}
/** Stops itself at its first message. */
class Quitter extends Actor<Ping> {
  override async receive(_msg: Ping, ctx: Context<Ping>): Promise<void> {
    await ctx.stop();
  }
}

const config = () => ClusterConfig.development({ logger: silentLogger });

interface Members { self: string; members: { nodeId: string; address: string; state: string; incarnation: number; self: boolean }[] }

describe('on a three-node cluster', () => {
  let a: ClusteredActorSystem;
  let b: ClusteredActorSystem;
  let c: ClusteredActorSystem;
  let url: string;

  beforeAll(async () => {
    a = await clustered({ nodeId: 'a', config: config(), management: { port: 0 } });
    const seeds = [`127.0.0.1:${a.address.port}`];
    [b, c] = await Promise.all([clustered({ nodeId: 'b', seeds, config: config() }), clustered({ nodeId: 'c', seeds, config: config() })]);
    url = Management.of(a).url;
    await waitUntil('every node sees three members', () => [a, b, c].every((s) => s.members().length === 3), 15_000);
  });

  afterAll(async () => {
    await Promise.all([a, b, c].map((s) => s?.shutdown()));
  });

  test('the url names the loopback address and the port picked', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Management.of(a).port).toBeGreaterThan(0);
  });

  test('GET /alive and /ready answer 200 once joined', async () => {
    const alive = await http(`${url}/alive`);
    expect(alive.status).toBe(200);
    expect(JSON.parse(alive.body)).toEqual({ alive: true, nodeId: 'a' });
    const ready = await http(`${url}/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, nodeId: 'a' });
  });

  test('GET /cluster/members: id, address, state and incarnation of each member, as this node sees them', async () => {
    const body = await getJson<Members>(`${url}/cluster/members`);
    expect(body.self).toBe('a');
    expect(body.members.map((m) => [m.nodeId, m.state, m.self])).toEqual([['a', 'alive', true], ['b', 'alive', false], ['c', 'alive', false]]);
    expect(body.members.find((m) => m.nodeId === 'b')!.address).toBe(`127.0.0.1:${b.address.port}`);
    for (const m of body.members) expect(Number.isInteger(m.incarnation)).toBe(true);
  });

  test('GET /cluster/events: the recent membership events in order, and only those after ?after=', async () => {
    const { events } = await getJson<{ events: { seq: number; type: string; nodeId: string; at: number }[] }>(`${url}/cluster/events`);
    expect(events.filter((e) => e.type === 'up').map((e) => e.nodeId).sort()).toEqual(['a', 'b', 'c']);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((x, y) => x - y));
    const last = events[events.length - 1]!.seq;
    const later = await getJson<{ events: unknown[] }>(`${url}/cluster/events?after=${last - 1}`);
    expect(later.events).toHaveLength(1);
    expect((await http(`${url}/cluster/events?after=x`)).status).toBe(400);
  });

  test('GET /cluster/nodes: every member with the figures it reports about itself', async () => {
    await b.spawn(Sink, { name: 'sink' });
    const sink = await a.lookup<Ping>('sink');
    const before = await getJson<{ nodes: NodeView[] }>(`${url}/cluster/nodes`);
    for (let i = 0; i < 50; i++) await sink!.send(new Ping());
    let nodes: NodeView[] = [];
    await waitUntil('b reports the 50 messages its sink processed', async () => {
      nodes = (await getJson<{ nodes: NodeView[] }>(`${url}/cluster/nodes`)).nodes;
      const was = before.nodes.find((n) => n.nodeId === 'b')!.stats!.messagesProcessed;
      return nodes.find((n) => n.nodeId === 'b')!.stats!.messagesProcessed - was >= 50;
    }, 10_000, () => nodes);
    expect(nodes.map((n) => n.nodeId)).toEqual(['a', 'b', 'c']);
    for (const n of nodes) {
      expect(n.stats?.nodeId).toBe(n.nodeId);
      expect(n.stats?.traffic?.framesReceived).toBeGreaterThan(0);
      expect(n.stats?.sharding).toEqual({ types: [], shardsOwned: expect.any(Number), handOffs: 0 });
    }
    // every shard is owned by exactly one of the three
    expect(nodes.reduce((s, n) => s + n.stats!.sharding!.shardsOwned, 0)).toBe(DEFAULT_SHARD_COUNT);
  });

  test('many requests at once share one collection: each member is asked once, not once per request', async () => {
    await http(`${url}/cluster/nodes`);
    const before = runtimeStats(b).messagesProcessed;
    const replies = await Promise.all(Array.from({ length: 20 }, () => getJson<{ nodes: NodeView[] }>(`${url}/cluster/nodes`)));
    for (const reply of replies) expect(reply.nodes.filter((n) => n.stats !== undefined)).toHaveLength(3);
    // b processed at most the GetNodeStats of the one collection (or two, had the first grown old meanwhile)
    expect(runtimeStats(b).messagesProcessed - before).toBeLessThanOrEqual(2);
  });

  test('GET /metrics: the Prometheus text format, strictly', async () => {
    const reply = await http(`${url}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parseExposition(reply.body);
    expect(families.get('casty_members')!.samples).toEqual(expect.arrayContaining(['casty_members{node="a",state="alive"} 3',
      'casty_members{node="a",state="dead"} 0']));
    expect(families.get('casty_ready')!.samples).toEqual(['casty_ready{node="a"} 1']);
    for (const name of ['casty_messages_processed_total', 'casty_asks_total', 'casty_dead_letters_total', 'casty_transport_bytes_read_total',
      'casty_membership_events_total', 'casty_sharding_shards_owned', 'casty_asks_pending']) {
      expect(families.has(name)).toBe(true);
    }
    expect(families.get('casty_membership_events_total')!.samples).toContain('casty_membership_events_total{node="a",type="up"} 3');
  });

  test('dead letters are counted by reason', async () => {
    const gone = await a.spawn(Quitter);
    const stopped = a.events.next(ActorStopped, (e) => e.ref.path === gone.path);
    await gone.send(new Ping());
    await stopped;
    const metric = async () => Number(/casty_dead_letters_total\{node="a",reason="stopped"\} (\d+)/.exec((await http(`${url}/metrics`)).body)![1]);
    const before = await metric();
    await gone.send(new Ping());
    await gone.send(new Ping());
    expect(await metric()).toBe(before + 2);
  });

  test('a path it does not serve is 404, a method other than GET or HEAD is 405 with Allow', async () => {
    const missing = await http(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error).toMatch(/no such path: \/nope; the paths are \/, \/alive/);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const reply = await http(`${url}/cluster/members`, { method });
      expect(reply.status).toBe(405);
      expect(reply.headers.allow).toBe('GET, HEAD');
    }
  });

  test('a request target no URL parser takes is 400, and the node goes on', async () => {
    const socket = connect(Management.of(a).port, '127.0.0.1');
    socket.write('GET http://[x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    await new Promise((resolve) => socket.on('close', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 400 [^]*malformed request target/);
    expect((await http(`${url}/alive`)).status).toBe(200);
  });

  test('HEAD answers the headers of GET without a body', async () => {
    const get = await http(`${url}/alive`);
    const head = await http(`${url}/alive`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
  });

  test('GET / is the self-contained dashboard: HTML that loads nothing from elsewhere', async () => {
    const page = await http(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'.*connect-src 'self'/);
    expect(page.body).toContain('<title>Casty cluster</title>');
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});

test('/ready answers 503 from the start of shutdown, and the endpoint closes with the node', async () => {
  const system = await clustered({ nodeId: 'solo', config: config(), management: { port: 0 } });
  const url = Management.of(system).url;
  let release!: () => void;
  const handOff = new Promise<void>((resolve) => (release = resolve));
  system.shutdownPhases.add('hand-off', 'test.hold', () => handOff);
  expect((await http(`${url}/ready`)).status).toBe(200);
  const shutdown = system.shutdown();
  const ready = await http(`${url}/ready`);
  expect(ready.status).toBe(503);
  expect(JSON.parse(ready.body)).toEqual({ ready: false, nodeId: 'solo', reason: 'shutting down' });
  expect((await http(`${url}/alive`)).status).toBe(200);
  release();
  await shutdown;
  await expect(http(`${url}/alive`)).rejects.toThrow(/ECONNREFUSED/);
});

test('/ready answers 503 until the node has joined: a node whose seed does not answer is alive, not ready', async () => {
  const seed = await freePort();
  const system = await clustered({ nodeId: 'lonely', seeds: [`127.0.0.1:${seed}`], config: config(), management: { port: 0 } });
  try {
    const url = Management.of(system).url;
    const ready = await http(`${url}/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toEqual({ ready: false, nodeId: 'lonely', reason: 'not joined yet: no seed has answered' });
    expect((await http(`${url}/alive`)).status).toBe(200);
    expect((await http(`${url}/metrics`)).body).toContain('casty_ready{node="lonely"} 0');
  } finally {
    await system.shutdown();
  }
});

test('a member composed without monitoring is shown with why its figures are missing', async () => {
  const a = await clustered({ nodeId: 'm-a', config: config(), management: { port: 0 } });
  // composed by hand, without casty's node features: it has no /system/casty-monitoring
  const bare = await ClusteredActorSystem.start(new TcpTransport({ clusterName: 'casty', nodeId: 'm-bare', port: 0, logger: silentLogger }),
    { seeds: [`127.0.0.1:${a.address.port}`], config: config() });
  try {
    await waitUntil('a sees the bare node', () => a.members().length === 2, 10_000);
    const { nodes } = await getJson<{ nodes: NodeView[] }>(`${Management.of(a).url}/cluster/nodes`);
    const shown = nodes.find((n) => n.nodeId === 'm-bare')!;
    expect(shown).toMatchObject({ state: 'alive', self: false });
    expect(shown.stats).toBeUndefined();
    expect(shown.error).toEqual(expect.any(String));
    expect(nodes.find((n) => n.nodeId === 'm-a')!.stats).toBeDefined();
  } finally {
    await Promise.all([bare.shutdown(), a.shutdown()]);
  }
});

test('the events kept are bounded: the oldest go, the numbering goes on', async () => {
  const system = await clustered({ nodeId: 'busy', config: config(), management: { port: 0 } });
  try {
    const self = system.members()[0]!;
    // more than MAX_RECENT_EVENTS * 1.25, so the oldest are dropped once
    for (let i = 0; i < 700; i++) system.events.publish(new MemberSuspect({ ...self, incarnation: i }));
    const { events } = await getJson<{ events: { seq: number; incarnation: number }[] }>(`${Management.of(system).url}/cluster/events`);
    expect(events.length).toBeGreaterThanOrEqual(MAX_RECENT_EVENTS);
    expect(events.length).toBeLessThanOrEqual(MAX_RECENT_EVENTS * 1.25);
    expect(events[events.length - 1]).toMatchObject({ seq: 701, incarnation: 699 });   // the first was its own MemberUp
  } finally {
    await system.shutdown();
  }
});

test('with a token, every path but /, /alive and /ready needs it', async () => {
  const token = 'a-token-of-enough-length';
  const system = await clustered({ nodeId: 't', config: config(), management: { port: 0, token } });
  try {
    const url = Management.of(system).url;
    for (const path of ['/cluster/members', '/cluster/events', '/cluster/nodes', '/metrics']) {
      const refused = await http(`${url}${path}`);
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="casty"');
      expect((await http(`${url}${path}`, { headers: { authorization: 'Bearer a-token-of-enough-lengtX' } })).status).toBe(401);
      expect((await http(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
    for (const path of ['/', '/alive', '/ready']) expect((await http(`${url}${path}`)).status).toBe(200);
  } finally {
    await system.shutdown();
  }
});

test('wrong management options are refused at the call, naming the field and the fix', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ port: 70_000 }, /management\.port must be a whole number from 0/],
    [{ port: '8558' }, /management\.port/],
    [{ prot: 1 }, /management\.prot is not an option; the options of management are host, port, token, insecure/],
    [{ host: '0.0.0.0', port: 0 }, /'0\.0\.0\.0' is not a loopback address and management\.token is not set.*management\.insecure: true/],
    [{ token: 'short' }, /management\.token must be a string of at least 16 characters \(got 5 characters\)/],
    [{ insecure: 'yes' }, /management\.insecure must be true or false/],
    [true, /management must be an object/],
  ];
  for (const [management, message] of cases) {
    const error = await clustered({ config: config(), management: management as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(message);
  }
});

test('off loopback with insecure: true it starts, and warns', async () => {
  const lines: string[] = [];
  const logger = { debug() {}, warn: (m: string) => void lines.push(m), error: (m: string) => void lines.push(m) };
  const system = await clustered({ config: ClusterConfig.development({ logger }), management: { host: '0.0.0.0', port: 0, insecure: true } });
  try {
    expect((await http(`http://127.0.0.1:${Management.of(system).port}/alive`)).status).toBe(200);
    expect(lines.join('\n')).toMatch(/management endpoint .* without a token \(management\.insecure\)/);
  } finally {
    await system.shutdown();
  }
});

test('a port in use fails with ManagementBindError and leaves no node running', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  const clusterPort = await freePort();
  try {
    const error = await clustered({ port: clusterPort, config: config(), management: { port } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManagementBindError);
    expect((error as Error).message).toMatch(new RegExp(`could not listen on 127\\.0\\.0\\.1:${port}.*pick a free management\\.port`));
    // the node that had started was shut down: its cluster port is free again
    const again = createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(clusterPort, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => again.close(() => resolve()));
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  }
});

test('Management.of a node without the option says how to enable it', async () => {
  const system = await clustered({ config: config() });
  try {
    expect(() => Management.of(system)).toThrow(ExtensionNotFoundError);
    expect(() => Management.of(system)).toThrow(/clustered\(\{ management: \{ port: 8558 \} \}\)/);
  } finally {
    await system.shutdown();
  }
});

/** Parses the exposition strictly: every line is HELP, TYPE or a sample of the family just declared. */
function parseExposition(text: string): Map<string, { type: string; samples: string[] }> {
  expect(text.endsWith('\n')).toBe(true);
  const families = new Map<string, { type: string; samples: string[] }>();
  const lines = text.slice(0, -1).split('\n');
  let current: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*$/.exec(line);
    if (help !== null) {
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(lines[++i] ?? '');
      expect([line, type?.[1]]).toEqual([line, help[1]]);
      expect(families.has(help[1]!)).toBe(false);
      if (type![2] === 'counter') expect(help[1]).toMatch(/_total$/);
      current = help[1]!;
      families.set(current, { type: type![2]!, samples: [] });
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\\n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\\n])*")*\})? (-?\d+(\.\d+)?(e[+-]?\d+)?|NaN|[+-]Inf)$/.exec(line);
    expect([line, sample !== null]).toEqual([line, true]);
    expect([line, sample![1]]).toEqual([line, current]);
    families.get(current!)!.samples.push(line);
  }
  return families;
}
