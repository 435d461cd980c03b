// A shard region on its own, with a made-up host: a shard this node owns but whose previous holder has not handed
// it over yet buffers its messages, bounded; past the bound an ask fails with a typed error that says why and a
// send is a dead letter; once the hand-off comes, what was buffered is delivered in order. Nothing without a trace.

import { Actor, ActorSystem, captureState, Codec, DeadLetter, message, Request, silentLogger } from '@casty/core';
import { ManualClock, waitUntil } from '@casty/core/testing';
import type { ActorRef, Context } from '@casty/core';
import { ShardUnavailableError } from '@casty/sharding';
import { EntityEnvelope, HandOff, HandOffAck, HandOffDone, HandOffPart, HandOffRequest, MAX_HOPS, QuorumChanged, RingChanged } from '../src/runtime/envelopes';
import type { Placement } from '../src/runtime/Placement';
import { ShardRegion } from '../src/runtime/ShardRegion';
import type { RegionHost } from '../src/runtime/ShardRegion';
import { BulkSends } from '../src/runtime/BulkSends';
import type { RegionReplication, ReplicationHost } from '../src/runtime/ReplicationSeam';

/** A sending process's origin (a random number in a real node). */
const X = 4_242;

@message('test.region.Add') class Add extends Request<number> { constructor(readonly n: number) { super(); } }

class Tally extends Actor<Add> {
  total = 0;
  seen: number[] = [];
  constructor(readonly entityId: string) { super(); }
  override receive(msg: Add, ctx: Context<Add>): void {
    this.seen.push(msg.n);
    ctx.reply((this.total += msg.n));
  }
}

/** Every shard is 'me's; before 'me' joined they were 'old''s (a placement is all a region asks of the ring). */
function manualSystem() {
  const clock = new ManualClock();
  return { system: ActorSystem.create({ clock, logger: silentLogger }), clock };
}

function placement(members: string[]): Placement {
  return {
    members,
    ownerOf: () => members[0],
    shardsOf: (id) => (id === members[0] ? [7] : []),
    without: (id) => placement(members.filter((m) => m !== id)),
    equals: () => false,
    preferenceList: (_shard, n) => members.slice(0, n),
  };
}

async function regionWith(system: ActorSystem, maxBufferedPerShard = 3) {
  const requests: unknown[] = [];
  const oldRegion = { send: (m: unknown) => { requests.push(m); return Promise.resolve(); } } as unknown as ActorRef<unknown>;
  const holder: { ring: Placement | undefined } = { ring: placement(['old']) };
  const region: ActorRef<unknown> = await system.spawn(ShardRegion, { name: 'region', args: [
    { typeName: 'tallies', entityClass: Tally, args: [], singleton: false, passivation: undefined },
    {
      selfId: 'me', logger: silentLogger, events: system.events, maxBufferedPerShard, codec: new Codec(),
      clock: system.clock, maxReplicaBytes: 2 ** 20,
      ring: () => holder.ring, isLive: (id: string) => id === 'old' || id === 'me', liveMembers: () => ['old', 'me'], isReachable: () => true, hasQuorum: () => true, relayReply: () => false,
      regionOn: (id: string) => (id === 'old' ? oldRegion : region), bulk: new BulkSends(system.clock, () => true),
      attach: () => undefined, entityStarted: () => undefined, entityStopped: () => undefined, handOffDone: () => undefined,
      excludeFromRing: () => undefined, shardOf: () => 7, shardCount: 16,
    } satisfies RegionHost] });
  await region.send(new RingChanged()); // the first ring: 'old' alone
  holder.ring = placement(['me', 'old']);
  await region.send(new RingChanged()); // 'me' joined: shard 7 is now 'me''s, awaited from 'old'
  return { region, requests };
}

