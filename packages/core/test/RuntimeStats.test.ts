// runtimeStats (core/internal): the counters the management endpoint and metrics read. Each message processed is
// counted once, whether it was a tell, an ask, or processed after an async receive resumed; asks are counted when
// made and when they time out.

import type { Context } from '@casty/core';
import { Actor, message, Request } from '@casty/core';
import { runtimeStats } from '@casty/core/internal';
import { manualSystem } from './fixtures/recording';

@message('stats.Tick') class Tick {}
@message('stats.Ping') class Ping extends Request<string> {}
@message('stats.Silent') class Silent extends Request<string> {}
type Msg = Tick | Ping | Silent;

class Target extends Actor<Msg> {
  ticks = 0;
  override async receive(msg: Msg, ctx: Context<Msg>) {
    if (msg instanceof Tick) {
      await Promise.resolve(); // an async step: the rest of the mailbox resumes after it
      this.ticks++;
    } else if (msg instanceof Ping) ctx.reply('pong');
  }
}

test('counts messages processed, asks made, pending and timed out', async () => {
  const { system, clock } = manualSystem();
  const ref = await system.spawn(Target, { name: 'target' });
  const before = runtimeStats(system);
  for (let i = 0; i < 100; i++) await ref.send(new Tick());
  await expect(ref.ask(new Ping())).resolves.toBe('pong');
  const silent = ref.ask(new Silent(), { timeout: 1_000 });
  silent.catch(() => undefined);
  await expect(ref.ask(new Ping())).resolves.toBe('pong');
  const during = runtimeStats(system);
  expect(during.messagesProcessed - before.messagesProcessed).toBe(103);
  expect(during.asksStarted - before.asksStarted).toBe(3);
  expect(during.asksPending).toBe(1);
  expect(during.asksTimedOut).toBe(before.asksTimedOut);
  await clock.advance(1_000);
  await expect(silent).rejects.toThrow(/no reply within 1000 ms/);
  const after = runtimeStats(system);
  expect(after.asksTimedOut - before.asksTimedOut).toBe(1);
  expect(after.asksPending).toBe(0);
  await system.shutdown();
});
