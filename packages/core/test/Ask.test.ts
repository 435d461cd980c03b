import type { Context } from '@casty/core';
import {
  Actor, ActorFailed, ActorStoppedError, AskTimeoutError, InvalidArgumentError, message, Request, supervised,
  SupervisionStrategy, UnhandledMessageError,
} from '@casty/core';
import { manualSystem, quietSystem, record } from './fixtures/recording';

@message('ask.Ping') class Ping extends Request<string> {}
@message('ask.Silent') class Silent extends Request<string> {}
@message('ask.Explode') class Explode extends Request<string> { constructor(readonly why: string) { super(); } }
type Msg = Ping | Silent | Explode;

class Target extends Actor<Msg> {
  starts = 0;
  override onStart() { this.starts++; }
  override async receive(msg: Msg, ctx: Context<Msg>) {
    if (msg instanceof Ping) ctx.reply('pong');
    else if (msg instanceof Explode) throw new RangeError(msg.why);
    // Silent: never replies
  }
}

describe('ask', () => {
  test('times out with AskTimeoutError naming the actor and the message class (manual clock)', async () => {
    const { system, clock } = manualSystem();
    const ref = await system.spawn(Target, { name: 'target' });
    const reply = ref.ask(new Silent(), { timeout: 1_000 });
    let settled = false;
    reply.catch(() => {}).finally(() => (settled = true));
    await clock.advance(999);
    expect(settled).toBe(false);
    await clock.advance(1);
    await expect(reply).rejects.toBeInstanceOf(AskTimeoutError);
    await expect(reply).rejects.toThrow(/Ask to \/user\/target with Silent got no reply within 1000 ms/);
    expect(system.pendingAsks).toBe(0);
    await system.shutdown();
  });

  test('asks with different timeouts expire each at its own deadline', async () => {
    const { system, clock } = manualSystem();
    const ref = await system.spawn(Target);
    const long = ref.ask(new Silent(), { timeout: 5_000 });
    const short = ref.ask(new Silent(), { timeout: 100 });
    short.catch(() => {});
    const answered = ref.ask(new Ping(), { timeout: 100 });
    long.catch(() => {});
    await expect(answered).resolves.toBe('pong');
    await clock.advance(100);
    await expect(short).rejects.toBeInstanceOf(AskTimeoutError);
    expect(system.pendingAsks).toBe(1);
    await clock.advance(4_900);
    await expect(long).rejects.toBeInstanceOf(AskTimeoutError);
    await system.shutdown();
  });

  test('the default ask timeout comes from the system', async () => {
    const { system, clock } = manualSystem({ askTimeoutMs: 250 });
    const ref = await system.spawn(Target);
    const outcome = expect(ref.ask(new Silent())).rejects.toThrow(/within 250 ms/);
    await clock.advance(250);
    await outcome;
    await system.shutdown();
  });

  test('an error thrown in receive rejects the ask with that error and still reaches the supervisor', async () => {
    await using system = quietSystem();
    @supervised({ backoffInitial: 0 })
    class Fragile extends Target {}
    const failures = record(system, ActorFailed);
    const ref = await system.spawn(Fragile);
    const err = await ref.ask(new Explode('bad input')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toBe('bad input');
    expect(failures).toHaveLength(1);
    // the supervisor restarted it: a fresh instance answers
    await expect(ref.ask(new Ping())).resolves.toBe('pong');
  });

  test('an ask to a stopped actor rejects at once with ActorStoppedError', async () => {
    await using system = quietSystem();
    @supervised({ strategy: SupervisionStrategy.STOP })
    class Stoppable extends Target {}
    const ref = await system.spawn(Stoppable, { name: 'gone' });
    await ref.ask(new Explode('x')).catch(() => {});
    await expect(ref.ask(new Ping())).rejects.toBeInstanceOf(ActorStoppedError);
    await expect(ref.ask(new Ping())).rejects.toThrow(/Actor \/user\/gone is stopped, so Ping was not delivered/);
  });

  test('an unhandled asked message rejects with UnhandledMessageError', async () => {
    await using system = quietSystem();
    class Empty extends Actor<Ping> {}
    const ref = await system.spawn(Empty, { name: 'empty' });
    await expect(ref.ask(new Ping())).rejects.toBeInstanceOf(UnhandledMessageError);
  });

  test('a wrong timeout is rejected at the call', async () => {
    await using system = quietSystem();
    const ref = await system.spawn(Target);
    await expect(ref.ask(new Ping(), { timeout: -5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ref.ask(new Ping(), { timeout: Number.NaN })).rejects.toThrow(/timeout must be/);
  });

  test('many concurrent asks all get their own reply', async () => {
    await using system = quietSystem();
    class Echo extends Actor<unknown> { override async receive(n: number, ctx: Context<unknown>) { await null; ctx.reply(n * 2); } }
    const ref = await system.spawn(Echo);
    const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => ref.ask(i)));
    expect(replies).toEqual(Array.from({ length: 1000 }, (_, i) => i * 2));
    expect(system.pendingAsks).toBe(0);
  });
});
