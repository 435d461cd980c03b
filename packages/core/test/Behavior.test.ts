import type { Context } from '@casty/core';
import { Actor, message, Request } from '@casty/core';
import { quietSystem } from './fixtures/recording';

@message('beh.Activate') class Activate {}
@message('beh.Deactivate') class Deactivate {}
@message('beh.Process') class Process { constructor(readonly data: string) {} }
@message('beh.GetLog') class GetLog extends Request<string[]> {}
type Msg = Activate | Deactivate | Process | GetLog;

// seed 000 "Behavior Switching": the state machine example
class StateMachine extends Actor<Msg> {
  log: string[] = [];
  processed: string[] = [];

  override async receive(msg: Msg, ctx: Context<Msg>): Promise<void> {
    if (msg instanceof Activate) { this.log.push('Activating...'); ctx.become(this.active); }
    else if (msg instanceof Process) this.log.push(`Ignored (inactive): ${msg.data}`);
    else if (msg instanceof GetLog) ctx.reply(this.log);
  }

  async active(msg: Msg, ctx: Context<Msg>): Promise<void> {
    if (msg instanceof Deactivate) { this.log.push('Deactivating...'); ctx.unbecome(); }
    else if (msg instanceof Process) { this.log.push(`Processing: ${msg.data}`); this.processed.push(msg.data); }
    else if (msg instanceof GetLog) ctx.reply(this.log);
  }
}

test('become/unbecome switch behaviour (seed state machine)', async () => {
  await using system = quietSystem();
  const machine = await system.spawn(StateMachine);
  await machine.send(new Process('ignored'));
  await machine.send(new Activate());
  await machine.send(new Process('hello'));
  await machine.send(new Process('world'));
  await machine.send(new Deactivate());
  await machine.send(new Process('ignored'));
  expect(await machine.ask(new GetLog())).toEqual([
    'Ignored (inactive): ignored', 'Activating...', 'Processing: hello', 'Processing: world', 'Deactivating...',
    'Ignored (inactive): ignored',
  ]);
});

test('the behaviour stack: push, pop, and discardOld replaces the top', async () => {
  await using system = quietSystem();
  class Stack extends Actor<unknown> {
    override receive(msg: unknown, ctx: Context<unknown>) { this.handle('receive', msg, ctx); }
    b1(msg: unknown, ctx: Context<unknown>) { this.handle('b1', msg, ctx); }
    b2(msg: unknown, ctx: Context<unknown>) { this.handle('b2', msg, ctx); }
    handle(who: string, msg: unknown, ctx: Context<unknown>) {
      if (msg === 'push1') ctx.become(this.b1);
      else if (msg === 'push2') ctx.become(this.b2);
      else if (msg === 'replace2') ctx.become(this.b2, { discardOld: true });
      else if (msg === 'pop') ctx.unbecome();
      else ctx.reply(who);
    }
  }
  const ref = await system.spawn(Stack);
  const who = () => ref.ask('who');
  await ref.send('push1'); await ref.send('push2');
  expect(await who()).toBe('b2');
  await ref.send('pop');
  expect(await who()).toBe('b1');
  await ref.send('pop');
  expect(await who()).toBe('receive');
  await ref.send('pop');                             // popping an empty stack is harmless
  expect(await who()).toBe('receive');
  await ref.send('push1'); await ref.send('replace2');
  expect(await who()).toBe('b2');
  await ref.send('pop');
  expect(await who()).toBe('receive');
});
