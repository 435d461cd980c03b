// Lookups across clustered systems on the in-memory network (real time, development preset):
// - a member that does not answer (stopped with SIGSTOP, or cut off while the others still see it alive) holds a
//   miss up for the lookup timeout (at most 2 s by default), not for askTimeoutMs; a name on a healthy node
//   is still found at once;
// - the longest actor name allowed (255 UTF-8 bytes) reaches the other nodes; a longer one is refused at spawn.

import { ClusterConfig, ClusteredActorSystem, RemoteActorRef } from '@casty/cluster';
import { CapturingLogger, InMemoryNetwork, waitUntil } from '@casty/cluster/testing';
import { AskTimeoutError, InvalidArgumentError } from '@casty/core';
import { Echo, Service } from '../remote/actors';

const ASK_TIMEOUT_MS = 10_000;

describe('lookup across nodes', () => {
  const started: ClusteredActorSystem[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.shutdown()));
  });

  async function cluster(network: InMemoryNetwork, ...ids: string[]): Promise<ClusteredActorSystem[]> {
    const logger = new CapturingLogger();
    const config = ClusterConfig.development({ logger, askTimeoutMs: ASK_TIMEOUT_MS });
    const systems: ClusteredActorSystem[] = [];
    for (const id of ids) {
      const seeds = systems.length === 0 ? [] : [systems[0]!.address];
      const system = await ClusteredActorSystem.start(network.createTransport({ nodeId: id, logger }), { config, seeds, name: id });
      started.push(system);
      systems.push(system);
    }
    await waitUntil(`all ${ids.length} nodes see each other`,
      () => systems.every((s) => s.members().length === ids.length), 10_000,
      () => systems.map((s) => `${s.nodeId}: ${s.members().map((m) => m.nodeId).join(' ')}`));
    return systems;
  }

  test('a miss answers within the lookup timeout while one member is silent; a name on a healthy node is found at once', async () => {
    const network = new InMemoryNetwork({ logger: new CapturingLogger() });
    const [a, b] = await cluster(network, 'a', 'b', 'c');
    await b!.spawn(Service, { name: 'known' });
    // c is cut off from a only: b still reaches it, so SWIM keeps it alive (as with a stopped process whose
    // connections stay open), but a's LOOKUP to c is never answered.
    network.partition(['a'], ['c']);

    const started = performance.now();
    expect(await a!.remote.lookup('nobody')).toBeUndefined();
    const missMs = performance.now() - started;
    expect(missMs).toBeLessThan(3_500); // the 2 s default, not askTimeoutMs (10 s)
    expect(missMs).toBeGreaterThanOrEqual(1_900); // it did wait for c
    expect(a!.members().find((m) => m.nodeId === 'c')?.state).toBe('alive');
    expect(a!.remote.pendingRequests).toBe(0);
    expect(await a!.lookup('nobody-either')).toBeUndefined();

    const found = performance.now();
    const known = await a!.remote.lookup('known');
    expect(performance.now() - found).toBeLessThan(1_000);
    expect(known).toBeInstanceOf(RemoteActorRef);
    expect(known?.path).toMatch(/^casty:\/\/b@.*\/user\/known$/);
    expect(await (known as RemoteActorRef<Echo<string>>).ask(new Echo('hi'))).toBe('hi');

    // Asks keep their own timeout: the bound is for lookups only.
    const toC = a!.remote.remoteRef('c', a!.members().find((m) => m.nodeId === 'c')!.address, '/user/x');
    const error = await toC.ask(new Echo(1), { timeout: 300 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AskTimeoutError);
  }, 30_000);

  test('the longest allowed actor name (255 UTF-8 bytes) is found from another node; a longer one is refused at spawn', async () => {
    const network = new InMemoryNetwork({ logger: new CapturingLogger() });
    const [a, b] = await cluster(network, 'a', 'b');
    const longest = `${'é'.repeat(100)}${'n'.repeat(55)}`; // 200 + 55 bytes
    expect(Buffer.byteLength(longest)).toBe(255);
    await a!.spawn(Service, { name: longest });
    await waitUntil('b knows the longest name', () => b!.membership.names.nodesOf(longest).includes('a'), 5_000);
    const viaRegistry = await b!.lookup<Echo<string>>(longest);
    expect(viaRegistry?.path).toMatch(new RegExp(`^casty://a@.*/user/${longest}$`));
    expect(await viaRegistry?.ask(new Echo('far'))).toBe('far');
    const viaNodes = await b!.remote.lookup(`/user/${longest}`); // asking the nodes, not the registry
    expect(viaNodes?.path).toBe(viaRegistry?.path);

    const tooLong = `${longest}x`;
    await expect(a!.spawn(Service, { name: tooLong })).rejects.toThrow(InvalidArgumentError);
    await expect(a!.spawn(Service, { name: tooLong })).rejects.toThrow(/256 UTF-8 bytes, over the limit of 255/);
    await expect(a!.spawn(Service, { name: 'with space' })).rejects.toThrow(/holds U\+0020 at index 4/);
  });
});
