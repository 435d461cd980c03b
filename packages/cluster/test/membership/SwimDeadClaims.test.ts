// A node without quorum declares a suspect dead only when a quorum of members suspects it (split-brain protection,
// MemberRules). Members that hold the suspect dead already send no suspicions of it, so two things make sure such a
// node learns what they know: a ping-req for a member the asked node holds dead is answered with its dead claim,
// and a dead claim at an incarnation older than the one known (its sender never heard the refutation) counts as one
// more member suspecting it. Without them, a member of a majority that lost quorum for a moment (another member of
// it was stopped) stayed without quorum until the partition healed, while the other two regained it.

import { ProtocolId } from '../../src/transport/frame';
import { decodeFrame, encodeFrame, encodeMessage, encodePushPull, SwimKind } from '../../src/membership/messages';
import type { SwimMessage } from '../../src/membership/messages';
import { SwimSim } from './SwimSim';

/** A bare transport on the simulated network that joins through `via` and answers its pings; records what it gets. */
async function bareMember(sim: SwimSim, id: string, via: string) {
  const transport = sim.network.createTransport({ nodeId: id });
  const address = await transport.start();
  const seen: SwimMessage[] = [];
  transport.onFrame(ProtocolId.SWIM, (_from, payload) => {
    const messages = decodeFrame(payload);
    seen.push(...messages);
    const [first] = messages;
    if (first?.kind === SwimKind.PING) transport.send(via, ProtocolId.SWIM, encodeFrame(encodeMessage({ kind: SwimKind.ACK, seq: first.seq }), []));
  });
  for (const part of encodePushPull(true, true, [{ id, address, incarnation: 0, state: 'alive' }], 1400)) {
    transport.send(sim.node(via).transport.boundAddress, ProtocolId.SWIM, part);
  }
  await sim.until(`${via} knows ${id}`, () => sim.view(via, id) === 'alive@0', 5_000);
  const send = (message: SwimMessage) => transport.send(via, ProtocolId.SWIM, encodeFrame(encodeMessage(message), []));
  return { transport, address, seen, send };
}

test('a ping-req for a member the asked node holds dead is answered with its dead claim (seed 61)', async () => {
  const sim = new SwimSim(61);
  const a = await sim.add('a');
  const d = await sim.add('d');
  await sim.until('a and d see each other', () => sim.converged(), 10_000);
  const x = await bareMember(sim, 'x', 'a');
  await sim.crash('d');
  await sim.until('a holds d dead', () => sim.view('a', 'd').startsWith('dead'), 30_000);
  // its gossip of d's death is spent after a few retransmits: from then on x hears of it only by asking
  await sim.holds('a keeps d dead', () => sim.view('a', 'd').startsWith('dead'), 10_000);
  x.seen.length = 0;
  await sim.holds('no gossip of d any more', () => !x.seen.some((m) => 'id' in m && m.id === 'd'), 2_000);
  x.send({ kind: SwimKind.PING_REQ, seq: 77, target: 'd', targetAddress: d.transport.boundAddress, wantNack: true });
  await sim.until('x is told', () => x.seen.some((m) => m.kind === SwimKind.DEAD && m.id === 'd'), 2_000);
  expect(x.seen.find((m) => m.kind === SwimKind.DEAD && m.id === 'd')).toEqual({ kind: SwimKind.DEAD, id: 'd', incarnation: 0, from: 'a' });
  expect(x.seen.some((m) => m.kind === SwimKind.NACK && m.seq === 77)).toBe(true); // the nack as before
  expect(a.swim.incarnation).toBe(0);
  sim.stopAll();
  await x.transport.close();
});

test('without quorum, dead claims older than the incarnation known count as suspicions: a quorum of them declares the member dead (seed 62)', async () => {
  const sim = new SwimSim(62);
  const a = await sim.add('a');
  await sim.add('d', { incarnation: 1 }); // refuted once: a knows it at 1, the others below still hold it dead at 0
  await sim.until('a sees d alive@1', () => sim.view('a', 'd') === 'alive@1', 10_000);
  const x = await bareMember(sim, 'x', 'a');
  const y = await bareMember(sim, 'y', 'a');
  a.swim.gateOnQuorum(() => false, (suspecting) => suspecting.size >= 3); // no quorum; 3 suspecters make a quorum
  await sim.crash('d');
  await sim.until('a suspects d', () => sim.view('a', 'd') === 'suspect@1', 10_000);
  await sim.holds('alone, a keeps d suspect', () => sim.view('a', 'd') === 'suspect@1', 10_000);
  x.send({ kind: SwimKind.DEAD, id: 'd', incarnation: 0, from: 'x' });
  await sim.holds('one more is not a quorum', () => sim.view('a', 'd') === 'suspect@1', 3_000);
  y.send({ kind: SwimKind.DEAD, id: 'd', incarnation: 0, from: 'y' });
  // looked at again each probe interval with who suspects it: a, x, y
  await sim.until('a declares d dead', () => sim.view('a', 'd') === 'dead@1', 3_000);
  sim.stopAll();
  await x.transport.close();
  await y.transport.close();
});