test('an awaited shard buffers up to its bound; beyond, asks fail with ShardUnavailableError and sends are dead letters; the hand-off then delivers the buffer in order', async () => {
  await using system = ActorSystem.create({ logger: silentLogger });
  const dead: DeadLetter[] = [];
  system.events.subscribe(DeadLetter, (d) => dead.push(d));
  const { region, requests } = await regionWith(system);
  const asks = [1, 2, 3].map((n) => region.ask(['a', 7, new Add(n), X, n], { timeout: 5_000 }) as Promise<number>);
  const overflow = region.ask(['a', 7, new Add(4), X, 4], { timeout: 5_000 });
  await expect(overflow).rejects.toThrow(ShardUnavailableError);
  await expect(overflow).rejects.toThrow(/3 messages are buffered for its shard, which is moving between nodes \(awaiting old\)/);
  await region.send(['a', 7, new Add(5), X, 5]);
  await waitUntil('the overflowing send is a dead letter', () => dead.length === 2);
  expect(dead.map((d) => [d.reason, (d.message as Add).n])).toEqual([['unroutable', 4], ['unroutable', 5]]);
  expect(requests.filter((r) => r instanceof HandOffRequest)).toHaveLength(1);
  // the hand-off comes: entity 'a' with state total 10, then 'old''s stream ends
  const state = new Codec().encode({ total: 10, seen: [] });
  await region.send(new HandOff(7, 1, 'old', [['a', state]], [[X, 1]]));
  await region.send(new HandOffDone(7, 'old'));
  expect(await Promise.all(asks)).toEqual([11, 13, 16]);
});

test('each sender\'s order survives a move: a later message sent straight to the new holder waits for an earlier one the old holder passes on', async () => {
  await using system = ActorSystem.create({ logger: silentLogger });
  const { region } = await regionWith(system, 100);
  const state = new Codec().encode({ total: 0, seen: [] });
  // the old holder delivered x's messages up to 4, so it hands over "x: next is 5"
  await region.send(new HandOff(7, 1, 'old', [['a', state]], [[X, 5]]));
  await region.send(new HandOffDone(7, 'old'));
  const late = region.ask(['a', 7, new Add(6), X, 6]); // sent after the sender learned of the move
  const early = region.ask(['a', 7, new Add(5), X, 5, 1, 'old']); // sent before, passed on by the old holder
  expect(await Promise.all([early, late])).toEqual([5, 11]);
  const seen = await region.ask(['a', 7, new Add(0), X, 7]);
  expect(seen).toBe(11);
});

test('a message that waits for an earlier one of its sender that never comes is delivered after a second', async () => {
  const { system, clock } = manualSystem();
  await using _ = system;
  const { region } = await regionWith(system, 100);
  await region.send(new HandOff(7, 1, 'old', [['a', new Codec().encode({ total: 0, seen: [] })]], [[X, 1]]));
  await region.send(new HandOffDone(7, 'old'));
  const asked = region.ask(['a', 7, new Add(3), X, 3], { timeout: 60_000 }); // 1 and 2 were lost (a crash)
  let settled = false;
  void asked.then(() => { settled = true; });
  await clock.advance(500);
  expect(settled).toBe(false);
  await clock.advance(1_600);
  expect(await asked).toBe(3);
});

/**
 * A region whose ring gives shard 7 to 'far', another node whose connection is lost (it crashed, and this node has
 * not declared it down yet); `far` tells what reaches far's region.
 */
