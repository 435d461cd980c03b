// A shard region on its own, with a made-up host: a shard this node owns but whose previous holder has not handed
// it over yet buffers its messages, bounded; past the bound an ask fails with a typed error that says why and a
// send is a dead letter; once the hand-off comes, what was buffered is delivered in order. Nothing without a trace.

import { Actor, ActorSystem, Codec, DeadLetter, message, Request, silentLogger } from '@casty/core';
import type { ActorRef, Context } from '@casty/core';
import { waitUntil } from '@casty/core/testing';
import { ShardUnavailableError } from '@casty/sharding';
import { HandOff, HandOffDone, HandOffRequest, RingChanged } from '../src/runtime/envelopes';
import type { Placement } from '../src/runtime/Placement';
import { ShardRegion } from '../src/runtime/ShardRegion';
import type { RegionHost } from '../src/runtime/ShardRegion';

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
function placement(members: string[]): Placement {
  return {
    members,
    ownerOf: () => members[0],
    shardsOf: (id) => (id === members[0] ? [7] : []),
    without: (id) => placement(members.filter((m) => m !== id)),
    equals: () => false,
  };
}

test('an awaited shard buffers up to its bound; beyond, asks fail with ShardUnavailableError and sends are dead letters; the hand-off then delivers the buffer in order', async () => {
  await using system = ActorSystem.create({ logger: silentLogger });
  const requests: unknown[] = [];
  const oldRegion = { send: (m: unknown) => { requests.push(m); return Promise.resolve(); } } as unknown as ActorRef<unknown>;
  let ring: Placement | undefined = placement(['old']);
  const host: RegionHost = {
    selfId: 'me', logger: silentLogger, events: system.events, maxBufferedPerShard: 3, codec: new Codec(),
    ring: () => ring, isLive: (id) => id === 'old' || id === 'me', regionOn: (id) => (id === 'old' ? oldRegion : region),
    attach: () => undefined, entityStarted: () => undefined, entityStopped: () => undefined, handOffDone: () => undefined,
    excludeFromRing: () => undefined, shardOf: () => 7,
  };
  const dead: DeadLetter[] = [];
  system.events.subscribe(DeadLetter, (d) => dead.push(d));
  const region: ActorRef<unknown> = await system.spawn(ShardRegion, { name: 'region', args: [{ typeName: 'tallies', entityClass: Tally, args: [], singleton: false, passivation: undefined }, host] });
  await region.send(new RingChanged()); // the first ring: 'old' alone
  ring = placement(['me', 'old']);
  await region.send(new RingChanged()); // 'me' joined: shard 7 is now 'me''s, awaited from 'old'
  const asks = [1, 2, 3].map((n) => region.ask(['a', 7, new Add(n), 0, ''], { timeout: 5_000 }) as Promise<number>);
  const overflow = region.ask(['a', 7, new Add(4), 0, ''], { timeout: 5_000 });
  await expect(overflow).rejects.toThrow(ShardUnavailableError);
  await expect(overflow).rejects.toThrow(/3 messages are buffered for its shard, which is moving between nodes \(awaiting old\)/);
  await region.send(['a', 7, new Add(5), 0, '']);
  await waitUntil('the overflowing send is a dead letter', () => dead.length === 2);
  expect(dead.map((d) => [d.reason, (d.message as Add).n])).toEqual([['unroutable', 4], ['unroutable', 5]]);
  expect(requests.filter((r) => r instanceof HandOffRequest)).toHaveLength(1);
  // the hand-off comes: entity 'a' with state total 10, then 'old''s stream ends
  const state = new Codec().encode({ total: 10, seen: [] });
  await region.send(new HandOff(7, 1, 'old', [['a', state]]));
  await region.send(new HandOffDone(7, 'old'));
  expect(await Promise.all(asks)).toEqual([11, 13, 16]);
});
