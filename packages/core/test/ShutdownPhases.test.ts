// Shutdown in named phases ('hand-off', 'leave', 'actors-stop', 'close'): phases run strictly in order, the
// tasks of one phase in parallel; a task that throws or hangs past the phase timeout is logged and shutdown
// goes on; the old beforeShutdown/afterShutdown hooks run in 'leave' and 'close'; shutdown() stays idempotent.

import { Actor, ActorSystem, ExtensionKey, InvalidArgumentError, message, Request, SHUTDOWN_PHASES } from '@casty/core';
import type { Context, Logger, ShutdownPhase, SystemExtension } from '@casty/core';
import { flushMicrotasks, ManualClock } from '@casty/core/testing';

interface Line { level: 'debug' | 'warn' | 'error'; message: string; error: unknown }
function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (message: string, error?: unknown) => lines.push({ level, message, error });
  return { logger: { debug: at('debug'), warn: at('warn'), error: at('error') }, lines };
}

@message('shutdown-phases.Ping') class Ping extends Request<string> { constructor(readonly text: string) { super(); } }

/** Answers a Ping with its text. */
class Echo extends Actor<Ping> {
  override receive(msg: Ping, ctx: Context<Ping>): void { ctx.reply(msg.text); }
}

/** Records its own stop in `log`. */
class Recorder extends Actor<never> {
  constructor(private readonly log: string[], private readonly label: string) { super(); }
  override receive(): void {}
  override onStop(): void {
    this.log.push(`actor ${this.label} stopped`);
  }
}

