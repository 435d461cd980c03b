// Messages and actors the remote messaging tests run on two or three nodes.

import { Actor, CastyError, message, registerErrorClass, Request } from '@casty/core';
import type { ActorRef, Context } from '@casty/core';

@message('test.remote.Add') export class Add { constructor(readonly n: number) {} }
@message('test.remote.GetTotal') export class GetTotal extends Request<number> {}
@message('test.remote.Seq') export class Seq { constructor(readonly from: string, readonly n: number) {} }
@message('test.remote.GetSeqs') export class GetSeqs extends Request<number[]> { constructor(readonly from: string) { super(); } }
@message('test.remote.Greet') export class Greet { constructor(readonly name: string, readonly replyTo: ActorRef<Greeting>) {} }
@message('test.remote.Greeting') export class Greeting { constructor(readonly text: string) {} }
@message('test.remote.GetGreetings') export class GetGreetings extends Request<string[]> {}
@message('test.remote.Echo') export class Echo<T = unknown> extends Request<T> { constructor(readonly value: T) { super(); } }
@message('test.remote.Fail') export class Fail extends Request<never> { constructor(readonly how: 'registered' | 'plain') { super(); } }
@message('test.remote.Ignore') export class Ignore extends Request<never> {}
@message('test.remote.Forward') export class Forward extends Request<string> {
  constructor(readonly to: ActorRef<Greet>, readonly name: string) { super(); }
}

/** A registered error class: it comes back from a remote ask as itself. */
export class OutOfStockError extends CastyError {
  static readonly code = 'TEST_OUT_OF_STOCK';
  constructor(readonly item: string) {
    super(OutOfStockError.code, `No ${item} left; order fewer or wait for a delivery`);
  }
}
registerErrorClass(OutOfStockError.code, OutOfStockError);

/** Sums Add messages; replies to GetTotal. */
export class Counter extends Actor<Add | GetTotal> {
  total = 0;
  override receive(msg: Add | GetTotal, ctx: Context<Add | GetTotal>): void {
    if (msg instanceof Add) this.total += msg.n;
    else ctx.reply(this.total);
  }
}

/** Records sequence numbers per sender. */
export class Recorder extends Actor<Seq | GetSeqs> {
  readonly seen = new Map<string, number[]>();
  override receive(msg: Seq | GetSeqs, ctx: Context<Seq | GetSeqs>): void {
    if (msg instanceof Seq) {
      let list = this.seen.get(msg.from);
      if (list === undefined) this.seen.set(msg.from, (list = []));
      list.push(msg.n);
    } else {
      ctx.reply(this.seen.get(msg.from) ?? []);
    }
  }
}

/** Answers Greet by sending a Greeting to the ref inside the message. */
export class Greeter extends Actor<Greet> {
  override async receive(msg: Greet): Promise<void> {
    await msg.replyTo.send(new Greeting(`Hello, ${msg.name}!`));
  }
}

/** Keeps the greetings it receives; Forward asks it to greet through another (remote) greeter. */
export class Inbox extends Actor<Greeting | GetGreetings | Forward> {
  readonly texts: string[] = [];
  override async receive(msg: Greeting | GetGreetings | Forward, ctx: Context<Greeting | GetGreetings | Forward>): Promise<void> {
    if (msg instanceof Greeting) this.texts.push(msg.text);
    else if (msg instanceof GetGreetings) ctx.reply([...this.texts]);
    else {
      await msg.to.send(new Greet(msg.name, ctx.selfRef as ActorRef<Greeting>));
      ctx.reply('forwarded');
    }
  }
}

/** Echoes, fails on request, or never answers. */
export class Service extends Actor<Echo | Fail | Ignore> {
  override onError(): boolean {
    return true; // keep going: the failures here are on purpose
  }

  override receive(msg: Echo | Fail | Ignore, ctx: Context<Echo | Fail | Ignore>): void {
    if (msg instanceof Echo) ctx.reply(msg.value);
    else if (msg instanceof Fail) {
      if (msg.how === 'registered') throw new OutOfStockError('widgets');
      throw new RangeError('plain failure on purpose');
    }
  }
}
