// A supervised failure is logged once, where the supervisor handles it, with the actor's path, the message
// class and the error (as Akka logs "... failed"), so a crash in a fire-and-forget send is not invisible.
// `logFailures: false` turns it off.

import {
  Actor, ActorSystem, consoleLogger, InvalidArgumentError, message, supervised, SupervisionStrategy,
  ActorStopped, ActorRestarted,
} from '@casty/core';
import type { Context, Logger } from '@casty/core';
import { ManualClock } from '@casty/core/testing';
import { record } from './fixtures/recording';

@message('log.Crash') class Crash { constructor(readonly why = 'boom') {} }
@message('log.Work') class Work {}

class Worker extends Actor<Crash | Work> {
  override receive(msg: Crash | Work): void {
    if (msg instanceof Crash) throw new Error(msg.why);
  }
}

interface Line { level: 'debug' | 'warn' | 'error'; message: string; error: unknown }
function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (message: string, error?: unknown) => lines.push({ level, message, error });
  return { logger: { debug: at('debug'), warn: at('warn'), error: at('error') }, lines };
}

function system(options: { logFailures?: boolean } = {}): { system: ActorSystem; clock: ManualClock; lines: Line[] } {
  const clock = new ManualClock();
  const { logger, lines } = recordingLogger();
  return { system: ActorSystem.create({ clock, logger, ...options }), clock, lines };
}

describe('a supervised failure is logged once, by default', () => {
  test('a crash in a sent message is logged with the path, the message class and the error, and the restart', async () => {
    const { system: sys, clock, lines } = system();
    const restarted = record(sys, ActorRestarted);
    const ref = await sys.spawn(Worker, { name: 'worker' });
    await ref.send(new Crash('disk full'));
    await clock.advance(100);
    expect(restarted).toHaveLength(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('error');
    expect(lines[0]!.message).toBe(
      '/user/worker failed on Crash: Error: disk full; restarting it in 100 ms (restart 1 of 3 within 60 s)');
    expect((lines[0]!.error as Error).message).toBe('disk full'); // the error itself, so a logger prints its stack
    await ref.send(new Crash());
    await clock.advance(200);
    expect(lines.map((l) => l.message)).toEqual([
      '/user/worker failed on Crash: Error: disk full; restarting it in 100 ms (restart 1 of 3 within 60 s)',
      '/user/worker failed on Crash: Error: boom; restarting it in 200 ms (restart 2 of 3 within 60 s)',
    ]);
    await sys.shutdown();
  });

  test('with no logger given, it is printed to stderr (console.error)', async () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const clock = new ManualClock();
      const sys = ActorSystem.create({ clock });
      expect(sys.logger).toBe(consoleLogger);
      const ref = await sys.spawn(Worker, { name: 'quiet' });
      await ref.send(new Crash());
      await clock.advance(100);
      expect(printed).toHaveBeenCalledTimes(1);
      expect(printed.mock.calls[0]![0]).toMatch(/^\[casty\] \/user\/quiet failed on Crash: Error: boom; restarting it/);
      await sys.shutdown();
    } finally {
      printed.mockRestore();
    }
  });

  test('STOP: one line saying it stops', async () => {
    @supervised({ strategy: SupervisionStrategy.STOP })
    class Fragile extends Worker {}
    const { system: sys, lines } = system();
    const stopped = sys.events.next(ActorStopped);
    const ref = await sys.spawn(Fragile, { name: 'fragile' });
    await ref.send(new Crash());
    await stopped;
    expect(lines.map((l) => l.message)).toEqual(['/user/fragile failed on Crash: Error: boom; stopping it (strategy STOP)']);
    await sys.shutdown();
  });

  test('past maxRestarts: the last failure is one line saying it stops, not a failure line and a stop line', async () => {
    @supervised({ maxRestarts: 1, backoffInitial: 0 })
    class Twice extends Worker {}
    const { system: sys, clock, lines } = system();
    const stopped = sys.events.next(ActorStopped);
    const ref = await sys.spawn(Twice, { name: 'twice' });
    await ref.send(new Crash('one'));
    await clock.advance(0);
    await ref.send(new Crash('two'));
    await stopped;
    expect(lines.map((l) => `${l.level} ${l.message}`)).toEqual([
      'error /user/twice failed on Crash: Error: one; restarting it in 0 ms (restart 1 of 1 within 60 s)',
      'error /user/twice failed on Crash: Error: two; stopping it: 2 failures within 60 s, over maxRestarts 1',
    ]);
    await sys.shutdown();
  });

  test('ESCALATE: logged once, by the parent that handles it, naming the child and its message', async () => {
    @supervised({ strategy: SupervisionStrategy.ESCALATE })
    class Child extends Worker {}
    class Parent extends Actor<Crash> {
      override async receive(msg: Crash, ctx: Context<Crash>): Promise<void> {
        const child = await ctx.spawn(Child, { name: 'c' });
        await child.send(msg);
      }
    }
    const { system: sys, clock, lines } = system();
    const restarted = record(sys, ActorRestarted);
    const parent = await sys.spawn(Parent, { name: 'p' });
    await parent.send(new Crash());
    await clock.advance(100);
    expect(restarted.map((e) => e.ref.path)).toContain('/user/p');
    expect(lines.map((l) => l.message)).toEqual([
      '/user/p failed: its child /user/p/c escalated a failure on Crash: Error: boom; restarting it in 100 ms (restart 1 of 3 within 60 s)',
    ]);
    await sys.shutdown();
  });

  test('a top-level actor that escalates: one line saying the system restarts it', async () => {
    @supervised({ strategy: SupervisionStrategy.ESCALATE })
    class Escalating extends Worker {}
    const { system: sys, clock, lines } = system();
    const ref = await sys.spawn(Escalating, { name: 'top' });
    await ref.send(new Crash());
    await clock.advance(100);
    expect(lines.map((l) => l.message)).toEqual([
      '/user/top failed on Crash: Error: boom (escalated to the system, whose default restarts it); ' +
      'restarting it in 100 ms (restart 1 of 3 within 60 s)',
    ]);
    await sys.shutdown();
  });

  test('onError returning true (the actor handled it) is not logged', async () => {
    class Tolerant extends Worker {
      override onError(): boolean {
        return true;
      }
    }
    const { system: sys, lines } = system();
    const ref = await sys.spawn(Tolerant);
    await ref.send(new Crash());
    await ref.send(new Work());
    await sys.shutdown();
    expect(lines).toEqual([]);
  });
});

describe('logFailures: false', () => {
  test('a restart is not logged; reaching the restart limit still is (as before)', async () => {
    @supervised({ maxRestarts: 1, backoffInitial: 0 })
    class Twice extends Worker {}
    const { system: sys, clock, lines } = system({ logFailures: false });
    const stopped = sys.events.next(ActorStopped);
    const ref = await sys.spawn(Twice, { name: 'twice' });
    await ref.send(new Crash('one'));
    await clock.advance(0);
    expect(lines).toEqual([]);
    await ref.send(new Crash('two'));
    await stopped;
    expect(lines.map((l) => `${l.level} ${l.message}`)).toEqual([
      'warn /user/twice failed 2 times within 60s (maxRestarts 1); stopping it',
    ]);
    await sys.shutdown();
  });

  test('a value that is not a boolean is an InvalidArgumentError at create', () => {
    expect(() => ActorSystem.create({ logFailures: 'no' as unknown as boolean })).toThrow(InvalidArgumentError);
    expect(() => ActorSystem.create({ logFailures: 'no' as unknown as boolean }))
      .toThrow('ActorSystem.create: logFailures must be true or false, got "no"');
  });
});