describe('shutdown phases', () => {
  test('the phases are hand-off, leave, actors-stop, close, in that order', () => {
    expect(SHUTDOWN_PHASES).toEqual(['hand-off', 'leave', 'actors-stop', 'close']);
  });

  test('tasks run phase by phase, in order, with the actors stopping in actors-stop before its tasks', async () => {
    const system = ActorSystem.create({ logger: recordingLogger().logger });
    const log: string[] = [];
    await system.spawn(Recorder, { name: 'r', args: [log, 'r'] });
    // Added in reverse order of the phases: the phase decides when a task runs, not when it was added.
    for (const phase of [...SHUTDOWN_PHASES].reverse()) {
      system.shutdownPhases.add(phase, `${phase}-task`, async () => {
        log.push(`${phase} started`);
        await new Promise((resolve) => setImmediate(resolve));
        log.push(`${phase} done`);
      });
    }
    await system.shutdown();
    expect(log).toEqual([
      'hand-off started', 'hand-off done',
      'leave started', 'leave done',
      'actor r stopped',
      'actors-stop started', 'actors-stop done',
      'close started', 'close done',
    ]);
  });

  test('an actor is still running, and can be asked, while a hand-off task runs', async () => {
    const system = ActorSystem.create({ logger: recordingLogger().logger });
    const echo = await system.spawn(Echo, { name: 'echo' });
    let answer: unknown;
    system.shutdownPhases.add('hand-off', 'ask-echo', async () => {
      answer = await echo.ask(new Ping('still here'));
    });
    await system.shutdown();
    expect(answer).toBe('still here');
  });

  test('the tasks of one phase run in parallel: the phase ends when the last one settles', async () => {
    const system = ActorSystem.create({ logger: recordingLogger().logger });
    const log: string[] = [];
    let releaseFirst!: () => void;
    system.shutdownPhases.add('hand-off', 'first', async () => {
      log.push('first started');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      log.push('first done');
    });
    system.shutdownPhases.add('hand-off', 'second', () => {
      log.push('second ran');
      releaseFirst();
    });
    system.shutdownPhases.add('leave', 'next', () => void log.push('leave ran'));
    await system.shutdown();
    expect(log).toEqual(['first started', 'second ran', 'first done', 'leave ran']);
  });

  test('a task that throws is logged, and the other tasks and later phases still run', async () => {
    const { logger, lines } = recordingLogger();
    const system = ActorSystem.create({ logger });
    const log: string[] = [];
    await system.spawn(Recorder, { name: 'r', args: [log, 'r'] });
    system.shutdownPhases.add('hand-off', 'broken', () => { throw new Error('boom'); });
    system.shutdownPhases.add('hand-off', 'rejecting', () => Promise.reject(new Error('async boom')));
    system.shutdownPhases.add('hand-off', 'fine', () => void log.push('fine ran'));
    system.shutdownPhases.add('close', 'closing', () => void log.push('close ran'));
    await system.shutdown();
    expect(log).toEqual(['fine ran', 'actor r stopped', 'close ran']);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.message)).toEqual([
      expect.stringContaining(`shutdown task 'broken' in phase 'hand-off'`),
      expect.stringContaining(`shutdown task 'rejecting' in phase 'hand-off'`),
    ]);
    expect((errors[0]!.error as Error).message).toBe('boom');
    expect((errors[1]!.error as Error).message).toBe('async boom');
  });

  test('a task that hangs past the phase timeout is logged and shutdown goes on (manual clock)', async () => {
    const clock = new ManualClock();
    const { logger, lines } = recordingLogger();
    const system = ActorSystem.create({ clock, logger, shutdownPhaseTimeoutMs: 5_000 });
    const log: string[] = [];
    await system.spawn(Recorder, { name: 'r', args: [log, 'r'] });
    system.shutdownPhases.add('leave', 'hangs', () => new Promise<void>(() => {}));
    system.shutdownPhases.add('leave', 'quick', () => void log.push('quick ran'));
    system.shutdownPhases.add('close', 'closing', () => void log.push('close ran'));
    let finished = false;
    const done = system.shutdown().then(() => (finished = true));
    await flushMicrotasks();
    await clock.advance(4_999);
    await flushMicrotasks();
    expect(finished).toBe(false);
    expect(log).toEqual(['quick ran']);
    await clock.advance(1);
    await done;
    expect(log).toEqual(['quick ran', 'actor r stopped', 'close ran']);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      `shutdown phase 'leave' of 'casty' did not finish within 5000 ms; still running: 'hangs'; shutdown goes on`,
    ]);
  });

  test('beforeShutdown runs in the leave phase and afterShutdown in the close phase', async () => {
    const system = ActorSystem.create({ logger: recordingLogger().logger });
    const log: string[] = [];
    await system.spawn(Recorder, { name: 'r', args: [log, 'r'] });
    const legacy: SystemExtension = {
      beforeShutdown: () => Promise.resolve(void log.push('beforeShutdown')),
      afterShutdown: () => Promise.resolve(void log.push('afterShutdown')),
    };
    system.registerExtension(new ExtensionKey('test.legacy'), legacy);
    expect(system.shutdownPhases.names('leave')).toEqual(['test.legacy.beforeShutdown']);
    expect(system.shutdownPhases.names('close')).toEqual(['test.legacy.afterShutdown']);
    system.shutdownPhases.add('hand-off', 'hand-off', () => void log.push('hand-off'));
    await system.shutdown();
    expect(log).toEqual(['hand-off', 'beforeShutdown', 'actor r stopped', 'afterShutdown']);
  });

  test('shutdown() is idempotent: each task runs once, and every call returns the same promise', async () => {
    const system = ActorSystem.create({ logger: recordingLogger().logger });
    let runs = 0;
    system.shutdownPhases.add('hand-off', 'count', () => void runs++);
    const first = system.shutdown();
    const second = system.shutdown();
    expect(second).toBe(first);
    await Promise.all([first, second, system.whenTerminated]);
    await system.shutdown();
    expect(runs).toBe(1);
  });

  test('add() refuses an unknown phase, a task that is not a function, and a task once shutdown has begun', async () => {
    const system = ActorSystem.create({ logger: recordingLogger().logger });
    expect(() => system.shutdownPhases.add('before-service-unbind' as ShutdownPhase, 'x', () => {}))
      .toThrow(new InvalidArgumentError(`shutdownPhases.add: unknown phase "before-service-unbind"; ` +
        `the phases are 'hand-off', 'leave', 'actors-stop', 'close'`));
    expect(() => system.shutdownPhases.add('close', 'x', 'nope' as never)).toThrow(InvalidArgumentError);
    await system.shutdown();
    expect(() => system.shutdownPhases.add('close', 'late', () => {})).toThrow(/already shutting down/);
  });

  test('shutdownPhaseTimeoutMs is validated', () => {
    for (const bad of [0, -1, Number.NaN, 2 ** 31, '10' as unknown as number]) {
      expect(() => ActorSystem.create({ shutdownPhaseTimeoutMs: bad })).toThrow(InvalidArgumentError);
    }
  });
});
