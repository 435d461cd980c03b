// Type-level tests of the public API: what must compile and what must not. The typecheck of `npm test`
// (tsc over packages/*/test) runs them: a `@ts-expect-error` on a line that compiles is itself an error, so
// a hole reopening fails the build. The few runtime tests below run the forms the types introduce.

import type { ActorRef, ActorSystem, Context} from '@casty/core';
import { Actor, handle, InvalidArgumentError, message, Request } from '@casty/core';
import { quietSystem } from './fixtures/recording';

@message('types.Greet') class Greet { constructor(readonly name: string) {} }
@message('types.GetCount') class GetCount extends Request<number> {}
@message('types.GetName') class GetName extends Request<string> {}
@message('types.Rename') class Rename extends Request<void> { constructor(readonly name: string) { super(); } }
type GreeterMsg = Greet | GetCount | GetName | Rename;

/** A request of another actor (replying a type no request of GreeterMsg replies, see "stays open" in message.ts). */
@message('types.Other') class Other extends Request<boolean> {}

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<T extends true>(_proof?: T): void {}

class Greeter extends Actor<GreeterMsg> {
  count = 0;
  name = 'greeter';
  override receive(msg: GreeterMsg, ctx: Context<GreeterMsg>): void {
    if (msg instanceof Greet) {
      this.count++;
      // @ts-expect-error: Greet is sent, not asked: this actor has no reply of type boolean
      ctx.reply(true);
    } else if (msg instanceof GetCount) {
      ctx.reply(this.count);                  // the common case: one argument, checked against the replies of GreeterMsg
      ctx.reply(msg, this.count);             // exact: checked against GetCount's Request<number>
      // @ts-expect-error: GetCount replies a number, not a string
      ctx.reply(msg, this.name);
      // @ts-expect-error: no message of GreeterMsg replies an object
      ctx.reply({ count: this.count });
    } else if (msg instanceof GetName) {
      ctx.reply(msg, this.name);
    } else {
      this.name = msg.name;
      ctx.reply(msg, undefined);
    }
  }
}

class Calculator extends Actor<GetCount | Greet> {
  @handle(GetCount) count(): number { return 1; }
  // @ts-expect-error: a @handle method's return value is the reply, checked against Request<number>
  @handle(GetCount) wrong(): string { return 'one'; }
  @handle(Greet) greet(m: Greet): void { void m; }
}

/** Only compiled: every line states what a caller may and may not write. */
export async function callers(system: ActorSystem): Promise<void> {
  const greeter = await system.spawn(Greeter);
  expectType<Equal<typeof greeter, ActorRef<GreeterMsg>>>();

  // ask: only a Request<R> of the actor's message type, resolving with R
  expectType<Equal<Awaited<ReturnType<typeof greeter.ask<GetCount>>>, number>>();
  const n: number = await greeter.ask(new GetCount());
  const s: string = await greeter.ask(new GetName());
  // @ts-expect-error: Greet is not a Request, so an ask of it would resolve with nothing anyone declared
  await greeter.ask(new Greet('a'));
  // @ts-expect-error: Other is a request, but not one this actor handles
  await greeter.ask(new Other());
  // @ts-expect-error: the reply type is checked at the call too
  const wrong: string = await greeter.ask(new GetCount());
  void n; void s; void wrong;

  await greeter.send(new Greet('a'));
  // @ts-expect-error: not a message of this actor
  await greeter.send('invalid');

  // lookup: typed by a type argument or by the actor class; untyped, the ref accepts no message
  const byType = await system.lookup<GreeterMsg>('greeter');
  expectType<Equal<typeof byType, ActorRef<GreeterMsg> | undefined>>();
  const byClass = await system.lookup(Greeter, 'greeter');
  expectType<Equal<typeof byClass, ActorRef<GreeterMsg> | undefined>>();
  const n2: number | undefined = await byClass?.ask(new GetCount());
  void n2;
  // @ts-expect-error: a ref looked up as a Greeter does not take a Calculator's... nor any other message
  await byClass?.send(new Other());
  const untyped = await system.lookup('greeter');
  expectType<Equal<typeof untyped, ActorRef<never> | undefined>>();
  // @ts-expect-error: an untyped lookup's ref takes no message until it is given a type
  await untyped?.send(new Greet('a'));
  // @ts-expect-error: nor can it be asked
  await untyped?.ask(new GetCount());
  const localByType = system.lookupLocal<GreeterMsg>('greeter');
  expectType<Equal<typeof localByType, ActorRef<GreeterMsg> | undefined>>();
  const localUntyped = system.lookupLocal('greeter');
  expectType<Equal<typeof localUntyped, ActorRef<never> | undefined>>();
  const localByClass = system.lookupLocal(Calculator, 'calculator');
  expectType<Equal<typeof localByClass, ActorRef<GetCount | Greet> | undefined>>();
  // @ts-expect-error: the class must be an actor class
  await system.lookup(Greet, 'greeter');

  // an explicitly untyped ref stays the escape hatch: it takes anything, and an ask resolves with the request's type
  const any = greeter as ActorRef<unknown>;
  const n3: number = await any.ask(new GetCount());
  const u: unknown = await any.ask('anything');
  void n3; void u;
}

describe('typed replies and lookups at run time', () => {
  test('ctx.reply(request, value) answers the ask with the value', async () => {
    const system = quietSystem();
    const greeter = await system.spawn(Greeter, { name: 'greeter' });
    await greeter.send(new Greet('a'));
    await greeter.ask(new Rename('Ada'));
    expect(await greeter.ask(new GetName())).toBe('Ada');
    expect(await greeter.ask(new GetCount())).toBe(1);
    await system.shutdown();
  });

  test('ctx.reply(request, value) with another message than the one being handled is an InvalidArgumentError', async () => {
    const system = quietSystem();
    class Stale extends Actor<GetCount | GetName> {
      first: GetCount | undefined;
      override receive(msg: GetCount | GetName, ctx: Context<GetCount | GetName>): void {
        if (msg instanceof GetCount) ctx.reply(msg, 1);
        else ctx.reply(this.first!, 2);                          // compiles: first is a GetCount; wrong at run time
        if (msg instanceof GetCount) this.first = msg;
      }
    }
    const ref = await system.spawn(Stale);
    expect(await ref.ask(new GetCount())).toBe(1);
    const error = await ref.ask(new GetName()).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(
      /ctx.reply\(request, value\) on \/user\/\$\d+: the request must be the message being handled \(GetName\), got GetCount/);
    await system.shutdown();
  });

  test('lookup(Class, name) and lookupLocal(Class, name) find the actor by name', async () => {
    const system = quietSystem();
    const greeter = await system.spawn(Greeter, { name: 'greeter' });
    const found = await system.lookup(Greeter, 'greeter');
    expect(found?.equals(greeter)).toBe(true);
    expect(system.lookupLocal(Greeter, '/user/greeter')?.equals(greeter)).toBe(true);
    expect(await system.lookup(Greeter, 'nobody')).toBeUndefined();
    expect(await found?.ask(new GetCount())).toBe(0);
    await system.shutdown();
  });
});
