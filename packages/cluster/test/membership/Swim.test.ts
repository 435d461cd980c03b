// The SWIM engine end to end on a simulated network: joining and convergence, crash detection within the
// suspicion bound, refutation (buddy system), no false positives under packet loss, graceful leave, rejoin
// after a restart, and duplicate ids. Every run is seeded; a failure prints its seed and every node's view.

import { ProtocolId } from '../../src/transport/frame';
import { decodeFrame, encodeFrame, encodeMessage, encodePushPull, SwimKind } from '../../src/membership/messages';
import type { SwimMessage } from '../../src/membership/messages';
import { Swim } from '../../src/membership/Swim';
import { SwimConfig } from '../../src/membership/SwimConfig';
import { seededRandom } from '../../src/testing/seededRandom';
import { suspicionTimeout } from '../../src/membership/suspicion';
import { SwimSim } from './SwimSim';

const config = SwimConfig.production();
/** The longest a suspicion can last in a cluster of n: the maximum suspicion timeout (no confirmations). */
const maxSuspicionMs = (n: number) => config.suspicionMaxTimeoutMult * suspicionTimeout(config.suspicionMult, n, config.probeIntervalMs);

const downEvents = (sim: SwimSim) =>
  [...sim.nodes.values()].flatMap((n) => n.events.filter((e) => e.type === 'down').map((e) => `${n.id} saw ${'member' in e ? e.member.id : ''} down`));

test.each([[5, 1], [50, 2]])('%i nodes join through one seed and converge, every frame under its limit (seed %i)', async (count, seed) => {
  // Small limits, so that 50 members' updates do not fit one probe and their list does not fit one push-pull part.
  const sim = new SwimSim(seed, { config: config.with({ maxPacketBytes: 512, pushPullChunkBytes: 1024 }) });
  await sim.addMany(count);
  await sim.until('converged', () => sim.converged(), 60_000, 200);
  for (const n of sim.nodes.values()) expect(n.swim.isJoined).toBe(true);
  expect(downEvents(sim)).toEqual([]);
  expect(sim.largest.probe).toBeLessThanOrEqual(512);
  expect(sim.largest.pushPull).toBeLessThanOrEqual(1024);
  sim.stopAll();
});

test('a node opens its control lane to each member as it learns of it, before any probe needs it', async () => {
  const sim = new SwimSim(12);
  const nodes = await sim.addMany(4);
  await sim.until('converged', () => sim.converged(), 30_000);
  for (const n of nodes) {
    const others = nodes.filter((o) => o !== n).map((o) => `${o.id} control`).sort();
    expect([...n.transport.opened].sort()).toEqual(others);
  }
  sim.stopAll();
});

test.each([['crashed', 3], ['partitioned away', 4]])('a %s node is suspected, then declared dead by all within the bound (seed %i)', async (how, seed) => {
  const sim = new SwimSim(seed);
  await sim.addMany(6);
  await sim.until('converged', () => sim.converged(), 30_000);
  if (how === 'crashed') await sim.crash('n3');
  else sim.network.partition(['n3'], sim.others('n3').map((n) => n.id));
  const survivors = sim.others('n3');
  // Bound: every survivor probes n3 within one round (n - 1 periods, Lifeguard may stretch them), then the
  // suspicion runs at most its maximum, then the death spreads.
  const bound = (6 - 1) * config.probeIntervalMs * 2 + maxSuspicionMs(6) + 5_000;
  const took = await sim.until('n3 dead for all', () => survivors.every((n) => sim.view(n.id, 'n3').startsWith('dead')), bound);
  // Independent confirmations (Lifeguard) bring the suspicion down to its minimum: dead within about one
  // round plus the minimum timeout, far under the lone-suspicion maximum of 24 s.
  const minSuspicionMs = suspicionTimeout(config.suspicionMult, 6, config.probeIntervalMs);
  expect(took).toBeLessThanOrEqual((6 - 1) * config.probeIntervalMs + minSuspicionMs + 2_000);
  for (const n of survivors) {
    const seen = n.events.filter((e) => 'member' in e && e.member.id === 'n3').map((e) => e.type);
    expect(seen.slice(-1)).toEqual(['down']);
  }
  // No survivor was taken for failed along the way.
  expect(downEvents(sim).filter((d) => !d.endsWith('n3 down'))).toEqual([]);
  sim.stopAll();
});

