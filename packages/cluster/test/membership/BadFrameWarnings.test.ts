// The control lane stays quiet under garbage: a member (or anything that got through the handshake) sending
// malformed SWIM or GOSSIP frames gets one warning per sender per 10 s; the rest go to debug, and the next
// warning counts them. Before, each frame was a warning, so one peer could fill the log.

import { Gossip } from '../../src/gossip/Gossip';
import { GossipConfig } from '../../src/gossip/GossipConfig';
import { ProtocolId } from '../../src/transport/frame';
import { seededRandom } from '../../src/testing/seededRandom';
import { SwimSim } from './SwimSim';

test.each([['SWIM', ProtocolId.SWIM], ['GOSSIP', ProtocolId.GOSSIP]] as const)(
  '100 malformed %s frames from one sender: one warning, then one more after 10 s counting the rest', async (name, protocol) => {
    const sim = new SwimSim(5);
    const [n0] = await sim.addMany(1);
    const gossip = new Gossip({ transport: n0!.transport, clock: sim.clock, random: seededRandom(1),
      config: GossipConfig.production(), selfId: n0!.id, membership: n0!.swim, logger: sim.logger });
    gossip.start();
    const rogue = sim.network.createTransport({ nodeId: 'rogue' });
    await rogue.start();
    const garbage = new Uint8Array([0xff, 0xfe, 0xfd, 0xfc]);
    const dropped = () => sim.logger.entries.filter((e) => e.message.startsWith(`Dropped a ${name} frame from rogue`));
    for (let i = 0; i < 100; i++) rogue.send(n0!.transport.boundAddress, protocol, garbage);
    await sim.until('the 100 frames arrived', () => dropped().length === 100, 5_000);
    expect(dropped().filter((e) => e.level === 'warn')).toHaveLength(1);
    expect(dropped().filter((e) => e.level === 'debug')).toHaveLength(99);
    expect(dropped()[0]!.error).toBeInstanceOf(Error);

    await sim.clock.advance(10_000);
    rogue.send(n0!.transport.boundAddress, protocol, garbage);
    await sim.until('the frame after 10 s arrived', () => dropped().length === 101, 5_000);
    expect(dropped().filter((e) => e.level === 'warn').map((e) => e.message)).toEqual([
      `Dropped a ${name} frame from rogue`,
      `Dropped a ${name} frame from rogue (and 99 more dropped frames from it logged at debug level since the last warning)`,
    ]);
    gossip.stop();
    await rogue.close();
    sim.stopAll();
  });
