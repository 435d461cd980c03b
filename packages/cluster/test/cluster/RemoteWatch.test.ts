// Death watch across nodes: ctx.watch(remoteRef) delivers Terminated when the remote actor stops, when its
// node crashes and is declared down, and at once when it is not running; unwatch stops it. Over the
// in-memory network and real TCP on 127.0.0.1 (development preset, real time).

import { Actor, message, Request, Terminated } from '@casty/core';
import type { ActorRef, Context } from '@casty/core';
import { waitUntil } from '@casty/cluster/testing';
import { Echo } from '../remote/actors';
import { TestNodes } from '../remote/nodes';
import type { TransportKind } from '../remote/nodes';

@message('test.watch.StopSelf') class StopSelf {}
@message('test.watch.Watch') class Watch { constructor(readonly ref: ActorRef<never>) {} }
@message('test.watch.Unwatch') class Unwatch { constructor(readonly ref: ActorRef<never>) {} }
@message('test.watch.Seen') class Seen extends Request<string[]> {}

/** Echoes, and stops itself when told. */
class Target extends Actor<Echo | StopSelf> {
  override receive(msg: Echo | StopSelf, ctx: Context<Echo | StopSelf>): void {
    if (msg instanceof Echo) ctx.reply(msg.value);
    else void ctx.stop();
  }
}

type WatcherMsg = Watch | Unwatch | Terminated | Seen;
/** Watches what it is told to and records the paths of the Terminated it gets. */
class Watcher extends Actor<WatcherMsg> {
  readonly seen: string[] = [];
  override receive(msg: WatcherMsg, ctx: Context<WatcherMsg>): void {
    if (msg instanceof Watch) ctx.watch(msg.ref);
    else if (msg instanceof Unwatch) ctx.unwatch(msg.ref);
    else if (msg instanceof Terminated) this.seen.push(msg.ref.path);
    else ctx.reply([...this.seen]);
  }
}

describe.each<TransportKind>(['in-memory', 'tcp'])('remote death watch over %s', (kind) => {
  const nodes = new TestNodes(kind);
  afterEach(() => nodes.shutdown());

  test('Terminated arrives when the watched actor on another node stops; the other node keeps no watch after', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await b.system.spawn(Target, { name: 'target' });
    const target = (await a.system.lookup<Echo<number> | StopSelf>('target'))!;
    const watcher = await a.system.spawn(Watcher);
    await watcher.send(new Watch(target as ActorRef<never>));
    await waitUntil('b holds the watch', () => b.system.remote.watchCounts.watchedBy === 1, 5_000);
    expect(await watcher.ask(new Seen())).toEqual([]);
    await target.send(new StopSelf());
    await waitUntil('the watcher saw it', async () => (await watcher.ask(new Seen())).length === 1, 5_000);
    expect(await watcher.ask(new Seen())).toEqual([target.path]);
    expect(b.system.remote.watchCounts.watchedBy).toBe(0);
    expect(a.system.remote.watchCounts.watching).toBe(0);
  });

  test('Terminated arrives when the watched actor\'s node crashes and is declared down', async () => {
    const [a, b] = await nodes.cluster('a', 'b', 'c');
    await b.system.spawn(Target, { name: 'target' });
    const target = (await a.system.lookup<Echo<number>>('target'))!;
    const watcher = await a.system.spawn(Watcher);
    await watcher.send(new Watch(target as ActorRef<never>));
    await waitUntil('b holds the watch', () => b.system.remote.watchCounts.watchedBy === 1, 5_000);
    await b.transport.close(); // a crash: no leave, no TERMINATED
    await waitUntil('the watcher saw it', async () => (await watcher.ask(new Seen())).length === 1, 15_000,
      () => a.system.members().map((m) => `${m.nodeId}=${m.state}`));
    expect(a.system.membership.member('b')?.state).toBe('dead');
    expect(await watcher.ask(new Seen())).toEqual([target.path]);
  });

  test('watching an actor that already stopped delivers Terminated at once; unwatch delivers nothing', async () => {
    const [a, b] = await nodes.cluster('a', 'b');
    await b.system.spawn(Target, { name: 'gone' });
    await b.system.spawn(Target, { name: 'kept' });
    const gone = (await a.system.lookup<StopSelf>('gone'))!;
    const kept = (await a.system.lookup<Echo<number> | StopSelf>('kept'))!;
    await gone.send(new StopSelf());
    await waitUntil('gone stopped', () => b.system.lookupLocal('gone') === undefined, 5_000);
    const watcher = await a.system.spawn(Watcher);
    await watcher.send(new Watch(gone as ActorRef<never>));
    await waitUntil('Terminated for gone', async () => (await watcher.ask(new Seen())).length === 1, 5_000);

    await watcher.send(new Watch(kept as ActorRef<never>));
    await waitUntil('b holds the watch of kept', () => b.system.remote.watchCounts.watchedBy === 1, 5_000);
    await watcher.send(new Unwatch(kept as ActorRef<never>));
    await waitUntil('b dropped it', () => b.system.remote.watchCounts.watchedBy === 0, 5_000);
    await kept.send(new StopSelf());
    await waitUntil('kept stopped', () => b.system.lookupLocal('kept') === undefined, 5_000);
    // A later ask round trip to b and back: anything b sent before it has arrived.
    await b.system.spawn(Target, { name: 'probe' });
    expect(await (await a.system.lookup<Echo<string>>('probe'))!.ask(new Echo('after'))).toBe('after');
    expect(await watcher.ask(new Seen())).toEqual([gone.path]);
  });
});