async function regionFacingLostHolder(system: ActorSystem) {
  const far: unknown[] = [];
  const farRegion = { send: (m: unknown) => { far.push(m); return Promise.resolve(); },
    ask: (m: unknown) => { far.push(m); return new Promise(() => undefined); } } as unknown as ActorRef<unknown>;
  const view = { ring: placement(['far', 'me']), farDown: false, farReachable: false };
  const instance: { region?: ShardRegion } = {};
  const region: ActorRef<unknown> = await system.spawn(ShardRegion, { name: 'region', args: [
    { typeName: 'tallies', entityClass: Tally, args: [], singleton: false, passivation: undefined },
    {
      selfId: 'me', logger: silentLogger, events: system.events, maxBufferedPerShard: 100, codec: new Codec(),
      clock: system.clock, maxReplicaBytes: 2 ** 20,
      ring: () => view.ring, isLive: (id: string) => id === 'me' || !view.farDown, liveMembers: () => (view.farDown ? ['me'] : ['me', 'far']), isReachable: (id: string) => id !== 'far' || view.farReachable, hasQuorum: () => true, relayReply: () => false,
      regionOn: (id: string) => (id === 'far' ? farRegion : region), bulk: new BulkSends(system.clock, () => true),
      attach: (r: ShardRegion) => { instance.region = r; }, entityStarted: () => undefined, entityStopped: () => undefined,
      handOffDone: () => undefined, excludeFromRing: () => undefined, shardOf: () => 7, shardCount: 16,
    } satisfies RegionHost] });
  await region.send(new RingChanged());
  const waiting = () => instance.region?.summary().buffered ?? 0;
  return { region, far, view, waiting };
}

test('a message whose shard\'s holder cannot be reached waits for the ring to replace it, then is delivered', async () => {
  await using system = ActorSystem.create({ logger: silentLogger });
  const { region, far, view, waiting } = await regionFacingLostHolder(system);
  // another node, which already has 'far' down, sent this here: this node's ring still says 'far'
  const asked = region.ask(['a', 7, new Add(4), X, 1], { timeout: 60_000 });
  await waitUntil('the ask waits for the ring to change', () => waiting() === 1);
  expect(far).toEqual([]);
  view.farDown = true; // SWIM declares 'far' down here too: shard 7 is 'me''s, fresh
  view.ring = placement(['me']);
  await region.send(new RingChanged());
  expect(await asked).toBe(4);
  expect(far).toEqual([]);
});

test('a message whose shard\'s holder stays unreachable fails after 10 s with ShardUnavailableError naming the holder', async () => {
  const { system, clock } = manualSystem();
  await using _ = system;
  const { region, far } = await regionFacingLostHolder(system);
  const asked = region.ask(['a', 7, new Add(4), X, 1], { timeout: 60_000 });
  const outcome = asked.then(() => 'answered', (e: unknown) => e);
  await clock.advance(9_000);
  await clock.advance(2_000);
  const error = await outcome;
  expect(error).toBeInstanceOf(ShardUnavailableError);
  expect((error as Error).message).toMatch(/holder 'far' could not be reached for 10000 ms/);
  expect(far).toEqual([]);
});

test('a message passed between regions MAX_HOPS times (their rings disagree a moment) waits here for the ring to change, then is delivered', async () => {
  await using system = ActorSystem.create({ logger: silentLogger });
  const { region, far, view, waiting } = await regionFacingLostHolder(system);
  view.farReachable = true;
  // 'far' sent it back here, and this node's ring still says 'far' holds shard 7: before, it failed at once
  const asked = region.ask(new EntityEnvelope('a', 7, new Add(4), MAX_HOPS, 'far', X, 1), { timeout: 60_000 });
  await waitUntil('the ask waits for the ring to change', () => waiting() === 1);
  expect(far).toEqual([]);
  view.ring = placement(['me']); // the views agree now: shard 7 is 'me''s
  await region.send(new RingChanged());
  expect(await asked).toBe(4);
});

test('a message passed between regions MAX_HOPS times goes again at the next tick with its hops counted afresh', async () => {
  const { system, clock } = manualSystem();
  await using _ = system;
  const { region, far, view, waiting } = await regionFacingLostHolder(system);
  view.farReachable = true;
  void region.send(new EntityEnvelope('a', 7, new Add(4), MAX_HOPS, 'far', X, 1));
  await waitUntil('it waits', () => waiting() === 1);
  await clock.advance(1_000); // the region's tick: routed again, to 'far' by this node's view
  await waitUntil('it went to far', () => far.length === 1, 5_000, () => far);
  // on the wire: [entity, shard, message, origin, seq, hops, via]
  expect(far[0]).toEqual(['a', 7, expect.any(Add), X, 1, 1, 'me']);
  expect(waiting()).toBe(0);
});

