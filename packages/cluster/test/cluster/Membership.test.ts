// Membership wired into clustered systems, over the in-memory network and real TCP on 127.0.0.1 (real time,
// development preset): members() and the MemberUp/Suspect/Down/Left events, cluster-wide names found from
// every node and gone when their actor stops or their node fails or leaves, pending asks failing when SWIM
// declares their node down, and a restarted node rejoining with a higher incarnation.

import { ClusterConfig, ClusteredActorSystem, ClusterEvent, MemberDown, MemberIdConflictError, MemberLeft, MemberUp, NodeUnavailableError } from '@casty/cluster';
import { CapturingLogger, InMemoryNetwork, waitUntil } from '@casty/cluster/testing';
import { Actor, message } from '@casty/core';
import type { ActorRef, Context } from '@casty/core';
import { Echo, Ignore, Service } from '../remote/actors';
import { TestNodes } from '../remote/nodes';
import type { TestNode, TransportKind } from '../remote/nodes';

@message('test.membership.StopSelf') class StopSelf {}

/** Echoes, and stops itself when told. */
class Stoppable extends Actor<Echo | StopSelf> {
  override receive(msg: Echo | StopSelf, ctx: Context<Echo | StopSelf>): void {
    if (msg instanceof Echo) ctx.reply(msg.value);
    else void ctx.stop();
  }
}

/** Records every membership event a system publishes, as 'Type(node)'. */
function recordEvents(system: ClusteredActorSystem): string[] {
  const seen: string[] = [];
  system.events.subscribe(ClusterEvent, (e) => seen.push(`${e.constructor.name}(${e.member.nodeId})`));
  return seen;
}

const view = (nodes: readonly TestNode[]) => nodes.map((n) => ({
  node: n.system.nodeId,
  members: n.system.members().map((m) => `${m.nodeId}=${m.state}@${m.incarnation}`),
}));

async function outcome(promise: Promise<unknown>): Promise<{ error: unknown }> {
  try {
    await promise;
    return { error: undefined };
  } catch (error) {
    return { error };
  }
}

/** The in-memory network's crash: the node's transport goes away without a word (no leave, no LEAVING). */
async function crash(node: TestNode): Promise<void> {
  await node.transport.close();
}

describe.each<TransportKind>(['in-memory', 'tcp'])('membership over %s', (kind) => {
  const nodes = new TestNodes(kind);
  afterEach(() => nodes.shutdown());

  test('members() lists every node alive, and MemberUp is published for each', async () => {
    const a = await nodes.start('a');
    const events = recordEvents(a.system);
    const b = await nodes.start('b', { seeds: [a.system.address] });
    const c = await nodes.start('c', { seeds: [b.system.address] }); // joins through b: learns a by gossip
    await c.system.joined(5_000);
    await waitUntil('all see all', () => [a, b, c].every((n) => n.system.members().length === 3), 10_000, () => view([a, b, c]));
    for (const n of [a, b, c]) {
      expect(n.system.members().map((m) => [m.nodeId, m.state, m.self])).toEqual(
        ['a', 'b', 'c'].map((id) => [id, 'alive', id === n.system.nodeId]));
    }
    await waitUntil('a saw b and c come up', () => events.includes('MemberUp(b)') && events.includes('MemberUp(c)'), 5_000, () => events);
  });

  test('a name registered on one node is found from every other, and disappears when its actor stops', async () => {
    const [a, b, c] = await nodes.cluster('a', 'b', 'c');
    const service = await a.system.spawn(Stoppable, { name: 'orders' });
    for (const n of [b, c]) {
      await waitUntil(`${n.system.nodeId} knows the name`, () => n.system.membership.names.nodesOf('orders').includes('a'), 5_000);
      const ref = await n.system.lookup<Echo<string>>('orders');
      expect(ref?.path).toMatch(/^casty:\/\/a@.*\/user\/orders$/);
      expect(await ref?.ask(new Echo(`from ${n.system.nodeId}`))).toBe(`from ${n.system.nodeId}`);
    }
    await service.send(new StopSelf());
    for (const n of [b, c]) {
      await waitUntil(`${n.system.nodeId} forgot the name`, () => n.system.membership.names.nodesOf('orders').length === 0, 5_000);
      expect(await n.system.lookup('orders')).toBeUndefined();
    }
  });

  test('a crashed node is suspected, then down: its asks fail with NodeUnavailableError and its names go', async () => {
    const [a, b, c] = await nodes.cluster('a', 'b', 'c');
    const events = recordEvents(a.system);
    await c.system.spawn(Service, { name: 'billing' });
    await waitUntil('a knows the name', () => a.system.membership.names.nodesOf('billing').includes('c'), 5_000);
    const billing = await a.system.lookup<Ignore>('billing') as ActorRef<Ignore>;
    const pending = outcome(billing.ask(new Ignore(), { timeout: 60_000 }));
    await waitUntil('c holds the ask', () => a.system.remote.pendingRequests === 1);
    await crash(c);
    await waitUntil('a and b declare c down', () => [a, b].every((n) => n.system.membership.member('c')?.state === 'dead'),
      15_000, () => view([a, b]));
    expect(events).toContain('MemberSuspect(c)');
    expect(events).toContain('MemberDown(c)');
    expect(events.filter((e) => e.startsWith('MemberDown') && e !== 'MemberDown(c)')).toEqual([]);
    expect((await pending).error).toBeInstanceOf(NodeUnavailableError);
    await expect(billing.ask(new Ignore())).rejects.toThrow(/declared it failed/);
    for (const n of [a, b]) {
      expect(n.system.members().map((m) => m.nodeId)).toEqual(['a', 'b']);
      await waitUntil(`${n.system.nodeId} dropped c's names`, () => n.system.membership.names.nodesOf('billing').length === 0, 5_000);
    }
  });

  test('a node that shuts down leaves: the others publish MemberLeft, not MemberDown, and drop its names', async () => {
    const [a, b, c] = await nodes.cluster('a', 'b', 'c');
    const events = recordEvents(a.system);
    await b.system.spawn(Service, { name: 'audit' });
    await waitUntil('a knows the name', () => a.system.membership.names.nodesOf('audit').includes('b'), 5_000);
    await b.system.shutdown();
    await waitUntil('a and c see b left', () => [a, c].every((n) => n.system.membership.member('b')?.state === 'left'), 10_000, () => view([a, c]));
    expect(events).toContain('MemberLeft(b)');
    expect(events).not.toContain('MemberDown(b)');
    expect(a.system.membership.names.nodesOf('audit')).toEqual([]);
  });

  test('a restarted node rejoins with a higher incarnation, and its names are found again', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    const events = recordEvents(a.system);
    const port = b.system.address.port;
    await b.system.spawn(Service, { name: 'cart' });
    await waitUntil('a knows the name', () => a.system.membership.names.nodesOf('cart').includes('b'), 5_000);
    await crash(b);
    await waitUntil('a declares b down', () => a.system.membership.member('b')?.state === 'dead', 15_000, () => view([a]));
    const before = a.system.membership.member('b')!.incarnation;
    const b2 = await nodes.start('b', { seeds: [a.system.address], ...(kind === 'tcp' ? { port } : {}) });
    await waitUntil('a takes b back', () => a.system.membership.member('b')?.state === 'alive', 10_000, () => view([a, b2]));
    expect(a.system.membership.member('b')!.incarnation).toBeGreaterThan(before);
    expect(events.filter((e) => e === 'MemberUp(b)')).toHaveLength(1);
    await b2.system.spawn(Service, { name: 'cart' });
    await waitUntil('a finds the new cart', async () => (await (await a.system.lookup<Echo<number>>('cart'))?.ask(new Echo(7)).catch(() => 0)) === 7, 10_000);
  });
});

