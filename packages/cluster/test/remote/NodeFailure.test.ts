// What remote messaging does when nodes come and go, in one process over the in-memory network and over
// real TCP: asks waiting on a lost node fail at once, the node is reconnected when it is back, peers are
// learned from peer lists, and shutdown fails the peers' waiting asks instead of leaving them to time out.

import { Actor, SystemShutdownError } from '@casty/core';
import type { ActorRef, Context } from '@casty/core';
import { ConnectionLostError, NodeUnavailableError, TcpTransport } from '@casty/cluster';
import type { InMemoryTransport } from '@casty/cluster/testing';
import { CLOSED_BY_PEER } from '../../src/transport/errors';
import { waitUntil } from '@casty/cluster/testing';
import type { Greet } from './actors';
import { Echo, Forward, GetGreetings, Greeter, Ignore, Inbox, Service } from './actors';
import { converged, TestNodes } from './nodes';

/** Resolves with how the promise settled and how long it took. */
async function outcome(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await promise.then(() => undefined, (e: unknown) => e);
  return { error, ms: Date.now() - started };
}

/** Replies, then closes its node's transport at once. */
class LastWords extends Actor<Echo<string>> {
  constructor(private readonly close: () => void) { super(); }
  override receive(msg: Echo<string>, ctx: Context<Echo<string>>): void {
    ctx.reply(msg.value);
    this.close();
  }
}

test('a node that closes our connection cleanly but keeps its own (it failed ours): the asks waiting then fail after a 2 s grace, not at their timeout', async () => {
  const nodes = new TestNodes('in-memory');
  try {
    const [a, b] = await nodes.cluster('a', 'b');
    await b.system.spawn(Service, { name: 'service' });
    const service = await a.system.lookup<Ignore | Echo<string>>('service');
    const pending = outcome(service!.ask(new Ignore(), { timeout: 20_000 })); // b holds it, and never answers
    await waitUntil('a waits on b', () => a.system.remote.pendingRequests === 1);
    // b closes a's connection cleanly (as a node failing it does: a bad frame, say), and keeps its own to a
    nodes.network.unlink(a.transport as InMemoryTransport, b.system.address, new ConnectionLostError(`node 'a'`, CLOSED_BY_PEER));
    const { error, ms } = await pending;
    expect(error).toBeInstanceOf(NodeUnavailableError);
    expect(String(error)).toMatch(/closed by the peer/);
    expect(ms).toBeGreaterThanOrEqual(1_500); // its last replies had time to come on b's own connection
    expect(ms).toBeLessThan(5_000);
    // b is fine: an ask on the new connection is answered
    await expect(service!.ask(new Echo('still there'), { timeout: 5_000 })).resolves.toBe('still there');
  } finally {
    await nodes.shutdown();
  }
});

describe.each(['in-memory', 'tcp'] as const)('nodes coming and going over %s', (kind) => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes(kind);
  });
  afterEach(() => nodes.shutdown());

  test('asks waiting on a lost node fail at once with NodeUnavailableError; when it is back, asks succeed', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await b.system.spawn(Service, { name: 'service' });
    const service = await a.system.lookup<Ignore | Echo<string>>('service');
    const pending = outcome(service!.ask(new Ignore(), { timeout: 20_000 }));
    await waitUntil('b holds the ask', () => a.system.remote.pendingRequests === 1);

    await b.transport.close(); // the connection dies under the pending ask
    const lost = await pending;
    expect(lost.error).toBeInstanceOf(NodeUnavailableError);
    expect(lost.ms).toBeLessThan(5_000);
    expect((lost.error as NodeUnavailableError).message).toMatch(/^Node 'b' at .* is unavailable .*retry then/);
    // While it is gone, a new ask fails at once too (rather than waiting out its timeout).
    await expect(service!.ask(new Echo('now?'), { timeout: 20_000 })).rejects.toBeInstanceOf(NodeUnavailableError);

    await b.system.shutdown();
    const restarted = await nodes.start('b', { port: b.system.address.port, seeds: [a.system.address] });
    await restarted.system.spawn(Service, { name: 'service' });
    // The same ref reaches the new incarnation once the connection is back.
    await waitUntil('an ask through the old ref succeeds again',
      () => service!.ask(new Echo('back'), { timeout: 1_000 }).then((v) => v === 'back', () => false), 10_000);
  });

  test('a reply written just before the node closes reaches the asker, though our connection to it closes first', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    // replies come on b's own connection to a: slow it down, so a sees its connection to b close well before the reply
    if (kind === 'in-memory') nodes.network.setFaults({ delayMs: 200 }, { from: 'b', to: 'a' });
    await b.system.spawn(LastWords, { name: 'last-words', args: [() => void b.transport.close()] });
    const last = await a.system.lookup<Echo<string>>('last-words');
    await expect(last!.ask(new Echo('goodbye'), { timeout: 20_000 })).resolves.toBe('goodbye');
    expect(a.system.remote.pendingRequests).toBe(0);
    // b is unavailable now: a new ask fails at once
    await expect(last!.ask(new Echo('still there?'), { timeout: 20_000 })).rejects.toBeInstanceOf(NodeUnavailableError);
  });

  test('a node joining through one seed learns the others from its peer list; refs reach across', async () => {
    const a = await nodes.start('a');
    const b = await nodes.start('b', { seeds: [a.system.address] });
    const c = await nodes.start('c', { seeds: [b.system.address] });
    await converged([a, b, c]);
    await a.system.spawn(Greeter, { name: 'greeter' });
    const inbox = await c.system.spawn(Inbox, { name: 'inbox' });

    const greeter = await c.system.lookup<Greet>('greeter');
    expect(greeter?.path).toContain('casty://a@');
    // c's inbox sends its own ref to a's greeter, which answers c directly.
    expect(await inbox.ask(new Forward(greeter as ActorRef<Greet>, 'Carol'))).toBe('forwarded');
    await waitUntil('the greeting from a reaches c', async () => (await inbox.ask(new GetGreetings())).length === 1);
    // and b, which never held the ref, can use one it looked up
    const inboxFromB = await b.system.lookup<Forward | GetGreetings>('inbox');
    expect(await inboxFromB?.ask(new GetGreetings())).toEqual(['Hello, Carol!']);
  });

  test('a node shutting down fails the asks it holds and says it leaves, so the others stop redialing it', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await b.system.spawn(Service, { name: 'service' });
    const service = await a.system.lookup<Ignore | Echo<string>>('service');
    const pending = outcome(service!.ask(new Ignore(), { timeout: 20_000 }));
    await waitUntil('b holds the ask', () => a.system.remote.pendingRequests === 1);
    await b.system.shutdown();
    const { error, ms } = await pending;
    expect(error instanceof SystemShutdownError || error instanceof NodeUnavailableError).toBe(true);
    expect(ms).toBeLessThan(5_000);
    await waitUntil('a no longer lists b', () => a.system.members().length === 1);
    await expect(service!.ask(new Echo('gone?'))).rejects.toThrow(/Node 'b' at .* is unavailable \(it left the cluster\)/);
    if (a.transport instanceof TcpTransport) expect(a.transport.peerStatus(b.system.address)).toBeUndefined();
  });
});