test('messages that wait for an unreachable holder keep their sender\'s order when it is back: a later one waits behind them', async () => {
  const { system, clock } = manualSystem();
  await using _ = system;
  const { region, far, view, waiting } = await regionFacingLostHolder(system);
  void region.send(['a', 7, new Add(1), X, 1]);
  void region.send(['a', 7, new Add(2), X, 2]);
  await waitUntil('both wait', () => waiting() === 2);
  view.farReachable = true; // its connection is back, the ring unchanged
  void region.send(['a', 7, new Add(3), X, 3]);
  await waitUntil('the third waits behind them', () => waiting() === 3);
  expect(far).toEqual([]);
  await clock.advance(1_000); // the region's tick routes them again, in order
  await waitUntil('all three passed on', () => far.length === 3);
  expect(far.map((m) => ((m as unknown[])[2] as Add).n)).toEqual([1, 2, 3]);
});

test('a shard number another node sends out of range is refused, and the region keeps its entities', async () => {
  await using system = ActorSystem.create({ logger: silentLogger });
  const { region } = await regionWith(system, 100);
  await region.send(new HandOff(7, 1, 'old', [['a', new Codec().encode({ total: 10, seen: [] })]], [[X, 1]]));
  await region.send(new HandOffDone(7, 'old'));
  expect(await region.ask(['a', 7, new Add(1), X, 1])).toBe(11);
  for (const bad of [1e9, -1, 1.5, Number.NaN, Infinity, 16]) {
    await expect(region.ask(['a', bad, new Add(1), X, 2])).rejects.toThrow(/shard .* is not one of this type's 16 \(0 to 15\)/);
    await region.send(new HandOff(bad, 2, 'old', [['a', null]], []));
  }
  expect(await region.ask(['a', 7, new Add(1), X, 2])).toBe(12); // the same entity, its state intact
});

test('a HandOffDone that could not be sent is said again on the next tick, until the new holder acknowledges it', async () => {
  const { system, clock } = manualSystem();
  await using _ = system;
  const far: unknown[] = [];
  let refuseDone = true;
  const farRegion = { send: (m: unknown) => {
    if (m instanceof HandOffDone && refuseDone) {
      refuseDone = false;
      return Promise.reject(new Error('outbound queue full'));
    }
    far.push(m);
    return Promise.resolve();
  } } as unknown as ActorRef<unknown>;
  const view = { ring: placement(['me']) };
  const region: ActorRef<unknown> = await system.spawn(ShardRegion, { name: 'region', args: [
    { typeName: 'tallies', entityClass: Tally, args: [], singleton: false, passivation: undefined },
    {
      selfId: 'me', logger: silentLogger, events: system.events, maxBufferedPerShard: 100, codec: new Codec(),
      clock: system.clock, maxReplicaBytes: 2 ** 20, ring: () => view.ring, isLive: () => true, liveMembers: () => view.ring.members, isReachable: () => true, hasQuorum: () => true, relayReply: () => false,
      regionOn: (id: string) => (id === 'far' ? farRegion : region), bulk: new BulkSends(system.clock, () => true),
      attach: () => undefined, entityStarted: () => undefined, entityStopped: () => undefined, handOffDone: () => undefined,
      excludeFromRing: () => undefined, shardOf: () => 7, shardCount: 16,
    } satisfies RegionHost] });
  await region.send(new RingChanged());
  expect(await region.ask(['a', 7, new Add(3), X, 1])).toBe(3);
  view.ring = placement(['far', 'me']); // 'far' joined and owns shard 7: 'me' hands it over
  await region.send(new RingChanged());
  const dones = () => far.filter((m) => m instanceof HandOffDone).length;
  await waitUntil('the hand-off is sent, its Done refused', () => far.some((m) => m instanceof HandOff) && !refuseDone, 5_000, () => far);
  expect(dones()).toBe(0);
  await clock.advance(1_000);
  await clock.advance(1_000);
  await waitUntil('the HandOffDone is said again', () => dones() >= 1, 5_000, () => far);
  await region.send(new HandOffAck(7, 'far'));
  const before = dones();
  await clock.advance(1_000);
  await clock.advance(1_000);
  // a message for the shard, passed on to 'far' after the ticks' turns: once it is there, the ticks have run
  await region.send(['b', 7, new Add(1), X, 2]);
  await waitUntil('the message after the ticks reaches far', () => far.some((m) => Array.isArray(m) && m[0] === 'b'), 5_000, () => far);
  expect(dones()).toBe(before);
});

/** A region on 'me' whose quorum the test turns off and on (view.quorum); 'far' (what it is sent goes to `far`) holds shard 7. */
async function quorumRegion(system: ActorSystem) {
  const far: unknown[] = [];
  const farRegion = { send: (m: unknown) => { far.push(m); return Promise.resolve(); } } as unknown as ActorRef<unknown>;
  const view = { ring: placement(['far', 'me']), quorum: true };
  const region: ActorRef<unknown> = await system.spawn(ShardRegion, { name: 'region', args: [
    { typeName: 'tallies', entityClass: Tally, args: [], singleton: false, passivation: undefined },
    {
      selfId: 'me', logger: silentLogger, events: system.events, maxBufferedPerShard: 100, codec: new Codec(),
      clock: system.clock, maxReplicaBytes: 2 ** 20, ring: () => view.ring, isLive: () => true, liveMembers: () => ['far', 'me'],
      isReachable: () => true, hasQuorum: () => view.quorum, relayReply: () => false,
      regionOn: (id: string) => (id === 'far' ? farRegion : region), bulk: new BulkSends(system.clock, () => true),
      attach: () => undefined, entityStarted: () => undefined, entityStopped: () => undefined, handOffDone: () => undefined,
      excludeFromRing: () => undefined, shardOf: () => 7, shardCount: 16,
    } satisfies RegionHost] });
  await region.send(new RingChanged()); // 'far' holds shard 7
  return { region, far, view };
}

test('a shard whose hand-off came while this node had no quorum (refused) is claimed once quorum is back, without waiting for a message', async () => {
  const { system } = manualSystem();
  await using _ = system;
  const { region, far, view } = await quorumRegion(system); // 'far' holds shard 7
  view.quorum = false;
  view.ring = placement(['me', 'far']); // 'me' owns it now, and 'far' hands it over while 'me' has no quorum
  await region.send(new HandOff(7, 2, 'far', [], [], []));
  view.quorum = true;
  await region.send(new QuorumChanged());
  // no message for the shard came: 'me' asks 'far' for it (which answers 'not-held': it is restored from replicas)
  await waitUntil('me asks far for shard 7', () => far.some((m) => m instanceof HandOffRequest && m.shard === 7), 5_000, () => far);
});

test('a shard this node was taking over when it lost quorum (the parts with its states dropped) is claimed once quorum is back, without waiting for a message', async () => {
  const { system } = manualSystem();
  await using _ = system;
  const { region, far, view } = await quorumRegion(system); // 'far' holds shard 7
  view.ring = placement(['me', 'far']); // 'me' owns it now: 'far' hands it over, and 'me' takes the HandOff
  await region.send(new HandOff(7, 2, 'far', [], [], []));
  view.quorum = false; // 'me' loses quorum before the parts (the states) and the Done come: they are dropped
  await region.send(new QuorumChanged());
  await region.send(new HandOffPart(7, 2, 'far', [['a', new Codec().encode({ total: 1, seen: [] })]]));
  await region.send(new HandOffDone(7, 'far'));
  expect(far.some((m) => m instanceof HandOffRequest)).toBe(false);
  view.quorum = true;
  await region.send(new QuorumChanged());
  // no message for the shard came: 'me' asks 'far' for it (which answers 'not-held': it is restored from replicas)
  await waitUntil('me asks far for shard 7', () => far.some((m) => m instanceof HandOffRequest && m.shard === 7), 5_000, () => far);
});

/** A region of a replicated type on 'me', alone on the ring, with a stand-in replication that records restores. */
async function replicatedRegion(system: ActorSystem, fence: number) {
  const restores: Array<{ shard: number; members: readonly string[] }> = [];
  const far: unknown[] = [];
  const farRegion = { send: (m: unknown) => { far.push(m); return Promise.resolve(); },
    ask: (m: unknown) => { far.push(m); return new Promise(() => undefined); } } as unknown as ActorRef<unknown>;
  const hosts: ReplicationHost[] = [];
  const stopped: string[] = [];
  // 'far' and 'near' are alive, but left out of the ring (they said they have no quorum)
  const view = { ring: placement(['me']), quorum: true, holdRestores: false };
  const replication: RegionReplication = {
    gate: () => () => undefined, stateOf: () => undefined, captured: () => undefined, handOffEntries: () => [],
    adopt: () => undefined, ringChanged: () => undefined, tick: () => undefined, cancelRestore: () => undefined,
    handingOff: () => undefined, holdersOf: () => [], fill: () => undefined,
    fenceOf: () => fence, receive: () => false, summary: () => ({ bytes: 0, entities: 0 }),
    restore: (shard, members, done) => {
      restores.push({ shard, members });
      if (!view.holdRestores) done(fence + 1);
    },
  };
  const region: ActorRef<unknown> = await system.spawn(ShardRegion, { name: 'region', args: [
    { typeName: 'tallies', entityClass: Tally, args: [], singleton: false, passivation: undefined,
      replication: { provider: { parse: () => ({}), sendTimeoutMs: () => undefined,
        forRegion: (_settings, host) => { hosts.push(host); return replication; } }, settings: {},
        sendTimeoutMs: undefined } },
    {
      selfId: 'me', logger: silentLogger, events: system.events, maxBufferedPerShard: 100, codec: new Codec(),
      clock: system.clock, maxReplicaBytes: 2 ** 20, ring: () => view.ring, isLive: () => true,
      liveMembers: () => ['far', 'me', 'near'], isReachable: () => true, hasQuorum: () => view.quorum, relayReply: () => false,
      regionOn: (id: string) => (id === 'far' ? farRegion : region), bulk: new BulkSends(system.clock, () => true),
      attach: () => undefined, entityStarted: () => undefined, entityStopped: (_type, id) => stopped.push(id),
      handOffDone: () => undefined, excludeFromRing: () => undefined, shardOf: () => 7, shardCount: 16,
    } satisfies RegionHost] });
  await region.send(new RingChanged());
  return { region, restores, far, host: hosts[0]!, stopped, view };
}

test('a restore asks every live member, those the ring leaves out (without quorum, say) too: they keep the replicas they acknowledged', async () => {
  const { system } = manualSystem();
  await using _ = system;
  const { region, restores } = await replicatedRegion(system, 0);
  expect(await region.ask(['a', 7, new Add(3), X, 1])).toBe(3); // shard 7 claimed: nobody held it, so restored
  expect(restores).toEqual([{ shard: 7, members: ['far', 'me', 'near'] }]);
});

test('a hand-off at an epoch another member restored the shard at meanwhile (its fence) is refused: it would make a second holder', async () => {
  const { system } = manualSystem();
  await using _ = system;
  const codec = new Codec();
  const { region, restores } = await replicatedRegion(system, 3);
  const ten = Object.assign(new Tally('a'), { total: 10 });
  await region.send(new HandOff(7, 3, 'far', [], []));
  await region.send(new HandOffPart(7, 3, 'far', [['a', captureState(ten, codec)]]));
  await region.send(new HandOffDone(7, 'far'));
  // not taken: the shard is claimed afresh here (restored, the stand-in finds nothing), 'a' starts empty
  expect(await region.ask(['a', 7, new Add(1), X, 1])).toBe(1);
  expect(restores).toHaveLength(1);
  // one epoch later, it is taken
  const { system: other } = manualSystem();
  await using __ = other;
  const second = await replicatedRegion(other, 3);
  await second.region.send(new HandOff(7, 4, 'far', [], []));
  await second.region.send(new HandOffPart(7, 4, 'far', [['a', captureState(ten, codec)]]));
  await second.region.send(new HandOffDone(7, 'far'));
  expect(await second.region.ask(['a', 7, new Add(1), X, 1])).toBe(11);
});

test('a member restoring a shard held here (their rings disagree a moment) gets its answer only once the entities here stopped; what comes later goes to it', async () => {
  const { system } = manualSystem();
  await using _ = system;
  const { region, far, host, stopped } = await replicatedRegion(system, 0);
  expect(await region.ask(['a', 7, new Add(3), X, 1])).toBe(3); // held here, 'a' live
  let answered = false;
  host.stepDown(7, 'far', () => { answered = true; });
  await waitUntil('the restore is answered', () => answered, 5_000);
  // 'a' stopped here: the next message goes to 'far', the restorer, instead of a live copy here
  await region.send(['a', 7, new Add(1), X, 2]);
  await waitUntil('the message goes to far', () => far.some((m) => Array.isArray(m) && m[0] === 'a'), 5_000, () => far);
  await waitUntil('the entity stopped', () => stopped.length > 0, 5_000, () => stopped);
  await region.send(['a', 7, new Add(1), X, 3]); // after its Terminated in the region's mailbox
  await waitUntil('that one goes to far too', () => far.filter((m) => Array.isArray(m) && m[0] === 'a').length === 2, 5_000, () => far);
  expect(stopped).toEqual(['a']); // counted once
});

test('a hand-off still capturing its entities when a restorer asks is given up: the shard is the restorer\'s, never handed on at an epoch of its own', async () => {
  const { system } = manualSystem();
  await using _ = system;
  const { region, far, host, stopped, view } = await replicatedRegion(system, 0);
  expect(await region.ask(['a', 7, new Add(3), X, 1])).toBe(3); // held here, 'a' live
  view.ring = placement(['far']); // 'far' owns it now: the hand-off begins, 'a' stops with its state...
  const changed = region.send(new RingChanged());
  let answered = false;
  host.stepDown(7, 'far', () => { answered = true; }); // ...and 'far', whose ring said so earlier, restores it meanwhile
  await changed;
  await waitUntil('the restore is answered', () => answered, 5_000);
  await waitUntil('the entity stopped', () => stopped.length > 0, 5_000, () => stopped);
  await region.send(['a', 7, new Add(1), X, 2]);
  await waitUntil('the next message goes to far', () => far.some((m) => Array.isArray(m) && m[0] === 'a'), 5_000, () => far);
  // sent, the hand-off took an epoch the restorer may take too (it asked before): two holders, one epoch
  expect(far.filter((m) => m instanceof HandOff)).toEqual([]);
});

test('a shard this node was restoring when it lost quorum is claimed once quorum is back, without waiting for a message', async () => {
  const { system } = manualSystem();
  await using _ = system;
  const { region, restores, view } = await replicatedRegion(system, 0);
  view.holdRestores = true; // the members' answers are slow
  await region.send(['a', 7, new Add(3), X, 1]); // shard 7 claimed: nobody held it, so it is restored
  await waitUntil('the restore begins', () => restores.length === 1, 5_000, () => restores);
  view.quorum = false; // lost before the restore ends: it is given up, and the shard with it
  await region.send(new QuorumChanged());
  view.quorum = true;
  view.holdRestores = false;
  await region.send(new QuorumChanged());
  // no message for the shard came: it is restored again at once (else nobody held it, nor filled its backups)
  await waitUntil('the shard is restored again', () => restores.length === 2, 5_000, () => restores);
});
