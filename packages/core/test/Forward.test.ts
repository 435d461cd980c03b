// ctx.forward (Akka's forward): a router passes a message on, and the target's reply answers the original ask.

import { Actor, AskTimeoutError, message, Request } from '@casty/core';
import type { ActorRef , Context} from '@casty/core';
import { manualSystem, quietSystem } from './fixtures/recording';

@message('fwd.Double') class Double extends Request<number> { constructor(readonly n: number) { super(); } }
@message('fwd.Note') class Note { constructor(readonly text: string) {} }
@message('fwd.Fail') class Fail extends Request<never> {}
@message('fwd.Silent') class Silent extends Request<number> {}
@message('fwd.Notes') class Notes extends Request<string[]> {}
type WorkerMsg = Double | Note | Fail | Silent | Notes;

class Worker extends Actor<WorkerMsg> {
  notes: string[] = [];
  override receive(msg: WorkerMsg, ctx: Context<WorkerMsg>): void {
    if (msg instanceof Double) ctx.reply(msg.n * 2);
    else if (msg instanceof Note) this.notes.push(msg.text);
    else if (msg instanceof Fail) throw new Error('worker failed');
    else if (msg instanceof Notes) ctx.reply(this.notes);
    // Silent: never answers
  }
}

class Router extends Actor<WorkerMsg> {
  constructor(private readonly worker: ActorRef<WorkerMsg>) { super(); }
  override receive(msg: WorkerMsg, ctx: Context<WorkerMsg>): void {
    ctx.forward(this.worker, msg);
    ctx.reply(-1); // ignored: the forwarded ask is the worker's to answer
  }
}

test('an ask forwarded is answered by the target', async () => {
  await using system = quietSystem();
  const worker = await system.spawn(Worker);
  const router = await system.spawn(Router, { args: [worker] });
  expect(await router.ask(new Double(21))).toBe(42);
});

test('a send forwarded is a send: the target gets it, in order', async () => {
  await using system = quietSystem();
  const worker = await system.spawn(Worker);
  const router = await system.spawn(Router, { args: [worker] });
  for (const t of ['a', 'b', 'c']) await router.send(new Note(t));
  // the router's mailbox is drained in order, each forwarded before the next is taken
  await router.ask(new Double(0));
  expect(await worker.ask(new Notes())).toEqual(['a', 'b', 'c']);
});

test('the target\'s failure fails the original ask', async () => {
  await using system = quietSystem();
  const worker = await system.spawn(Worker);
  const router = await system.spawn(Router, { args: [worker] });
  await expect(router.ask(new Fail())).rejects.toThrow('worker failed');
});

test('a forwarded ask keeps its original deadline', async () => {
  const { system, clock } = manualSystem();
  await using _ = system;
  const worker = await system.spawn(Worker);
  const router = await system.spawn(Router, { args: [worker] });
  const asked = router.ask(new Silent(), { timeout: 1_000 });
  let settled = false;
  const outcome = asked.then(() => 'resolved', (e: unknown) => e).finally(() => { settled = true; });
  await clock.advance(999);
  expect(settled).toBe(false);
  await clock.advance(1);
  const error = await outcome;
  expect(error).toBeInstanceOf(AskTimeoutError);
  expect(system.pendingAsks).toBe(0);
});
