// The composition of a node (ClusteredActorSystem.start): transport -> remote messaging -> membership -> the
// extensions given, in order, before the node joins; and the accessors by key, which say clearly when a system
// is not a cluster node.

import { ActorSystem, ExtensionKey, ExtensionNotFoundError, InvalidArgumentError } from '@casty/core';
import type { SystemExtension } from '@casty/core';
import { ClusteredActorSystem, ClusterEvent, ClusterMembership, RemoteMessaging } from '@casty/cluster';
import type { NodeExtension } from '@casty/cluster';
import { CapturingLogger, InMemoryNetwork, TestCluster } from '@casty/cluster/testing';

/** An extension that records what it could see when installed, and the membership events it got after. */
class Probe implements SystemExtension {
  static readonly key = new ExtensionKey<Probe>('test.probe');
  readonly seenAtInstall: string[] = [];
  readonly events: string[] = [];
  closed = false;
  afterShutdown(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function probeExtension(name: string, log: string[]): NodeExtension {
  return {
    name,
    install(system) {
      const probe = new Probe();
      probe.seenAtInstall.push(`remote=${RemoteMessaging.of(system).nodeId}`, `membership=${ClusterMembership.of(system).nodeId}`,
        `joined=${String(ClusterMembership.of(system).isJoined)}`);
      system.events.subscribe(ClusterEvent, (e) => probe.events.push(`${e.constructor.name}:${e.member.nodeId}`));
      system.registerExtension(new ExtensionKey<Probe>(`test.${name}`), probe);
      log.push(name);
    },
  };
}

describe('composing a node', () => {
  test('extensions are installed in order, after remote messaging and membership, before the node joins', async () => {
    const log: string[] = [];
    await using cluster = await TestCluster.start({ nodes: ['a', 'b'], seed: 5,
      start: (transport, options) => ClusteredActorSystem.start(transport, { ...options,
        extensions: [probeExtension('first', log), probeExtension('second', log)] }) });
    await cluster.converged();
    expect(log).toEqual(['first', 'second', 'first', 'second']);
    const probe = cluster.node('b').system.extension(new ExtensionKey<Probe>('test.first'))!;
    expect(probe.seenAtInstall).toEqual(['remote=b', 'membership=b', 'joined=false']);
    // installed before the join: it saw its own node come up, then the other
    expect(probe.events.slice(0, 2)).toEqual(['MemberUp:b', 'MemberUp:a']);
  });

  test('an extension that fails to install fails start, and the node is shut down (its address is free again)', async () => {
    const network = new InMemoryNetwork({ logger: new CapturingLogger() });
    const broken: NodeExtension = { name: 'broken', install: () => { throw new Error('no shards today'); } };
    const transport = network.createTransport({ nodeId: 'x', port: 4000 });
    await expect(ClusteredActorSystem.start(transport, { extensions: [broken] })).rejects.toThrow('no shards today');
    const again = network.createTransport({ nodeId: 'x', port: 4000 });
    await using system = await ClusteredActorSystem.start(again);
    expect(system.address.port).toBe(4000);
  });

  test('wrong options are rejected at the call, naming the option', async () => {
    const network = new InMemoryNetwork({ logger: new CapturingLogger() });
    const transport = network.createTransport({ nodeId: 'x' });
    await expect(ClusteredActorSystem.start(transport, { extentions: [] } as never)).rejects.toThrow(
      new InvalidArgumentError("ClusteredActorSystem.start has no option 'extentions'; known options are seeds, config, " +
        'name, clock, random, serializeMessages, logFailures, shutdownPhaseTimeoutMs, extensions'));
    await expect(ClusteredActorSystem.start(transport, { extensions: [{ name: 'x' }] as never })).rejects.toThrow(
      /extensions\[0\] must be \{ name: string, install\(system\) \}/);
  });
});

describe('extension accessors', () => {
  test('of(system) on a cluster node gives its extension', async () => {
    await using cluster = await TestCluster.start({ nodes: 1 });
    const system = cluster.node('n0').system;
    expect(ClusterMembership.of(system)).toBe(system.membership);
    expect(RemoteMessaging.of(system)).toBe(system.remote);
    expect(system.members().map((m) => m.nodeId)).toEqual(['n0']);
  });

  test('of(system) on a local system is an ExtensionNotFoundError that says how to make a cluster node', async () => {
    await using system = ActorSystem.create({ name: 'solo' });
    for (const of of [() => ClusterMembership.of(system), () => RemoteMessaging.of(system)]) {
      let error: unknown;
      try { of(); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(ExtensionNotFoundError);
      expect((error as Error).message).toMatch(/^The actor system 'solo' has no 'casty\.(membership|remote)' extension: it is not a cluster node\. Make one with clustered\(\) from 'casty'/);
    }
  });
});
