// The Gossip engine over simulated SWIM clusters: writes on 20 nodes converge everywhere, pattern
// subscriptions fire for matching keys only, deletes spread and their tombstones expire, concurrent writes
// settle on one value everywhere, push-pull repairs what a partition made the epidemic miss, and every
// frame stays under the size limit. Seeded; a failure prints the seed and the cluster's views.

import { Gossip } from '../../src/gossip/Gossip';
import { GossipConfig } from '../../src/gossip/GossipConfig';
import type { GossipChange } from '../../src/gossip/patterns';
import { ProtocolId } from '../../src/transport/frame';
import { seededRandom } from '../../src/testing/seededRandom';
import { SwimSim } from '../membership/SwimSim';

const text = (s: string) => Buffer.from(s);
const read = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString());

async function cluster(seed: number, count: number, config = GossipConfig.production()) {
  const sim = new SwimSim(seed);
  const gossips = new Map<string, Gossip>();
  let largestFrame = 0;
  for (const node of await sim.addMany(count)) {
    const send = node.transport.send.bind(node.transport);
    node.transport.send = (to, protocol, payload) => {
      if (protocol === ProtocolId.GOSSIP) largestFrame = Math.max(largestFrame, payload.length);
      send(to, protocol, payload);
    };
    const gossip = new Gossip({ transport: node.transport, clock: sim.clock, random: seededRandom(seed * 31 + gossips.size),
      config, selfId: node.id, membership: node.swim, logger: sim.logger });
    gossip.start();
    gossips.set(node.id, gossip);
  }
  await sim.until('SWIM converged', () => sim.converged(), 60_000);
  const all = [...gossips.values()];
  /** Every node reads `expected` for every key in it (undefined: absent or deleted). */
  const agree = (expected: Record<string, string | undefined>) =>
    all.every((g) => Object.entries(expected).every(([k, v]) => read(g.get(k)) === v));
  const describe = () => `${sim.describe()}\n` + [...gossips].map(([id, g]) => `${id}: ${g.keys().sort().join(' ')}`).join('\n');
  const until = async (what: string, predicate: () => boolean, withinMs: number) => {
    try {
      await sim.until(what, predicate, withinMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${describe()}`);
    }
  };
  const stop = () => {
    for (const g of all) g.stop();
    sim.stopAll();
  };
  return { sim, gossips, all, agree, until, stop, largest: () => largestFrame };
}

test('writes on 20 nodes converge everywhere; actors/* subscriptions fire for matching keys only (seed 21)', async () => {
  const config = GossipConfig.production({ tombstoneTtlMs: 20_000 });
  const c = await cluster(21, 20, config);
  const seen: GossipChange[] = [];
  c.gossips.get('n7')?.subscribe('actors/*', (change) => seen.push(change));
  const expected: Record<string, string> = {};
  for (const [id, g] of c.gossips) {
    g.set(`actors/${id}`, text(`on ${id}`));
    g.set(`config/${id}/x`, text('not an actor'));
    expected[`actors/${id}`] = `on ${id}`;
    expected[`config/${id}/x`] = 'not an actor';
  }
  await c.until('all 40 keys everywhere', () => c.agree(expected), 10_000);
  expect(seen.map((s) => s.key).sort()).toEqual(Object.keys(expected).filter((k) => k.startsWith('actors/')).sort());
  expect(seen.find((s) => s.key === 'actors/n7')?.origin).toBe('local');
  expect(seen.find((s) => s.key === 'actors/n3')).toMatchObject({ origin: 'remote', writer: 'n3', value: text('on n3') });

  // A delete spreads; subscribers hear it; tombstones are forgotten after their time-to-live.
  c.gossips.get('n3')?.delete('actors/n3');
  await c.until('actors/n3 deleted everywhere', () => c.agree({ 'actors/n3': undefined }), 10_000);
  expect(seen.at(-1)).toMatchObject({ key: 'actors/n3', value: undefined });
  expect(c.all.every((g) => g.entries().some((e) => e.key === 'actors/n3'))).toBe(true); // still a tombstone
  await c.sim.clock.advance(config.tombstoneTtlMs + 2 * config.pushPullIntervalMs);
  expect(c.all.filter((g) => g.entries().some((e) => e.key === 'actors/n3')).length).toBe(0);
  expect(c.agree({ 'actors/n4': 'on n4' })).toBe(true);
  c.stop();
});

test('concurrent writes of one key settle on the same value everywhere (seed 22)', async () => {
  const c = await cluster(22, 6);
  c.gossips.get('n1')?.set('singleton/owner', text('n1'));
  c.gossips.get('n4')?.set('singleton/owner', text('n4'));
  c.gossips.get('n2')?.set('singleton/owner', text('n2'));
  // Concurrent: the greatest writer id wins on every node.
  await c.until('one owner everywhere', () => c.agree({ 'singleton/owner': 'n4' }), 10_000);
  // A write that has seen them all replaces them.
  c.gossips.get('n0')?.set('singleton/owner', text('n0 after'));
  await c.until('the later write everywhere', () => c.agree({ 'singleton/owner': 'n0 after' }), 10_000);
  expect(c.all.every((g) => g.entries().find((e) => e.key === 'singleton/owner')?.versions.length === 1)).toBe(true);
  c.stop();
});

test('push-pull anti-entropy alone brings 300 keys to every node, a partitioned one too; frames under 1 KiB (seed 23)', async () => {
  // The epidemic never runs (an hour between rounds): only digests, requests and entries move state.
  const config = GossipConfig.production({ gossipIntervalMs: 3_600_000, maxMessageBytes: 1024, pushPullIntervalMs: 2_000 });
  const c = await cluster(23, 5, config);
  // A partition shorter than SWIM's suspicion timeout, so n4 stays a member.
  c.sim.network.partition(['n4'], ['n0', 'n1', 'n2', 'n3']);
  const expected: Record<string, string> = {};
  for (let i = 0; i < 300; i++) {
    const key = `actors/worker-${String(i).padStart(3, '0')}`;
    c.gossips.get(`n${i % 4}`)?.set(key, text(`node n${i % 4} slot ${i}`));
    expected[key] = `node n${i % 4} slot ${i}`;
  }
  await c.sim.clock.advance(2_000);
  expect(c.gossips.get('n4')?.keys().length).toBe(0);
  c.sim.network.heal();
  await c.until('n4 has all 300 keys', () => c.agree(expected), 30_000);
  expect(c.largest()).toBeLessThanOrEqual(1024);
  c.stop();
});

test('an entry too large for one frame is refused with an error naming the key', async () => {
  const c = await cluster(24, 1, GossipConfig.production({ maxMessageBytes: 512 }));
  const g = c.gossips.get('n0') as Gossip;
  expect(() => g.set('big/blob', new Uint8Array(600))).toThrow(/Gossip entry 'big\/blob' is \d+ bytes; a gossip frame carries at most 509/);
  expect(g.get('big/blob')).toBeUndefined();
  c.stop();
});
