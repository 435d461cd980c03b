// Bad input from an authenticated peer: thousands of malformed remote-messaging frames (random bytes, valid
// headers with garbage bodies, truncated headers, asks nobody waits for) thrown at a live node over real TCP.
// The node logs them, keeps its memory bounded and keeps serving. Also: a message that cannot cross the wire
// fails at the remote send, naming the class and the fix.

import { MessageEncodingError } from '@casty/core';
import { EnvelopeKind, ProtocolId } from '@casty/cluster/internal';
import { seededRandom } from '@casty/cluster/testing';
import { encodeHeader } from '../../src/remote/envelope';
import { Echo, Service } from './actors';
import { TestNodes } from './nodes';

class NotOnTheWire { constructor(readonly secret: string) {} }

describe('remote messaging under bad input (tcp)', () => {
  let nodes: TestNodes;
  beforeEach(() => { nodes = new TestNodes('tcp'); });
  afterEach(() => nodes.shutdown());

  test('5,000 malformed frames from a connected peer are dropped; the node keeps serving with bounded memory', async () => {
    const [a, b, c] = await nodes.cluster('a', 'b', 'c');
    await a.system.spawn(Service, { name: 'service' });
    const fromB = (await b.system.lookup<Echo<string>>('service'))!;
    const fromC = (await c.system.lookup<Echo<string>>('service'))!;
    expect(await fromB.ask(new Echo('before'))).toBe('before');

    const random = seededRandom(7);
    const int = (n: number): number => Math.floor(random() * n);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
    const generators: Array<() => Uint8Array> = [
      () => bytes(1 + int(300)),                                                          // random
      () => Buffer.concat([encodeHeader([EnvelopeKind.TELL, '/user/service']), bytes(int(200))]),
      () => Buffer.concat([encodeHeader([EnvelopeKind.ASK, int(1_000_000), '/user/service', 1_000]), bytes(int(200))]),
      () => Buffer.concat([encodeHeader([EnvelopeKind.REPLY_OK, int(1_000_000)]), bytes(int(50))]),  // unasked reply
      () => encodeHeader([EnvelopeKind.TELL, '/user/service']).subarray(0, 1 + int(10)),          // truncated header
      () => Buffer.concat([Buffer.from([200 + int(56)]), bytes(int(100))]),                      // unknown kind
    ];
    const heapBefore = process.memoryUsage().heapUsed;
    const total = 5_000;
    for (let i = 0; i < total; i++) {
      // To node a by id: the connection b's refs to a use, so the asks below come after these frames.
      b.transport.send({ nodeId: 'a', address: a.system.address }, ProtocolId.ACTOR, generators[int(generators.length)]!());
      if (i % 500 === 499) expect(await fromC.ask(new Echo(`during ${i}`))).toBe(`during ${i}`); // others still served
    }
    // frames from one peer arrive in order, so this answer comes after every bad frame was handled
    expect(await fromB.ask(new Echo('after'))).toBe('after');
    expect(await fromC.ask(new Echo('after, from c'))).toBe('after, from c');
    expect(a.logger.entries.length).toBeGreaterThan(total / 10); // each one traced (at debug past the first)...
    // ...but a peer sending garbage cannot flood the log: one warning per node per 10 s.
    expect(a.logger.entries.filter((e) => e.level === 'warn' && /node 'b'/.test(e.message)).length).toBeLessThanOrEqual(2);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect(a.system.members().map((m) => m.nodeId).sort()).toEqual(['a', 'b', 'c']);
  });

  test('a message that cannot cross the wire fails at the remote send, naming the class and the fix', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await a.system.spawn(Service, { name: 'service' });
    const remote = (await b.system.lookup<Echo<unknown>>('service'))!;
    const sending = remote.send(new Echo(new NotOnTheWire('x')));
    await expect(sending).rejects.toBeInstanceOf(MessageEncodingError);
    await expect(sending).rejects.toThrow(/NotOnTheWire is not registered for the wire; decorate it with @message/);
    await expect(remote.ask(new Echo(new NotOnTheWire('y')))).rejects.toBeInstanceOf(MessageEncodingError);
    expect(await remote.ask(new Echo('still fine'))).toBe('still fine');
  });
});