test('a suspected node that is alive refutes with a higher incarnation and stays alive (seed 5)', async () => {
  const sim = new SwimSim(5);
  await sim.addMany(5);
  await sim.until('converged', () => sim.converged(), 30_000);
  // n2 hears nothing for a while (its inbound link is lossy), so its probers suspect it; then the network heals.
  sim.network.setFaults({ dropProbability: 1 }, { to: 'n2' });
  await sim.until('n2 suspected by someone', () => sim.others('n2').some((n) => sim.view(n.id, 'n2').startsWith('suspect')), 20_000);
  sim.network.setFaults({ delayMs: 2 }, { to: 'n2' });
  await sim.until('n2 alive again for all', () => sim.others('n2').every((n) => sim.view(n.id, 'n2') === `alive@${sim.node('n2').swim.incarnation}`), 20_000);
  expect(sim.node('n2').swim.incarnation).toBeGreaterThan(0);
  expect(sim.others('n2').some((n) => n.events.some((e) => e.type === 'alive' && e.member.id === 'n2'))).toBe(true);
  expect(downEvents(sim)).toEqual([]);
  sim.stopAll();
});

test('the buddy system: a probe to a suspect carries the suspicion, and its ack carries the refutation (seed 6)', async () => {
  const sim = new SwimSim(6);
  const a = await sim.add('a');
  // b is a bare transport that speaks SWIM by hand: it joins, then stays silent until it is suspected.
  const b = sim.network.createTransport({ nodeId: 'b' });
  const bAddress = await b.start();
  const seen: SwimMessage[][] = [];
  let answer = false;
  b.onFrame(ProtocolId.SWIM, (_from, payload) => {
    const messages = decodeFrame(payload);
    seen.push(messages);
    const [first] = messages;
    if (answer && first?.kind === SwimKind.PING) {
      const refute = encodeMessage({ kind: SwimKind.ALIVE, id: 'b', address: bAddress, incarnation: 1 });
      b.send('a', ProtocolId.SWIM, encodeFrame(encodeMessage({ kind: SwimKind.ACK, seq: first.seq }), [refute]));
    }
  });
  for (const part of encodePushPull(true, true, [{ id: 'b', address: bAddress, incarnation: 0, state: 'alive' }], 1400)) {
    b.send(a.transport.boundAddress, ProtocolId.SWIM, part);
  }
  await sim.until('a suspects b', () => sim.view('a', 'b') === 'suspect@0', 10_000);
  const before = seen.length;
  answer = true;
  await sim.until('b alive@1 at a', () => sim.view('a', 'b') === 'alive@1', 5_000);
  const pingToSuspect = seen.slice(before).find((m) => m[0]?.kind === SwimKind.PING);
  expect(pingToSuspect?.some((m) => m.kind === SwimKind.SUSPECT && m.id === 'b' && m.from === 'a')).toBe(true);
  expect(a.events.map((e) => e.type)).toEqual(['joined', 'up', 'suspect', 'alive']);
  sim.stopAll();
  await b.close();
});

test('10% packet loss on every link: Lifeguard keeps every live node alive, no false positives (seed 7)', async () => {
  const sim = new SwimSim(7);
  await sim.addMany(12);
  await sim.until('converged', () => sim.converged(), 30_000);
  sim.network.setFaults({ dropProbability: 0.1, delayMs: 2 });
  await sim.holds('nobody declared dead', () => downEvents(sim).length === 0, 180_000, 500);
  // The loss did cause suspicions (the test is not vacuous); every one was refuted in time.
  const suspicions = [...sim.nodes.values()].flatMap((n) => n.events.filter((e) => e.type === 'suspect'));
  expect(suspicions.length).toBeGreaterThan(0);
  expect(Math.max(...[...sim.nodes.values()].map((n) => n.swim.incarnation))).toBeGreaterThan(0);
  sim.network.setFaults({ delayMs: 2 });
  await sim.until('converged after the loss', () => sim.converged(), 30_000);
  sim.stopAll();
});

