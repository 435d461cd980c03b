// clustered() takes the runtime's own options too (logFailures, shutdownPhaseTimeoutMs, serializeMessages),
// validated at the call like the rest: a clustered node is configured the way ActorSystem.create is.

import { Actor, clustered, ClusterConfig, InvalidArgumentError, MessageEncodingError } from 'casty';
import type { Logger } from 'casty';

class NotOnTheWire { constructor(readonly x: number) {} }

class Crashy extends Actor<unknown> {
  override receive(): void {
    throw new Error('boom');
  }
}

/** A logger that keeps its error and warning lines. */
function keeping(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, debug: () => undefined, warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) };
}

describe('clustered() runtime options', () => {
  test('wrong values are refused at the call, naming the option', async () => {
    await expect(clustered({ logFailures: 'no' as never })).rejects.toThrow(InvalidArgumentError);
    await expect(clustered({ logFailures: 'no' as never })).rejects.toThrow(/logFailures/);
    await expect(clustered({ shutdownPhaseTimeoutMs: 0 })).rejects.toThrow(/shutdownPhaseTimeoutMs/);
    await expect(clustered({ serializeMessages: 1 as never })).rejects.toThrow(/serializeMessages/);
    await expect(clustered({ logFailure: true } as never)).rejects.toThrow(/known options are .*logFailures, shutdownPhaseTimeoutMs, serializeMessages/);
  });

  test('serializeMessages: an unregistered class fails at send, on one node', async () => {
    await using system = await clustered({ serializeMessages: true, config: ClusterConfig.development({ logger: keeping() }) });
    const ref = await system.spawn(Crashy);
    await expect(ref.send(new NotOnTheWire(1))).rejects.toBeInstanceOf(MessageEncodingError);
  });

  test('logFailures: false keeps a supervised failure out of the log; the default logs it once', async () => {
    for (const logFailures of [false, true]) {
      const logger = keeping();
      const system = await clustered({ logFailures, shutdownPhaseTimeoutMs: 1_000,
        config: ClusterConfig.development({ logger }) });
      try {
        const ref = await system.spawn(Crashy, { name: 'crashy' });
        await ref.send('x');
        await ref.ask('y' as never, { timeout: 2_000 }).catch(() => undefined); // processed after the first
        const failures = logger.lines.filter((l) => /\/user\/crashy failed/.test(l));
        expect(failures).toHaveLength(logFailures ? 2 : 0);
      } finally {
        await system.shutdown();
      }
    }
  });
});
