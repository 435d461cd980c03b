// The in-memory network: asynchronous ordered delivery, peer events, and the faults it injects on command
// (drop with a seeded random source, delay on a ManualClock, partition and heal).

import { TransportClosedError, UnknownPeerError } from '@casty/cluster';
import { ProtocolId } from '@casty/cluster/internal';
import type { Transport } from '@casty/cluster';
import type { PeerInfo } from '@casty/cluster/internal';
import { InMemoryNetwork, seededRandom } from '@casty/cluster/testing';
import type { InMemoryTransport } from '@casty/cluster/testing';
import { flushMicrotasks, ManualClock } from '@casty/core/testing';

function received(t: Transport): string[] {
  const texts: string[] = [];
  t.onFrame(ProtocolId.ACTOR, (from, payload) => texts.push(`${from}:${Buffer.from(payload).toString()}`));
  return texts;
}

async function nodes(network: InMemoryNetwork, ...ids: string[]): Promise<InMemoryTransport[]> {
  const transports = ids.map((nodeId) => network.createTransport({ nodeId }));
  await Promise.all(transports.map((t) => t.start()));
  return transports;
}

const send = (from: Transport, to: string, text: string) => from.send(to, ProtocolId.ACTOR, Buffer.from(text));

test('delivery is asynchronous, never inside send, and ordered per link', async () => {
  const network = new InMemoryNetwork({ clock: new ManualClock() });
  const [a, b] = await nodes(network, 'a', 'b') as [InMemoryTransport, InMemoryTransport];
  const atB = received(b);
  let inside = false;
  a.onFrame(ProtocolId.ACTOR, () => {
    expect(inside).toBe(false);
  });
  inside = true;
  for (let i = 0; i < 100; i++) send(a, 'b', `${i}`);
  send(b, 'a', 'reply');
  inside = false;
  expect(atB).toEqual([]);
  await flushMicrotasks();
  expect(atB).toEqual(Array.from({ length: 100 }, (_, i) => `a:${i}`));
  expect(() => send(a, 'nobody', 'x')).toThrow(UnknownPeerError);
});

test('peer-up when a link opens; peer-down on both sides when a node closes (as TCP: a clean close by the peer); a restart on its port is reachable', async () => {
  const network = new InMemoryNetwork({ clock: new ManualClock() });
  const [a, b] = await nodes(network, 'a', 'b') as [InMemoryTransport, InMemoryTransport];
  const events: string[] = [];
  a.onPeerUp((p: PeerInfo) => events.push(`up ${p.nodeId} ${p.direction}`));
  a.onPeerDown((p: PeerInfo, reason) => events.push(`down ${p.nodeId} ${p.direction} ${reason.name}`));
  a.connect(b.address);
  send(b, 'a', 'hi');
  await flushMicrotasks();
  expect(events).toEqual(['up b outbound', 'up b inbound']);
  const port = b.address.port;
  await b.close();
  expect(() => send(b, 'a', 'x')).toThrow(TransportClosedError);
  await flushMicrotasks();
  expect(events.slice(2).sort()).toEqual(['down b inbound ConnectionLostError', 'down b outbound ConnectionLostError']);

  send(a, 'b', 'lost while b is down');
  const b2 = network.createTransport({ nodeId: 'b', port });
  await b2.start();
  const atB2 = received(b2);
  send(a, 'b', 'after restart');
  await flushMicrotasks();
  expect(atB2).toEqual(['a:after restart']);
  expect(network.stats().dropped).toBe(1);
});

test('drop: all, or a probability drawn from the seeded random source (the same each run)', async () => {
  const run = async (seed: number) => {
    const network = new InMemoryNetwork({ clock: new ManualClock(), random: seededRandom(seed) });
    const [a, b] = await nodes(network, 'a', 'b') as [InMemoryTransport, InMemoryTransport];
    const atB = received(b);
    network.setFaults({ dropProbability: 0.3 }, { from: 'a', to: 'b' });
    for (let i = 0; i < 1000; i++) send(a, 'b', `${i}`);
    await flushMicrotasks();
    return atB;
  };
  const first = await run(7);
  expect(first.length).toBeGreaterThan(600);
  expect(first.length).toBeLessThan(800);
  expect(await run(7)).toEqual(first);
  // Survivors keep their order.
  const numbers = first.map((t) => Number(t.slice(2)));
  expect([...numbers].sort((x, y) => x - y)).toEqual(numbers);

  const network = new InMemoryNetwork({ clock: new ManualClock() });
  const [a, b] = await nodes(network, 'a', 'b') as [InMemoryTransport, InMemoryTransport];
  const atA = received(a);
  const atB = received(b);
  network.setFaults({ dropProbability: 1 }, { to: 'b' });
  send(a, 'b', 'dropped');
  send(b, 'a', 'delivered');
  await flushMicrotasks();
  expect(atB).toEqual([]);
  expect(atA).toEqual(['b:delivered']);
  network.clearFaults();
  send(a, 'b', 'back');
  await flushMicrotasks();
  expect(atB).toEqual(['a:back']);
});

