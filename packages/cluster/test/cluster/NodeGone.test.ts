// A node declared down is gone for the nodes that hold refs to it, over the in-memory network and real TCP:
// tells to it are dead letters (reason 'node-gone') at once on the sending node, asks fail at once, nothing is
// dialed for them; and a node that takes its address (another node id) never receives what was meant for it.

import { ClusterEvent, MemberDown, NodeUnavailableError } from '@casty/cluster';
import { waitUntil } from '@casty/cluster/testing';
import { Actor, DeadLetter, message, Request } from '@casty/core';
import type { Context } from '@casty/core';
import { TestNodes } from '../remote/nodes';
import type { TestNode, TransportKind } from '../remote/nodes';

@message('test.gone.Hit') class Hit { constructor(readonly n: number) {} }
@message('test.gone.Count') class Count extends Request<number> {}

/** Counts the hits it receives. */
class Counter extends Actor<Hit | Count> {
  hits = 0;
  override receive(msg: Hit | Count, ctx: Context<Hit | Count>): void {
    if (msg instanceof Hit) this.hits++;
    else ctx.reply(this.hits);
  }
}

const view = (nodes: readonly TestNode[]) => nodes.map((n) => ({
  node: n.system.nodeId, members: n.system.members().map((m) => `${m.nodeId}=${m.state}`),
}));

describe.each<TransportKind>(['in-memory', 'tcp'])('a node declared down, over %s', (kind) => {
  const nodes = new TestNodes(kind);
  afterEach(() => nodes.shutdown());

  test('tells to it are dead letters at once, asks fail at once, and its successor at the address gets nothing', async () => {
    const a = await nodes.start('a');
    const b = await nodes.start('b', { seeds: [a.system.address] });
    await waitUntil('a and b see each other', () => a.system.members().length === 2 && b.system.members().length === 2,
      10_000, () => view([a, b]));
    await b.system.spawn(Counter, { name: 'counter' });
    const counter = await a.system.lookup<Hit | Count>('counter');
    expect(await counter!.ask(new Count())).toBe(0);
    const dead: DeadLetter[] = [];
    a.system.events.subscribe(DeadLetter, (d) => dead.push(d));
    const downs: string[] = [];
    a.system.events.subscribe(ClusterEvent, (e) => {
      if (e instanceof MemberDown) downs.push(e.member.nodeId);
    });

    const port = b.system.address.port;
    await b.transport.close(); // a crash: no leave, no goodbye
    await waitUntil('a declares b down', () => downs.includes('b'), 20_000, () => view([a]));

    for (let i = 0; i < 10; i++) await counter!.send(new Hit(i));
    // Published synchronously by send: no network round trip, no dialing.
    expect(dead.filter((d) => d.reason === 'node-gone' && d.message instanceof Hit).map((d) => (d.message as Hit).n))
      .toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(dead.every((d) => d.recipient === counter!.path)).toBe(true);
    await expect(counter!.ask(new Count(), { timeout: 20_000 })).rejects.toBeInstanceOf(NodeUnavailableError);

    // Another node takes b's address, with an actor of the same name: the old ref never reaches it.
    await b.system.shutdown();
    const c = await nodes.start('c', { port, seeds: [a.system.address] });
    await c.system.spawn(Counter, { name: 'counter' });
    await waitUntil('a sees c', () => a.system.members().some((m) => m.nodeId === 'c'), 10_000, () => view([a, c]));
    for (let i = 10; i < 20; i++) await counter!.send(new Hit(i));
    const cCounter = await a.system.lookup<Hit | Count>('counter');
    expect(cCounter?.path).toContain('casty://c@');
    expect(await cCounter!.ask(new Count())).toBe(0);
    expect(dead.filter((d) => d.reason === 'node-gone')).toHaveLength(20);
  });
});
