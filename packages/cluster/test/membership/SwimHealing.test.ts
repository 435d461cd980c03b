// What keeps a SWIM cluster whole when things go wrong for longer than the suspicion timeout: a partition
// that outlasts it heals into one cluster (Serf-style reconnects, dead notices, merge-before-answer
// push-pull); a node whose event loop is blocked does not declare healthy nodes dead; and plain SWIM
// (Lifeguard off) uses one fixed suspicion timeout. Every run is seeded; a failure prints each node's view.

import { SwimKind } from '../../src/membership/messages';
import { ProtocolId } from '../../src/transport/frame';
import { SwimConfig } from '../../src/membership/SwimConfig';
import { suspicionTimeout } from '../../src/membership/suspicion';
import { SwimSim } from './SwimSim';

const downs = (sim: SwimSim) =>
  [...sim.nodes.values()].flatMap((n) => n.events.flatMap((e) => (e.type === 'down' ? [`${n.id} saw ${e.member.id} down`] : [])));

test.each([11, 12, 13])('a 3|2 partition longer than the dead timeout heals into one cluster (seed %i)', async (seed) => {
  const config = SwimConfig.development();
  const sim = new SwimSim(seed, { config });
  await sim.addMany(5);
  await sim.until('converged', () => sim.converged(), 20_000);
  const left = ['n0', 'n1', 'n2'];
  const right = ['n3', 'n4'];
  sim.network.partition(left, right);
  const gone = (observer: string, member: string) => /^(dead|unknown)/.test(sim.view(observer, member));
  await sim.until('each side sees the other dead (or has forgotten it)', () =>
    left.every((a) => right.every((b) => gone(a, b) && gone(b, a))), 60_000);
  // Longer still: past the retention time, so some members have forgotten the others entirely.
  await sim.clock.advance(config.deadMemberRetentionMs + 2 * config.probeIntervalMs);
  sim.network.heal();
  const took = await sim.until('one cluster again', () => sim.converged(), 30_000);
  // Reconnect runs every reconnectIntervalMs (1 s in development); a few rounds at most.
  expect(took).toBeLessThan(10 * config.reconnectIntervalMs);
  sim.stopAll();
});

test.each([21, 22])('a node whose event loop is blocked for 3 s does not get healthy nodes declared dead (seed %i)', async (seed) => {
  const sim = new SwimSim(seed);
  await sim.addMany(5);
  await sim.until('converged', () => sim.converged(), 30_000);
  for (const n of sim.nodes.values()) n.events.length = 0;
  // The worst moment: the loop blocks right after n2 sent a ping, so its ack waits unread through the stall.
  const n2 = sim.node('n2');
  const send = n2.transport.send.bind(n2.transport);
  let stalled = false;
  n2.transport.send = (to, protocol, payload) => {
    send(to, protocol, payload);
    if (!stalled && protocol === ProtocolId.SWIM && payload[0] === SwimKind.PING) {
      stalled = true;
      sim.stall('n2', 3_000);
    }
  };
  await sim.until('n2 stalled', () => stalled, 5_000, 10);
  await sim.holds('nobody declared dead', () => downs(sim).length === 0, 60_000);
  expect(sim.converged()).toBe(true);
  // The stalled node knows its probes ended late because it was stalled: it suspected nobody for them.
  expect(sim.node('n2').events.filter((e) => e.type === 'suspect')).toEqual([]);
  sim.stopAll();
});

test.each([[true, 31], [false, 31]])('lifeguard %s: a crashed node is declared dead, plain SWIM after exactly the minimum suspicion timeout', async (lifeguard, seed) => {
  const config = SwimConfig.production({ lifeguard });
  const sim = new SwimSim(seed, { config });
  await sim.addMany(6);
  await sim.until('converged', () => sim.converged(), 30_000);
  await sim.crash('n5');
  const suspectedAt = new Map<string, number>();
  const deadAfter = new Map<string, number>();
  for (const n of sim.nodes.values()) {
    n.swim.on((e) => {
      if (e.type === 'suspect' && e.member.id === 'n5' && !suspectedAt.has(n.id)) suspectedAt.set(n.id, sim.clock.now());
      if (e.type === 'down' && e.member.id === 'n5') deadAfter.set(n.id, sim.clock.now() - (suspectedAt.get(n.id) ?? NaN));
    });
  }
  await sim.until('n5 dead for all', () => sim.others().every((n) => sim.view(n.id, 'n5').startsWith('dead')), 120_000, 50);
  const min = suspicionTimeout(config.suspicionMult, 6, config.probeIntervalMs);
  if (!lifeguard) {
    // Some node's own timer fired: exactly the fixed timeout after it suspected (the others may learn of the
    // death by gossip first).
    expect([...deadAfter.values()].some((d) => Math.abs(d - min) <= 50)).toBe(true);
  }
  for (const d of deadAfter.values()) expect(d).toBeLessThanOrEqual(lifeguard ? config.suspicionMaxTimeoutMult * min : min + 50);
  expect(downs(sim).filter((d) => !d.endsWith('n5 down'))).toEqual([]);
  sim.stopAll();
});

test.each([51, 52, 53, 54, 55, 56])('when every survivor suspects a crashed node at once, the confirmations add up: dead at the minimum timeout (seed %i)', async (seed) => {
  const config = SwimConfig.production();
  const sim = new SwimSim(seed, { config });
  await sim.addMany(6);
  await sim.until('converged', () => sim.converged(), 30_000);
  await sim.crash('n5'); // its connections drop: every survivor probes it out of turn, so all suspect it together
  const took = await sim.until('n5 dead for all', () => sim.others().every((n) => sim.view(n.id, 'n5').startsWith('dead')), 60_000, 50);
  const min = suspicionTimeout(config.suspicionMult, 6, config.probeIntervalMs);
  // One probe period to suspect, the minimum timeout once the 2 confirmations are in, a little to spread.
  expect(took).toBeLessThanOrEqual(config.probeIntervalMs + min + 500);
  sim.stopAll();
});

test.each([1, 2, 3, 4, 5, 6])('a node that missed a refutation and declared the member dead takes it back within a few periods (seed %i)', async (seed) => {
  // n2 stalls 3 s, everyone suspects it; it resumes and refutes, but n1 hears nothing for the next 500 ms,
  // misses the refutation and may declare n2 dead at its old incarnation. n2 answers n1's stale claims with
  // its current alive.
  const config = SwimConfig.production();
  const sim = new SwimSim(seed, { config });
  await sim.addMany(5);
  await sim.until('converged', () => sim.converged(), 30_000);
  sim.stall('n2', 3_000);
  await sim.clock.advance(3_000);
  sim.network.setFaults({ dropProbability: 1, delayMs: 2 }, { to: 'n1' });
  await sim.clock.advance(500);
  sim.network.setFaults({ dropProbability: 0, delayMs: 2 }, { to: 'n1' });
  await sim.until('n1 declares n2 dead or takes it back', () => !sim.view('n1', 'n2').startsWith('suspect'), 60_000);
  const took = await sim.until('n1 sees n2 alive at its own incarnation', () => sim.view('n1', 'n2') === sim.view('n2', 'n2'), 60_000);
  expect(took).toBeLessThan(5 * config.probeIntervalMs);
  sim.stopAll();
});
