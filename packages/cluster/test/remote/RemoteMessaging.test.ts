// Remote messaging between clustered systems in one process, over the in-memory network and over real TCP
// on 127.0.0.1 port 0: sends and asks both ways, refs inside messages, order per sender, ask timeouts,
// remote errors, undecodable messages and lookups.

import { ActorStoppedError, AskTimeoutError, DeadLetter, MalformedMessageError, message,
  registerMessageClass, Request, UnknownMessageClassError } from '@casty/core';
import type { ActorRef } from '@casty/core';
import { LocalActorRef } from '@casty/core/internal';
import { RemoteActorRef, UndecodableMessage } from '@casty/cluster';
import { EnvelopeKind, KeyedHeader, ProtocolId } from '@casty/cluster/internal';
import { waitUntil } from '@casty/cluster/testing';
import { encodeHeader } from '../../src/remote/envelope';
import { Add, Counter, Echo, Fail, GetGreetings, GetSeqs, GetTotal, Greet, Greeter, Ignore, Inbox, OutOfStockError,
  Recorder, Seq, Service } from './actors';
import { TestNodes } from './nodes';

@message('test.remote.Secret') class Secret extends Request<string> {}

/**
 * Runs `send()`, then hides Secret's wire name until `until` resolves: frames are decoded asynchronously,
 * so to the receiving node the class is one it does not know.
 */
async function withSecretUnknown(send: () => Promise<unknown>, until: Promise<unknown>): Promise<void> {
  void send().catch(() => undefined); // the caller watches the outcome through `until`
  registerMessageClass(Secret, 'test.remote.Secret.renamed');
  try {
    await until;
  } finally {
    registerMessageClass(Secret, 'test.remote.Secret');
  }
}

