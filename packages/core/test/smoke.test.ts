import { Actor, ActorSystem, Context, message, Request, handle } from '@casty/core';

@message('smoke.Greet') class Greet { constructor(readonly name: string) {} }
@message('smoke.GetCount') class GetCount extends Request<number> {}
type Msg = Greet | GetCount;

class Greeter extends Actor<Msg> {
  count = 0;
  async receive(msg: Msg, ctx: Context<Msg>): Promise<void> {
    if (msg instanceof Greet) this.count++;
    else if (msg instanceof GetCount) ctx.reply(this.count);
  }
}
@message('smoke.Add') class Add extends Request<number> { constructor(readonly a: number, readonly b: number) { super(); } }
class Calc extends Actor<Add> {
  @handle(Add) add(m: Add): number { return m.a + m.b; }
}

test('smoke', async () => {
  await using system = ActorSystem.create();
  const g = await system.spawn(Greeter, { name: 'g' });
  await g.send(new Greet('a'));
  await g.send(new Greet('b'));
  const n: number = await g.ask(new GetCount());
  expect(n).toBe(2);
  const c = await system.spawn(Calc);
  expect(await c.ask(new Add(2, 3))).toBe(5);
  expect(await system.lookup('g')).toBe(g);
});
