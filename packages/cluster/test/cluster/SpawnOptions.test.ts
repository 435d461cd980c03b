// A clustered system composed without sharding (ClusteredActorSystem.start with no extensions) validates spawn
// options as the local one does: `sharded`, `singleton` and `replication` are refused, pointing at clustered()
// (which composes sharding), instead of making a plain local actor, and a typo is named.

import { ClusterConfig, ClusteredActorSystem } from '@casty/cluster';
import { CapturingLogger, InMemoryNetwork } from '@casty/cluster/testing';
import { InvalidArgumentError } from '@casty/core';
import { Counter } from '../remote/actors';

describe('spawn options on a clustered system', () => {
  let system: ClusteredActorSystem;
  beforeEach(async () => {
    const logger = new CapturingLogger();
    const network = new InMemoryNetwork({ logger });
    system = await ClusteredActorSystem.start(network.createTransport({ nodeId: 'a', logger }),
      { config: ClusterConfig.development({ logger }), name: 'a' });
  });
  afterEach(() => system.shutdown());

  test.each(['sharded', 'singleton', 'replication'])("'%s' is refused: it needs a node composed with sharding", async (option) => {
    const spawning = system.spawn(Counter, { name: 'counter', [option]: true } as { name: string });
    await expect(spawning).rejects.toThrow(InvalidArgumentError);
    await expect(spawning).rejects.toThrow(`'${option}' needs a clustered system: a top-level system.spawn on a node made by clustered() from 'casty'`);
    expect(system.lookupLocal('counter')).toBeUndefined();
  });

  test('a typo is named, with the known options', async () => {
    await expect(system.spawn(Counter, { nmae: 'a' } as { name?: string }))
      .rejects.toThrow("spawn(Counter): unknown option 'nmae' (did you mean 'name'?); the options are name, args and mailbox");
    await expect(system.spawn(Counter, { name: 'fine' })).resolves.toBeDefined();
  });
});