test('a graceful leave is seen as left, never dead, by all (seed 8)', async () => {
  const sim = new SwimSim(8);
  await sim.addMany(5);
  await sim.until('converged', () => sim.converged(), 30_000);
  const leaving = sim.node('n2');
  let done = false;
  leaving.swim.leave().then(() => { done = true; }, (err: unknown) => { throw err; });
  const others = sim.others('n2');
  await sim.until('n2 left for all', () => others.every((n) => sim.view(n.id, 'n2').startsWith('left')), 10_000);
  await sim.until('leave() resolved', () => done, config.leavePropagationMs + 1_000);
  await leaving.transport.close();
  await sim.holds('n2 stays left', () => others.every((n) => sim.view(n.id, 'n2').startsWith('left')), 20_000, 1_000);
  expect(downEvents(sim)).toEqual([]);
  for (const n of others) expect(n.events.filter((e) => 'member' in e && e.member.id === 'n2').map((e) => e.type)).toEqual(['up', 'left']);
  sim.stopAll();
});

test('a restarted node with the same id rejoins with a higher incarnation (seed 9)', async () => {
  const sim = new SwimSim(9);
  await sim.addMany(5);
  await sim.until('converged', () => sim.converged(), 30_000);
  const port = sim.node('n4').transport.boundAddress.port;
  await sim.crash('n4');
  await sim.until('n4 dead for all', () => sim.others().every((n) => sim.view(n.id, 'n4').startsWith('dead')), 60_000);
  const restarted = await sim.add('n4', { port, seeds: [sim.node('n1').transport.boundAddress] });
  await sim.until('converged with n4 back', () => sim.converged(), 30_000);
  expect(restarted.swim.incarnation).toBeGreaterThan(0);
  for (const n of sim.others('n4')) {
    expect(sim.view(n.id, 'n4')).toBe(`alive@${restarted.swim.incarnation}`);
    expect(n.events.filter((e) => 'member' in e && e.member.id === 'n4').map((e) => e.type).slice(-2)).toEqual(['down', 'up']);
  }
  sim.stopAll();
});

test('two nodes claiming one id: a clear conflict, and the first keeps it (seed 10)', async () => {
  const sim = new SwimSim(10);
  await sim.addMany(3);
  await sim.until('converged', () => sim.converged(), 30_000);
  const original = sim.node('n1').transport.boundAddress;
  const impostor = sim.network.createTransport({ nodeId: 'n1' });
  await impostor.start();
  const conflicts: string[] = [];
  const swim = new Swim({ transport: impostor, clock: sim.clock, random: seededRandom(99), config, logger: sim.logger,
    self: { id: 'n1', address: impostor.boundAddress }, seeds: [sim.node('n0').transport.boundAddress] });
  swim.on((e) => { if (e.type === 'conflict') conflicts.push(e.error.message); });
  sim.node('n0').swim.on((e) => { if (e.type === 'conflict') conflicts.push(`n0: ${e.error.code} ${e.error.message}`); });
  swim.start();
  await sim.clock.advance(5_000);
  expect(conflicts.some((c) => c.startsWith("n0: MEMBER_ID_CONFLICT Node id 'n1' is claimed by in-memory:"))).toBe(true);
  expect(conflicts.some((c) => !c.startsWith('n0:'))).toBe(true);
  expect(sim.node('n0').swim.member('n1')?.address).toEqual(original);
  swim.stop();
  sim.stopAll();
});

test('leave() returns once the announcement has been sent its retransmit count, well before leavePropagationMs (seed 41)', async () => {
  const sim = new SwimSim(41);
  await sim.addMany(5);
  await sim.until('converged', () => sim.converged(), 30_000);
  const start = sim.clock.now();
  let tookMs = -1;
  void sim.node('n2').swim.leave().then(() => (tookMs = sim.clock.now() - start));
  await sim.until('leave() returned', () => tookMs >= 0, config.leavePropagationMs + 1_000, 50);
  expect(tookMs).toBeLessThan(config.leavePropagationMs);
  await sim.until('all saw n2 leave', () => sim.others('n2').every((n) => sim.view(n.id, 'n2').startsWith('left')), 5_000, 50);
  expect(downEvents(sim)).toEqual([]);
  sim.stopAll();
});

test('a lone node leaves at once', async () => {
  const sim = new SwimSim(42);
  await sim.add('solo');
  let done = false;
  void sim.node('solo').swim.leave().then(() => (done = true));
  await sim.clock.advance(0);
  expect(done).toBe(true);
  sim.stopAll();
});
