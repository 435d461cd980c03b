// Seed 000 "Message Patterns": fire-and-forget, request-response, and @handle methods whose return
// value is the reply (checked by the compiler against Request<R>).
import { Actor, ActorSystem, AskTimeoutError, handle, message, Request } from 'casty';

@message() class Add extends Request<number> { constructor(readonly a: number, readonly b: number) { super(); } }
@message() class Multiply extends Request<number> { constructor(readonly a: number, readonly b: number) { super(); } }
@message() class DoWork { constructor(readonly taskId: number) {} }
@message() class GetStatus extends Request<string> {}

class Calculator extends Actor<Add | Multiply> {
  @handle(Add) add(m: Add): number { return m.a + m.b; }
  @handle(Multiply) async mul(m: Multiply): Promise<number> { return m.a * m.b; }
}

class Worker extends Actor<DoWork | GetStatus> {
  done: number[] = [];
  @handle(DoWork) work(m: DoWork): void { this.done.push(m.taskId); }
  @handle(GetStatus) status(): string { return `done: ${this.done.join(', ')}`; }
}

class Forgetful extends Actor<GetStatus> {
  receive(): void {}                      // never replies: the asker times out
}

await using system = ActorSystem.create();
const calc = await system.spawn(Calculator);
console.log(`2 + 3 = ${await calc.ask(new Add(2, 3))}`);
console.log(`4 * 5 = ${await calc.ask(new Multiply(4, 5))}`);

const worker = await system.spawn(Worker);
await worker.send(new DoWork(123));     // continues immediately
await worker.send(new DoWork(124));
console.log(await worker.ask(new GetStatus(), { timeout: 5_000 }));

const forgetful = await system.spawn(Forgetful, { name: 'forgetful' });
try {
  await forgetful.ask(new GetStatus(), { timeout: 50 });
} catch (error) {
  if (error instanceof AskTimeoutError) console.log(`timed out: ${error.actor} ${error.messageClass}`);
}