test('delay per link runs on the ManualClock and keeps order; jitter reorders on purpose', async () => {
  const clock = new ManualClock();
  const network = new InMemoryNetwork({ clock, random: seededRandom(1) });
  const [a, b, c] = await nodes(network, 'a', 'b', 'c') as [InMemoryTransport, InMemoryTransport, InMemoryTransport];
  const atB = received(b);
  const atC = received(c);
  network.setFaults({ delayMs: 100 }, { from: 'a', to: 'b' });
  send(a, 'b', 'slow-1');
  send(a, 'c', 'fast');
  await clock.advance(50);
  network.setFaults({ delayMs: 10 }, { from: 'a', to: 'b' });
  send(a, 'b', 'slow-2'); // due at 60, but must not overtake slow-1 (due at 100)
  await clock.advance(49);
  expect(atC).toEqual(['a:fast']);
  expect(atB).toEqual([]);
  await clock.advance(1);
  expect(atB).toEqual(['a:slow-1', 'a:slow-2']);

  network.setFaults({ delayMs: 0, jitterMs: 1000 }, { from: 'a', to: 'b' });
  for (let i = 0; i < 50; i++) send(a, 'b', `${i}`);
  await clock.advance(1000);
  const jittered = atB.slice(2);
  expect(jittered).toHaveLength(50);
  expect(jittered).not.toEqual(Array.from({ length: 50 }, (_, i) => `a:${i}`));
});

test('partition cuts links between groups both ways (frames in flight too) until heal', async () => {
  const clock = new ManualClock();
  const network = new InMemoryNetwork({ clock });
  const [a, b, c] = await nodes(network, 'a', 'b', 'c') as [InMemoryTransport, InMemoryTransport, InMemoryTransport];
  const atA = received(a);
  const atB = received(b);
  const atC = received(c);
  const downs: string[] = [];
  a.onPeerDown((p) => downs.push(p.nodeId));
  network.setFaults({ delayMs: 10 });
  send(a, 'c', 'in flight');
  network.partition(['a', 'b'], ['c']);
  send(a, 'b', 'same side');
  send(a, 'c', 'cut');
  send(c, 'a', 'cut back');
  await clock.advance(10);
  expect(atB).toEqual(['a:same side']);
  expect(atC).toEqual([]);
  expect(atA).toEqual([]);
  expect(network.canReach('a', 'c')).toBe(false);
  expect(downs).toEqual([]); // silent, like a real partition

  network.heal();
  send(a, 'c', 'healed');
  send(c, 'a', 'healed back');
  await clock.advance(10);
  expect(atC).toEqual(['a:healed']);
  expect(atA).toEqual(['c:healed back']);
  expect(network.stats()).toEqual({ delivered: 3, dropped: 3 }); // in flight, cut, cut back
});

test('deliverOnClock: frames arrive on turns of the ManualClock, so advanceSync delivers them without yielding', async () => {
  const clock = new ManualClock();
  const network = new InMemoryNetwork({ clock, deliverOnClock: true });
  const [a, b] = await nodes(network, 'a', 'b') as [InMemoryTransport, InMemoryTransport];
  const atA = received(a);
  const atB = received(b);
  const ups: string[] = [];
  b.onPeerUp((p) => ups.push(`${p.nodeId} ${p.direction}`));
  // b answers every frame at once: the answer must not run inside a's send, and must arrive in order.
  b.onFrame(ProtocolId.SWIM, (from, payload) => b.send(from, ProtocolId.ACTOR, payload));
  for (let i = 0; i < 3; i++) send(a, 'b', `${i}`);
  a.send('b', ProtocolId.SWIM, Buffer.from('echo'));
  expect(atB).toEqual([]);
  clock.advanceSync(0);
  expect(atB).toEqual(['a:0', 'a:1', 'a:2']);
  expect(atA).toEqual(['b:echo']);
  expect(ups).toEqual(['a inbound', 'a outbound']);
  // Delays still run on the clock, and nothing arrives before its time.
  network.setFaults({ delayMs: 30 });
  send(a, 'b', 'late');
  clock.advanceSync(29);
  expect(atB).toHaveLength(3);
  clock.advanceSync(1);
  expect(atB.slice(3)).toEqual(['a:late']);
});
