// `seeds` that is not an array (a single 'host:port' string is the likely slip) is an InvalidArgumentError at
// the call that says how to write it, through clustered() and ClusteredActorSystem.start alike, before any
// port is bound.

import { ClusteredActorSystem, clustered, InvalidArgumentError } from 'casty';
import { InMemoryNetwork } from '@casty/cluster/testing';

async function refusal(starting: Promise<unknown>): Promise<Error> {
  const error = await starting.then(async (system) => {
    await (system as ClusteredActorSystem).shutdown();
    throw new Error('the node started');
  }, (e: unknown) => e as Error);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  return error;
}

describe('seeds', () => {
  test("clustered({ seeds: '127.0.0.1:7946' }) says to wrap the string in [ ]", async () => {
    const error = await refusal(clustered({ host: '127.0.0.1', port: 0, seeds: '127.0.0.1:7946' as never }));
    expect(error.message).toBe("seeds must be an array of 'host:port' strings or { host, port } objects; " +
      "got the string '127.0.0.1:7946' — wrap it in [ ]");
  });

  test('ClusteredActorSystem.start refuses a string, an object or a number as seeds, before starting the transport', async () => {
    const network = new InMemoryNetwork();
    const cases: Array<[unknown, string]> = [
      ['10.0.0.2:7946', "got the string '10.0.0.2:7946' — wrap it in [ ]"],
      [{ host: '10.0.0.2', port: 7946 }, 'got an object (not an array)'],
      [7946, 'got a number'],
      [null, 'got null'],
    ];
    for (const [seeds, got] of cases) {
      const transport = network.createTransport({ nodeId: 'x' });
      const error = await refusal(ClusteredActorSystem.start(transport, { seeds: seeds as never }));
      expect(error.message).toBe(`seeds must be an array of 'host:port' strings or { host, port } objects; ${got}`);
      expect(transport.isRunning).toBe(false);
    }
  });

  test('an array of seeds is still taken', async () => {
    const network = new InMemoryNetwork();
    const first = await ClusteredActorSystem.start(network.createTransport({ nodeId: 'a' }));
    const second = await ClusteredActorSystem.start(network.createTransport({ nodeId: 'b' }), { seeds: [first.address] });
    try {
      await second.joined(5_000);
    } finally {
      await Promise.all([first.shutdown(), second.shutdown()]);
    }
  });
});
