import type { ActorRef, Context } from '@casty/core';
import { Actor, message, Request, Terminated, InvalidArgumentError } from '@casty/core';
import { waitUntil } from '@casty/core/testing';
import { manualSystem, quietSystem } from './fixtures/recording';

@message('dw.Watch') class Watch extends Request<string> { constructor(readonly ref: ActorRef<never>) { super(); } }
@message('dw.Unwatch') class Unwatch extends Request<string> { constructor(readonly ref: ActorRef<never>) { super(); } }
type WatcherMsg = Watch | Unwatch | Terminated;

class Watcher extends Actor<WatcherMsg> {
  static terminated: string[] = [];
  override receive(msg: WatcherMsg, ctx: Context<WatcherMsg>) {
    if (msg instanceof Watch) { ctx.watch(msg.ref); ctx.reply('watching'); }
    else if (msg instanceof Unwatch) { ctx.unwatch(msg.ref); ctx.reply('unwatched'); }
    else if (msg instanceof Terminated) Watcher.terminated.push(msg.ref.path);
  }
}
class Quiet extends Actor<unknown> { override receive(_m: string, ctx: Context<unknown>) { if (_m === 'die') void ctx.stop(); } }

beforeEach(() => { Watcher.terminated.length = 0; });

describe('death watch', () => {
  test('a watcher gets Terminated when the watched actor stops', async () => {
    await using system = quietSystem();
    const watcher = await system.spawn(Watcher);
    const target = await system.spawn(Quiet, { name: 'target' });
    await watcher.ask(new Watch(target as ActorRef<never>));
    await target.send('die');
    await waitUntil('Terminated delivered', () => Watcher.terminated.length === 1);
    expect(Watcher.terminated).toEqual(['/user/target']);
  });

  test('watching an actor that already stopped delivers Terminated at once', async () => {
    await using system = quietSystem();
    const watcher = await system.spawn(Watcher);
    const target = await system.spawn(Quiet, { name: 'gone' });
    await target.send('die');
    await waitUntil('target stopped', async () => (await system.lookup('gone')) === undefined);
    await watcher.ask(new Watch(target as ActorRef<never>));
    await waitUntil('Terminated delivered', () => Watcher.terminated.length === 1);
  });

  test('after unwatch no Terminated is delivered', async () => {
    await using system = quietSystem();
    const watcher = await system.spawn(Watcher);
    const other = await system.spawn(Quiet, { name: 'other' });
    const target = await system.spawn(Quiet, { name: 'target' });
    await watcher.ask(new Watch(target as ActorRef<never>));
    await watcher.ask(new Watch(other as ActorRef<never>));
    await watcher.ask(new Unwatch(target as ActorRef<never>));
    await target.send('die');
    await other.send('die');
    await waitUntil('other Terminated delivered', () => Watcher.terminated.length === 1);
    expect(Watcher.terminated).toEqual(['/user/other']);
  });
});

@message('tm.Tick') class Tick { constructor(readonly label: string) {} }
@message('tm.Start') class StartTimer { constructor(readonly key: string, readonly periodic: boolean, readonly ms: number) {} }
@message('tm.Cancel') class CancelTimer { constructor(readonly key: string) {} }
@message('tm.Active') class IsActive extends Request<boolean> { constructor(readonly key: string) { super(); } }
type TimerMsg = Tick | StartTimer | CancelTimer | IsActive | string;

class Ticking extends Actor<TimerMsg> {
  static ticks: string[] = [];
  override receive(msg: TimerMsg, ctx: Context<TimerMsg>) {
    if (msg instanceof StartTimer) {
      if (msg.periodic) ctx.timers.startPeriodicTimer(msg.key, new Tick(msg.key), msg.ms);
      else ctx.timers.startSingleTimer(msg.key, new Tick(msg.key), msg.ms);
    } else if (msg instanceof CancelTimer) ctx.timers.cancel(msg.key);
    else if (msg instanceof IsActive) ctx.reply(ctx.timers.isActive(msg.key));
    else if (msg instanceof Tick) Ticking.ticks.push(msg.label);
    else if (msg === 'crash') throw new Error('crash');
    else if (msg === 'stop') void ctx.stop();
  }
}

describe('timers', () => {
  beforeEach(() => { Ticking.ticks.length = 0; });

  test('a single timer fires once after its delay', async () => {
    const { system, clock } = manualSystem();
    const ref = await system.spawn(Ticking);
    await ref.send(new StartTimer('once', false, 500));
    await clock.advance(499);
    expect(Ticking.ticks).toEqual([]);
    await clock.advance(1);
    expect(Ticking.ticks).toEqual(['once']);
    await clock.advance(5_000);
    expect(Ticking.ticks).toEqual(['once']);
    expect(await ref.ask(new IsActive('once'))).toBe(false);
    await system.shutdown();
  });

  test('a periodic timer repeats until cancelled; a key reused replaces the timer', async () => {
    const { system, clock } = manualSystem();
    const ref = await system.spawn(Ticking);
    await ref.send(new StartTimer('beat', true, 100));
    await clock.advance(350);
    expect(Ticking.ticks).toEqual(['beat', 'beat', 'beat']);
    await ref.send(new StartTimer('beat', true, 1_000));  // replaces: the next beat is 1 s away
    await clock.advance(999);
    expect(Ticking.ticks).toHaveLength(3);
    await clock.advance(1);
    expect(Ticking.ticks).toHaveLength(4);
    await ref.send(new CancelTimer('beat'));
    await clock.advance(10_000);
    expect(Ticking.ticks).toHaveLength(4);
    await system.shutdown();
  });

  test('timers are cancelled when the actor stops and when it restarts', async () => {
    const { system, clock } = manualSystem();
    const ref = await system.spawn(Ticking);
    await ref.send(new StartTimer('t', true, 100));
    await ref.send('crash');
    await clock.advance(1_000);                          // restart after the 100 ms backoff; timer gone
    expect(Ticking.ticks).toEqual([]);
    expect(await ref.ask(new IsActive('t'))).toBe(false);
    await ref.send(new StartTimer('t2', true, 100));
    await ref.send('stop');
    await clock.advance(10_000);
    expect(Ticking.ticks).toEqual([]);
    await system.shutdown();
  });

  test('wrong timer delays are rejected at the call', async () => {
    const { system } = manualSystem();
    let error: unknown;
    class Bad extends Actor<unknown> {
      override receive(_m: string, ctx: Context<unknown>) {
        try { ctx.timers.startPeriodicTimer('k', 'x', 0); } catch (e) { error = e; }
        ctx.reply('done');
      }
    }
    const ref = await system.spawn(Bad);
    await ref.ask('go');
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(String(error)).toMatch(/needs an interval > 0 ms/);
    await system.shutdown();
  });
});