describe.each(['in-memory', 'tcp'] as const)('remote messaging over %s', (kind) => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes(kind);
  });
  afterEach(() => nodes.shutdown());

  test('lookup finds a named actor on the other node; send and ask work both ways', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await a.system.spawn(Counter, { name: 'counter-a' });
    await b.system.spawn(Counter, { name: 'counter-b' });

    const atA = await b.system.lookup<Add | GetTotal>('counter-a');
    expect(atA).toBeInstanceOf(RemoteActorRef);
    expect(atA?.path).toBe(`casty://a@${a.system.address.host}:${a.system.address.port}/user/counter-a`);
    await atA?.send(new Add(2));
    await atA?.send(new Add(3));
    expect(await atA?.ask(new GetTotal())).toBe(5);

    const atB = await a.system.lookup<Add | GetTotal>('/user/counter-b');
    await atB?.send(new Add(7));
    expect(await atB?.ask(new GetTotal())).toBe(7);

    expect(await a.system.lookup('nobody')).toBeUndefined();
    expect(a.system.members().map((m) => [m.nodeId, m.self, m.address.port]))
      .toEqual([['a', true, a.system.address.port], ['b', false, b.system.address.port]]);
  });

  test('a reply-to ref inside a message crosses nodes and is used to answer; back home it is the local actor', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await a.system.spawn(Greeter, { name: 'greeter' });
    await a.system.spawn(Service, { name: 'service' });
    const inbox = await b.system.spawn(Inbox, { name: 'inbox' });

    const greeter = await b.system.lookup<Greet>('greeter');
    await greeter?.send(new Greet('Bob', inbox));
    await waitUntil('the greeting reaches the inbox on b', async () => (await inbox.ask(new GetGreetings())).length === 1);
    expect(await inbox.ask(new GetGreetings())).toEqual(['Hello, Bob!']);

    // b's ref goes to a and comes back in the reply: it is b's local actor again, not a remote ref to it.
    const service = await b.system.lookup<Echo<ActorRef<Greet>>>('service');
    const echoed = await service?.ask(new Echo(inbox as ActorRef<unknown> as ActorRef<Greet>));
    expect(echoed).toBe(inbox);
    expect(echoed).toBeInstanceOf(LocalActorRef);
  });

  test('10 000 tells from one sender arrive in the order sent', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await a.system.spawn(Recorder, { name: 'recorder' });
    const recorder = await b.system.lookup<Seq | GetSeqs>('recorder');
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 10_000; i++) sends.push(recorder!.send(new Seq('b', i)));
    await Promise.all(sends);
    // The ask travels behind the tells on the same connection, so it sees all of them.
    const seen = await recorder!.ask(new GetSeqs('b'));
    expect(seen.length).toBe(10_000);
    expect(seen.every((n, i) => n === i)).toBe(true);
  });

  test('a remote ask with no reply times out with AskTimeoutError naming the remote actor', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await a.system.spawn(Service, { name: 'service' });
    const service = await b.system.lookup<Ignore>('service');
    const error = await service!.ask(new Ignore(), { timeout: 150 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AskTimeoutError);
    expect((error as AskTimeoutError).message).toContain(`casty://a@`);
    expect((error as AskTimeoutError).timeoutMs).toBe(150);
    expect(b.system.remote.pendingRequests).toBe(0);
  });

  test('an error thrown in a remote receive rejects the ask with that error, rebuilt by its code', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await a.system.spawn(Service, { name: 'service' });
    const service = await b.system.lookup<Fail | Echo<number>>('service');

    const registered = await service!.ask(new Fail('registered')).then(() => undefined, (e: unknown) => e);
    expect(registered).toBeInstanceOf(OutOfStockError);
    expect(registered).toMatchObject({ code: 'TEST_OUT_OF_STOCK', item: 'widgets', name: 'OutOfStockError',
      message: 'No widgets left; order fewer or wait for a delivery' });

    const plain = await service!.ask(new Fail('plain')).then(() => undefined, (e: unknown) => e);
    expect(plain).toBeInstanceOf(RangeError);
    expect((plain as Error).message).toBe('plain failure on purpose');

    expect(await service!.ask(new Echo(42))).toBe(42); // the actor carried on

    const ghost = b.system.remote.remoteRef('a', a.system.address, '/user/ghost');
    await expect(ghost.ask(new Echo(1))).rejects.toBeInstanceOf(ActorStoppedError);
  });

  test('a message of a class the receiver does not know is a dead letter; an ask with one fails fast', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await a.system.spawn(Service, { name: 'service' });
    const service = await b.system.lookup<Secret | Echo<string>>('service');
    const deadLetters: DeadLetter[] = [];
    a.system.events.subscribe(DeadLetter, (d) => deadLetters.push(d));

    await withSecretUnknown(() => service!.send(new Secret()),
      waitUntil('a publishes the dead letter', () => deadLetters.length === 1));
    expect(deadLetters[0]).toMatchObject({ recipient: '/user/service', reason: 'unroutable' });
    const undecodable = deadLetters[0]?.message as UndecodableMessage;
    expect(undecodable).toBeInstanceOf(UndecodableMessage);
    expect(undecodable.fromNode).toBe('b');
    expect(undecodable.error).toBeInstanceOf(UnknownMessageClassError);

    const started = Date.now();
    let asked: Promise<string> | undefined;
    const failed = new Promise<unknown>((resolve) => {
      asked = service!.ask(new Secret(), { timeout: 5_000 });
      asked.then(resolve, resolve);
    });
    await withSecretUnknown(() => asked as Promise<string>, failed);
    expect(await failed).toBeInstanceOf(UnknownMessageClassError);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(await service!.ask(new Echo('still fine'))).toBe('still fine');
  });

  test('a keyed message (a sharded entity\'s) for a path no handler here takes is a dead letter; a keyed ask fails at once', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    const deadLetters: DeadLetter[] = [];
    a.system.events.subscribe(DeadLetter, (d) => deadLetters.push(d));
    const region = b.system.remote.remoteRef('a', a.system.address, '/system/sharding-nowhere');
    const tell = new KeyedHeader(EnvelopeKind.KEYED_TELL, region.actorPath, 'alice', 7, 12345);
    await b.system.remote.tellKeyed(region, tell, 'alice', 1, new Echo('lost?'));
    await waitUntil('a publishes the dead letter', () => deadLetters.length === 1);
    expect(deadLetters[0]).toMatchObject({ recipient: '/system/sharding-nowhere/alice', reason: 'unroutable' });
    expect(deadLetters[0]?.message).toEqual(new Echo('lost?'));

    const ask = new KeyedHeader(EnvelopeKind.KEYED_ASK, region.actorPath, 'alice', 7, 12345);
    const started = Date.now();
    await expect(b.system.remote.askKeyed(region, ask, 'alice', 2, new Echo('x'), 5_000, () => undefined))
      .rejects.toThrow(/No handler on this node takes keyed messages for \/system\/sharding-nowhere/);
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  test('a malformed frame is dropped and logged; nothing else on the connection is lost', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await a.system.spawn(Service, { name: 'service' });
    const deadLetters: DeadLetter[] = [];
    a.system.events.subscribe(DeadLetter, (d) => deadLetters.push(d));

    b.transport.send(a.system.address, ProtocolId.ACTOR, Uint8Array.from([0xff, 1, 2]));
    const badBody = Buffer.concat([encodeHeader([EnvelopeKind.TELL, '/user/service']), Buffer.from([0xc1])]);
    b.transport.send(a.system.address, ProtocolId.ACTOR, badBody);
    const service = await b.system.lookup<Echo<string>>('service');
    expect(await service!.ask(new Echo('after the garbage'))).toBe('after the garbage');

    await waitUntil('a logged the bad frame', () => a.logger.entries.some((e) => e.message.includes('not a remote messaging envelope')));
    expect(deadLetters.map((d) => (d.message as UndecodableMessage).error)).toEqual([expect.any(MalformedMessageError)]);
  });
});
