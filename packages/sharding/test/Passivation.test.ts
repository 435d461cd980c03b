// Passivation of idle entities (one region timer per node and type, not one per entity), the cap on active
// entities (least recently used first), and a message racing a passivation: it is kept and starts the entity again.

import { Actor, message, Request } from '@casty/core';
import type { Context } from '@casty/core';
import { TestCluster } from '@casty/cluster/testing';
import { EntityPassivated, startNode } from 'casty';

@message('test.passivation.Add') class Add extends Request<number> { constructor(readonly n: number) { super(); } }
@message('test.passivation.Slow') class Slow extends Request<string> {}
type Msg = Add | Slow;

let alive = new Map<string, number>();
let maxAlive = 0;
let release: (() => void) | undefined;

class Box extends Actor<Msg> {
  total = 0;
  constructor(readonly entityId: string) { super(); }
  override onStart(): void {
    const n = (alive.get(this.entityId) ?? 0) + 1;
    alive.set(this.entityId, n);
    maxAlive = Math.max(maxAlive, n);
  }
  override onStop(): void { alive.set(this.entityId, (alive.get(this.entityId) ?? 1) - 1); }
  override async receive(msg: Msg, ctx: Context<Msg>): Promise<void> {
    if (msg instanceof Add) ctx.reply((this.total += msg.n));
    else {
      await new Promise<void>((resolve) => { release = resolve; });
      ctx.reply('slow done');
    }
  }
}

beforeEach(() => {
  alive = new Map();
  maxAlive = 0;
  release = undefined;
});

async function oneNode(passivation: { idleMs?: number; maxActive?: number }) {
  const cluster = await TestCluster.start({ nodes: 1, seed: 31, start: startNode });
  const system = cluster.node('n0').system;
  const boxes = await system.spawn(Box, { name: 'boxes', sharded: true, passivation });
  const passivated: EntityPassivated[] = [];
  system.events.subscribe(EntityPassivated, (e) => passivated.push(e));
  return { cluster, boxes, passivated };
}

test('an idle entity stops after idleMs; a later message starts it again (empty: no replication)', async () => {
  const { cluster, boxes, passivated } = await oneNode({ idleMs: 5_000 });
  await using _ = cluster;
  expect(await cluster.settled(boxes.entity('a').ask(new Add(2)))).toBe(2);
  await cluster.advance(3_000);
  expect(await cluster.settled(boxes.entity('b').ask(new Add(1)))).toBe(1);
  await cluster.advance(3_000); // a idle 6 s, b 3 s
  expect(passivated.map((e) => `${e.entityId}:${e.reason}`)).toEqual(['a:idle']);
  expect(alive.get('a')).toBe(0);
  expect(alive.get('b')).toBe(1);
  expect(await cluster.settled(boxes.entity('a').ask(new Add(5)))).toBe(5);
});

test('over maxActive, the least recently used entities stop first', async () => {
  const { cluster, boxes, passivated } = await oneNode({ maxActive: 3 });
  await using _ = cluster;
  for (const id of ['a', 'b', 'c']) await cluster.settled(boxes.entity(id).ask(new Add(1)));
  await cluster.settled(boxes.entity('a').ask(new Add(1))); // a is now the most recently used
  for (const id of ['d', 'e']) await cluster.settled(boxes.entity(id).ask(new Add(1)));
  await cluster.advance(100);
  expect(passivated.map((e) => `${e.entityId}:${e.reason}`)).toEqual(['b:max-active', 'c:max-active']);
  expect([...alive].filter(([, n]) => n > 0).map(([id]) => id).sort()).toEqual(['a', 'd', 'e']);
});

test('a message that comes while a passivated entity stops is kept, and starts it again; never two instances', async () => {
  const { cluster, boxes, passivated } = await oneNode({ idleMs: 2_000 });
  await using _ = cluster;
  const slow = boxes.entity('x').ask(new Slow(), { timeout: 60_000 });
  await cluster.advance(3_500); // idle by the region's clock while its slow message still runs: passivated
  expect(passivated.map((e) => e.entityId)).toEqual(['x']);
  const racing = boxes.entity('x').ask(new Add(7), { timeout: 60_000 });
  await cluster.advance(100);
  expect(alive.get('x')).toBe(1);
  release!();
  expect(await cluster.settled(slow)).toBe('slow done');
  expect(await cluster.settled(racing)).toBe(7);
  expect(maxAlive).toBe(1);
  expect(alive.get('x')).toBe(1);
});

test('wrong passivation options are refused at the call', async () => {
  const cluster = await TestCluster.start({ nodes: 1, start: startNode });
  await using _ = cluster;
  const system = cluster.node('n0').system;
  await expect(system.spawn(Box, { name: 'p1', sharded: true, passivation: { idleMs: 5 } })).rejects.toThrow(/passivation\.idleMs must be a number of milliseconds >= 1000, got 5/);
  await expect(system.spawn(Box, { name: 'p2', sharded: true, passivation: { maxActive: 0 } })).rejects.toThrow(/maxActive must be a whole number >= 1/);
  await expect(system.spawn(Box, { name: 'p3', sharded: true, passivation: { idle: 5 } as never })).rejects.toThrow(/has no field 'idle'/);
});
