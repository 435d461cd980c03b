// Shutdown phases over the in-memory cluster: a node that shuts down is still a member, seen alive by the
// others and able to answer asks, while its 'hand-off' tasks run; it has left once shutdown has finished.
// Its own 'leave' phase holds membership's leave and remote messaging's LEAVING, 'close' the transport.

import { ClusterEvent, MemberLeft } from '@casty/cluster';
import { waitUntil } from '@casty/cluster/testing';
import { Echo, Service } from '../remote/actors';
import { TestNodes } from '../remote/nodes';
import type { TestNode } from '../remote/nodes';

const stateOf = (observer: TestNode, nodeId: string) => observer.system.membership.member(nodeId)?.state;

describe('shutdown phases over the in-memory cluster', () => {
  const nodes = new TestNodes('in-memory');
  afterEach(() => nodes.shutdown());

  test('the cluster extensions register their work in the leave and close phases', async () => {
    const [a] = await nodes.cluster('a');
    expect(a.system.shutdownPhases.names('hand-off')).toEqual([]);
    expect(a.system.shutdownPhases.names('leave')).toEqual(['casty.remote.announce-leaving', 'casty.membership.leave']);
    expect(a.system.shutdownPhases.names('close')).toEqual(['casty.remote.close', 'casty.membership.stop']);
  });

  test('a node is still a member, seen alive by the others and serving, while its hand-off tasks run; left after', async () => {
    const [a, b, c] = await nodes.cluster('a', 'b', 'c');
    const left: string[] = [];
    a.system.events.subscribe(ClusterEvent, (e) => { if (e instanceof MemberLeft) left.push(e.member.nodeId); });
    await b.system.spawn(Service, { name: 'service' });
    await waitUntil('a knows b\'s service', () => a.system.membership.names.nodesOf('service').includes('b'), 5_000);
    const remoteService = await a.system.lookup<Echo<string>>('service');
    expect(remoteService).toBeDefined();

    const seen: Record<string, unknown> = {};
    b.system.shutdownPhases.add('hand-off', 'test.hand-off', async () => {
      seen.selfState = stateOf(b, 'b');
      seen.byA = stateOf(a, 'b');
      seen.byC = stateOf(c, 'b');
      seen.membersOfA = a.system.members().map((m) => m.nodeId);
      seen.answer = await remoteService!.ask(new Echo('during hand-off'));
      seen.bLeftYet = left.includes('b');
    });
    const order: string[] = [];
    b.system.shutdownPhases.add('leave', 'test.leave', () => void order.push('leave'));
    b.system.shutdownPhases.add('actors-stop', 'test.actors-stop', () => void order.push(`actors-stop (service ${b.system.lookupLocal('service') === undefined ? 'stopped' : 'running'})`));
    b.system.shutdownPhases.add('close', 'test.close', () => void order.push('close'));

    await b.system.shutdown();

    expect(seen).toEqual({
      selfState: 'alive', byA: 'alive', byC: 'alive', membersOfA: ['a', 'b', 'c'], answer: 'during hand-off', bLeftYet: false,
    });
    expect(order).toEqual(['leave', 'actors-stop (service stopped)', 'close']);
    await waitUntil('a and c see b as left', () => stateOf(a, 'b') === 'left' && stateOf(c, 'b') === 'left', 5_000,
      () => ({ a: stateOf(a, 'b'), c: stateOf(c, 'b') }));
    expect(left).toEqual(['b']);
    expect(a.system.members().map((m) => m.nodeId)).toEqual(['a', 'c']);
  });
});
