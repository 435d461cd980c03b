// `joined()` when no seed answers: it gives up after a finite default (30 s) or the bound given, and its
// error names the seeds it tried and what to check (a seed running and reachable, the same clusterName, the
// same secret and TLS settings), not this node as if it were the one unavailable.
import { CastyError, ClusteredActorSystem, clustered, InvalidArgumentError, silentLogger } from 'casty';
import type { Logger } from 'casty';
import { InMemoryNetwork } from '@casty/cluster/testing';
import { ManualClock } from '@casty/core/testing';
import { freePort } from './management/http';

const closedPort = freePort;

const quiet: Logger = silentLogger;

test('over TCP, a seed where nothing listens: joined(300) rejects naming the seed and what to check, not this node', async () => {
  const port = await closedPort();
  const system = await clustered({ port: 0, nodeId: 'newcomer', seeds: [`127.0.0.1:${port}`], config: { logger: quiet } });
  try {
    const error = await system.joined(300).then(() => { throw new Error('joined'); }, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(CastyError);
    expect((error as CastyError).code).toBe('JOIN_TIMEOUT');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain('within 300 ms');
    expect(error.message).toMatch(/running and reachable/);
    expect(error.message).toMatch(/same clusterName/);
    expect(error.message).toMatch(/same secret and TLS/);
    expect(error.message).not.toMatch(/Node 'newcomer'.*is unavailable/);
    expect(error.message).not.toContain(`:${system.address.port}`);
  } finally {
    await system.shutdown();
  }
});

test('joined() without a bound gives up after 30 s (on a manual clock)', async () => {
  const clock = new ManualClock();
  const network = new InMemoryNetwork({ clock });
  const system = await ClusteredActorSystem.start(network.createTransport({ nodeId: 'alone' }), {
    seeds: ['10.9.9.9:7946'], clock, config: { logger: quiet },
  });
  try {
    let outcome: Error | undefined;
    const joining = system.joined().catch((e: unknown) => { outcome = e as Error; });
    await clock.advance(29_999);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    await joining;
    expect((outcome as CastyError | undefined)?.code).toBe('JOIN_TIMEOUT');
    expect(outcome?.message).toContain('within 30000 ms');
    expect(outcome?.message).toContain('10.9.9.9:7946');
  } finally {
    await system.shutdown();
  }
});

test('joined() refuses a bound that is not a finite number of milliseconds in 1 .. 2^31 - 1', async () => {
  const network = new InMemoryNetwork();
  const system = await ClusteredActorSystem.start(network.createTransport({ nodeId: 'b' }), {
    seeds: ['10.9.9.9:7946'], config: { logger: quiet },
  });
  try {
    for (const bad of [Infinity, NaN, 0, -1, 2 ** 31]) {
      await expect(system.joined(bad)).rejects.toThrow(InvalidArgumentError);
      await expect(system.joined(bad)).rejects.toThrow(/joined\(timeoutMs\) needs a number of milliseconds from 1 to 2147483647/);
    }
  } finally {
    await system.shutdown();
  }
});