test('MemberSuspect is followed by MemberAlive when the suspect refutes (in-memory, one node briefly cut off)', async () => {
  const network = new InMemoryNetwork({ logger: new CapturingLogger() });
  // A long suspicion: the cut-off node has ample time to refute once the link is back.
  const config = ClusterConfig.development({ logger: new CapturingLogger(), swim: { suspicionMult: 20 } });
  const systems: ClusteredActorSystem[] = [];
  try {
    for (const id of ['a', 'b', 'c', 'd']) {
      const transport = network.createTransport({ nodeId: id });
      systems.push(await ClusteredActorSystem.start(transport, { config, seeds: systems.length === 0 ? [] : [systems[0]!.address], name: id }));
    }
    const [a] = systems as [ClusteredActorSystem];
    await waitUntil('4 members', () => systems.every((s) => s.members().length === 4), 10_000);
    const seen: string[] = [];
    a.events.subscribe(ClusterEvent, (e) => seen.push(`${e.constructor.name}(${e.member.nodeId})`));
    network.partition(['d'], ['a', 'b', 'c']);
    await waitUntil('a suspects d', () => seen.includes('MemberSuspect(d)'), 10_000, () => seen);
    network.heal();
    await waitUntil('d refutes', () => seen.includes('MemberAlive(d)'), 10_000, () => seen);
    expect(seen).not.toContain('MemberDown(d)');
    expect(a.members().map((m) => m.nodeId)).toEqual(['a', 'b', 'c', 'd']);
  } finally {
    await Promise.all(systems.map((s) => s.shutdown()));
  }
});

test('a second node started with a live node\'s id: joined() rejects with MemberIdConflictError, and the first keeps its id', async () => {
  const network = new InMemoryNetwork({ logger: new CapturingLogger() });
  const systems: ClusteredActorSystem[] = [];
  const start = async (id: string, seeds: ClusteredActorSystem[]) => {
    const logger = new CapturingLogger();
    const system = await ClusteredActorSystem.start(network.createTransport({ nodeId: id, logger }),
      { config: ClusterConfig.development({ logger }), seeds: seeds.map((s) => s.address), name: id });
    systems.push(system);
    return system;
  };
  try {
    const a = await start('a', []);
    const b = await start('b', [a]);
    await waitUntil('a and b', () => a.members().length === 2, 5_000);
    const impostor = await start('b', [a]);
    await expect(impostor.joined(5_000)).rejects.toThrow(MemberIdConflictError);
    await expect(impostor.joined(5_000)).rejects.toThrow(/Node id 'b' is claimed by .* while the member at .* is alive; give every node a unique id/);
    expect(a.membership.member('b')?.address).toEqual(b.address);
  } finally {
    await Promise.all(systems.map((s) => s.shutdown()));
  }
});

test('MemberUp and MemberDown are exported for subscriptions by class', () => {
  expect(new MemberUp({ nodeId: 'x', address: { host: 'h', port: 1 }, self: false, state: 'alive', incarnation: 0 })).toBeInstanceOf(ClusterEvent);
  expect(MemberDown.prototype).toBeInstanceOf(ClusterEvent);
  expect(MemberLeft.prototype).toBeInstanceOf(ClusterEvent);
});
