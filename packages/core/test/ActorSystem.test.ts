import v8 from 'node:v8';
import vm from 'node:vm';
import type { Context } from '@casty/core';
import {
  Actor, ActorNameTakenError, ActorStopped, ActorSystem, InvalidArgumentError, message, Request,
  SystemShutdownError, ActorInitializationError,
} from '@casty/core';
import { waitUntil } from '@casty/core/testing';
import { quietSystem, record } from './fixtures/recording';

@message('sys.Greet') class Greet { constructor(readonly name: string) {} }
@message('sys.GetGreetingCount') class GetGreetingCount extends Request<number> {}
type GreeterMsg = Greet | GetGreetingCount;

class Greeter extends Actor<GreeterMsg> {
  count = 0;
  override async receive(msg: GreeterMsg, ctx: Context<GreeterMsg>): Promise<void> {
    if (msg instanceof Greet) this.count++;
    else if (msg instanceof GetGreetingCount) ctx.reply(this.count);
  }
}

class Named extends Actor<unknown> {
  constructor(readonly label: string, readonly times: number) { super(); }
  override receive(_msg: string, ctx: Context<unknown>): void { ctx.reply(this.label.repeat(this.times)); }
}

describe('ActorSystem', () => {
  test('quick start: send, then ask for the count', async () => {
    await using system = ActorSystem.create();
    const greeter = await system.spawn(Greeter);
    await greeter.send(new Greet('Alice'));
    await greeter.send(new Greet('Bob'));
    const count: number = await greeter.ask(new GetGreetingCount(), { timeout: 5_000 });
    expect(count).toBe(2);
  });

  test('spawn passes constructor args', async () => {
    await using system = quietSystem();
    const ref = await system.spawn(Named, { args: ['ab', 3] });
    expect(await ref.ask('go')).toBe('ababab');
  });

  test('lookup by name and by path; unknown names are undefined', async () => {
    await using system = quietSystem();
    const cache = await system.spawn(Greeter, { name: 'main-cache' });
    expect(await system.lookup('main-cache')).toBe(cache);
    expect(await system.lookup('/user/main-cache')).toBe(cache);
    expect(await system.lookup('nobody')).toBeUndefined();
    expect(cache.path).toBe('/user/main-cache');
  });

  test('a duplicate top-level name is a clear error; the name frees up when the actor stops', async () => {
    await using system = quietSystem();
    await system.spawn(Greeter, { name: 'greeter' });
    const dup = system.spawn(Greeter, { name: 'greeter' });
    await expect(dup).rejects.toBeInstanceOf(ActorNameTakenError);
    await expect(dup).rejects.toThrow("Actor name 'greeter' is already taken under /user; pick another name or stop the first");
    const first = (await system.lookup('greeter'))!;
    const stopped = system.events.next(ActorStopped);
    await system.spawn(class Stopper extends Actor<unknown> {
      override async receive(_m: string, ctx: Context<unknown>) { await ctx.stop(first as never); ctx.reply('done'); }
    }, { name: 'stopper' }).then((s) => s.ask('x'));
    await stopped;
    await expect(system.spawn(Greeter, { name: 'greeter' })).resolves.toBeDefined();
  });

  test('wrong spawn options are rejected at the call, naming the field', async () => {
    await using system = quietSystem();
    await expect(system.spawn(Greeter, { name: 'a/b' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(system.spawn(Greeter, { name: '' })).rejects.toThrow(/Actor name "" for Greeter is invalid/);
    await expect(system.spawn(Greeter, { mailbox: { capacity: 0 } })).rejects.toThrow(/mailbox.capacity/);
    await expect(system.spawn(Greeter, { mailbox: { capacity: 2, overflow: 'sideways' as never } })).rejects.toThrow(/mailbox.overflow/);
    expect(() => ActorSystem.create({ askTimeoutMs: -1 })).toThrow(/askTimeoutMs/);
  });

  test('an onStart that throws rejects spawn with ActorInitializationError and frees the name', async () => {
    await using system = quietSystem();
    class Broken extends Actor<unknown> {
      override async onStart(): Promise<void> { throw new Error('no database'); }
      override receive(): void {}
    }
    const stopped = record(system, ActorStopped);
    await expect(system.spawn(Broken, { name: 'broken' })).rejects.toThrow(ActorInitializationError);
    expect(stopped.map((e) => e.reason)).toEqual(['init-failed']);
    expect(await system.lookup('broken')).toBeUndefined();
  });

  test('onStart runs before the first message; messages sent meanwhile wait', async () => {
    await using system = quietSystem();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    class Slow extends Actor<unknown> {
      override async onStart() { log.push('start:begin'); await gate; log.push('start:end'); }
      override receive(msg: string) { log.push(msg); }
    }
    const spawning = system.spawn(Slow, { name: 'slow' });
    const ref = (await waitUntil('slow is registered', async () => (await system.lookup('slow')) !== undefined)
      .then(() => system.lookup<string>('slow')))!;
    await ref.send('early');
    release();
    await spawning;
    await waitUntil('early message processed', () => log.includes('early'));
    expect(log).toEqual(['start:begin', 'start:end', 'early']);
  });

  test('shutdown stops children before parents, last spawned first, and is idempotent', async () => {
    const system = quietSystem();
    const order: string[] = [];
    class Leaf extends Actor<unknown> {
      constructor(readonly label: string) { super(); }
      override onStop() { order.push(this.label); }
      override receive() {}
    }
    // children are spawned from receive, where the context is available
    class Root extends Actor<unknown> {
      constructor(readonly label: string) { super(); }
      override onStop() { order.push(this.label); }
      override async receive(_m: string, ctx: Context<unknown>) {
        await ctx.spawn(Leaf, { name: 'c1', args: [`${this.label}.c1`] });
        await ctx.spawn(Leaf, { name: 'c2', args: [`${this.label}.c2`] });
        ctx.reply('ok');
      }
    }
    const a = await system.spawn(Root, { name: 'a', args: ['a'] });
    const b = await system.spawn(Root, { name: 'b', args: ['b'] });
    await a.ask('spawn children');
    await b.ask('spawn children');
    const first = system.shutdown();
    const second = system.shutdown();
    expect(second).toBe(first);
    await first;
    expect(order).toEqual(['b.c2', 'b.c1', 'b', 'a.c2', 'a.c1', 'a']);
    await expect(system.spawn(Greeter)).rejects.toBeInstanceOf(SystemShutdownError);
  });

  test('shutdown with messages and asks in flight: asks reject with a typed error, nothing is left unhandled', async () => {
    const system = quietSystem();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      class Busy extends Actor<GreeterMsg> {
        override async receive(msg: GreeterMsg, ctx: Context<GreeterMsg>) {
          if (msg instanceof Greet) await gate;
          else ctx.reply(1);
        }
      }
      const ref = await system.spawn(Busy);
      for (let i = 0; i < 100; i++) void ref.send(new Greet(`n${i}`));
      const asks = Array.from({ length: 10 }, () => ref.ask(new GetGreetingCount()));
      const settled = Promise.allSettled(asks);
      const done = system.shutdown();
      release();
      await done;
      const results = await settled;
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('100k actors spawned and stopped leave nothing behind', async () => {
    v8.setFlagsFromString('--expose_gc');
    const gc = vm.runInNewContext('gc') as () => void;
    class Idle extends Actor<number> { value = 0; override receive(n: number) { this.value = n; } }
    const round = async (): Promise<number> => {
      const system = quietSystem();
      const refs = [];
      for (let i = 0; i < 100_000; i++) refs.push(await system.spawn(Idle));
      for (const ref of refs.slice(0, 1000)) await ref.send(1);
      await system.shutdown();
      const internals = refs[500] as unknown as { cell: { isStopped: boolean; mailboxSize: number } };
      expect(internals.cell.isStopped).toBe(true);
      expect(await system.lookup('$0')).toBeUndefined();
      refs.length = 0;
      gc();
      return process.memoryUsage().heapUsed;
    };
    const first = await round();
    await round();
    const third = await round();
    // a leak of even 100 bytes per actor would show as 10 MB per round
    expect(third - first).toBeLessThan(5 * 1024 * 1024);
  }, 120_000);
});
