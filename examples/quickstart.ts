// Seed 000 "Quick Start": a greeter that counts greetings, told and asked.
import type { Context } from 'casty';
import { Actor, ActorSystem, message, Request } from 'casty';

@message() export class Greet { constructor(readonly name: string) {} }
@message() export class GetGreetingCount extends Request<number> {}   // a request declares its reply type

type GreeterMsg = Greet | GetGreetingCount;

export class Greeter extends Actor<GreeterMsg> {
  count = 0;
  async receive(msg: GreeterMsg, ctx: Context<GreeterMsg>): Promise<void> {
    if (msg instanceof Greet) { console.log(`Hello, ${msg.name}!`); this.count++; }
    else if (msg instanceof GetGreetingCount) ctx.reply(this.count);
  }
}

await using system = ActorSystem.create();          // Symbol.asyncDispose shuts it down, like `async with`
const greeter = await system.spawn(Greeter);        // ActorRef<GreeterMsg>
await greeter.send(new Greet('Alice'));             // fire-and-forget
await greeter.send(new Greet('Bob'));
const n = await greeter.ask(new GetGreetingCount(), { timeout: 5_000 });   // n: number
console.log(`Total greetings: ${n}`);
