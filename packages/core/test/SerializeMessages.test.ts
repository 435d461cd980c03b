import type { ActorRef, Context } from '@casty/core';
import { Actor, ActorStoppedError, message, MessageEncodingError, Request } from '@casty/core';
import { quietSystem } from './fixtures/recording';

@message('ser.Point') class Point { constructor(readonly x: number, readonly y: number) {} }
@message('ser.Store') class Store { constructor(readonly at: Point, readonly tags: Set<string>, readonly replyTo: ActorRef<Point>) {} }
@message('ser.Get') class Get extends Request<Point[]> {}
class NotOnTheWire { constructor(readonly secret: string) {} }
@message('ser.Carrier') class Carrier { constructor(readonly payload: unknown) {} }

class Keeper extends Actor<Store | Get | Carrier> {
  points: Point[] = [];
  override async receive(msg: Store | Get | Carrier, ctx: Context<Store | Get | Carrier>) {
    if (msg instanceof Store) { this.points.push(msg.at); await msg.replyTo.send(msg.at); }
    else if (msg instanceof Get) ctx.reply(this.points);
  }
}
class Sink extends Actor<Point> { static got: Point[] = []; override receive(p: Point) { Sink.got.push(p); } }

test('with serializeMessages, messages arrive as decoded copies and refs inside them still reach their actor', async () => {
  await using system = quietSystem({ serializeMessages: true });
  const keeper = await system.spawn(Keeper);
  const sink = await system.spawn(Sink, { name: 'sink' });
  const original = new Point(1, 2);
  await keeper.send(new Store(original, new Set(['a']), sink));
  const stored = await keeper.ask(new Get());
  expect(stored[0]).toBeInstanceOf(Point);
  expect(stored[0]).toEqual(original);
  expect(stored[0]).not.toBe(original);           // it crossed the (simulated) wire
  expect(Sink.got).toHaveLength(1);
});

test('with serializeMessages, a message that cannot cross the wire fails at send, naming the class and the fix', async () => {
  await using system = quietSystem({ serializeMessages: true });
  const keeper = await system.spawn(Keeper);
  const sending = keeper.send(new Carrier(new NotOnTheWire('x')));
  await expect(sending).rejects.toBeInstanceOf(MessageEncodingError);
  await expect(sending).rejects.toThrow(/NotOnTheWire is not registered for the wire; decorate it with @message/);
  await expect(keeper.ask(new Carrier(() => 1) as never)).rejects.toBeInstanceOf(MessageEncodingError);
});

test('a decoded ref to a stopped actor turns sends into dead letters and asks into ActorStoppedError', async () => {
  await using system = quietSystem({ serializeMessages: true });
  class Holder extends Actor<Carrier | Get> {
    held: unknown;
    override receive(msg: Carrier | Get, ctx: Context<Carrier | Get>) {
      if (msg instanceof Carrier) this.held = msg.payload; else ctx.reply(this.held as never);
    }
  }
  const holder = await system.spawn(Holder);
  const sink = await system.spawn(Sink, { name: 'short-lived' });
  const stopper = await system.spawn(class extends Actor<unknown> {
    override async receive(_m: string, ctx: Context<unknown>) { await ctx.stop(sink as never); ctx.reply('ok'); }
  });
  await stopper.ask('stop');
  await holder.send(new Carrier(sink));
  const ref = (await holder.ask(new Get())) as unknown as ActorRef<Point>;
  await expect(ref.ask(new Point(0, 0) as never)).rejects.toBeInstanceOf(ActorStoppedError);
});
