// The Logger seam with the loggers people use: pino takes (object, message), winston (message, meta), the
// console (message, ...values). A failure's error object must reach each of them whole, levels filter, and
// JSON lines carry the error's fields. The fakes below are shaped as pino and winston are (no dependency).

import {
  Actor, ActorSystem, AskTimeoutError, consoleLogger, createConsoleLogger, InvalidArgumentError, jsonLogger, message,
  pinoLogger, serializeError, winstonLogger, withLevel,
} from '@casty/core';
import type { Logger } from '@casty/core';
import { ManualClock } from '@casty/core/testing';

@message('loggers.Crash') class Crash {}

class Crasher extends Actor<Crash> {
  override receive(): void {
    throw new Error('disk full', { cause: new Error('ENOSPC') });
  }
}

/** A pino-shaped logger: level methods taking (object, message), plus what tells a pino instance apart. */
function fakePino() {
  const calls: Array<{ level: string; object: Record<string, unknown>; message: string }> = [];
  const at = (level: string) => (object: Record<string, unknown>, message: string) => calls.push({ level, object, message });
  return {
    calls,
    logger: { debug: at('debug'), warn: at('warn'), error: at('error'), info: at('info'),
      levels: { values: { debug: 20, info: 30, warn: 40, error: 50 } }, bindings: () => ({}) },
  };
}

/** A winston-shaped logger: level methods taking (message, meta). */
function fakeWinston() {
  const calls: Array<{ level: string; message: string; meta: Record<string, unknown> | undefined }> = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => calls.push({ level, message, meta });
  return { calls, logger: { debug: at('debug'), warn: at('warn'), error: at('error') } };
}

async function crashWith(logger: Logger): Promise<void> {
  const clock = new ManualClock();
  const system = ActorSystem.create({ clock, logger });
  const ref = await system.spawn(Crasher, { name: 'crasher' });
  await ref.send(new Crash());
  await clock.advance(100);
  await system.shutdown();
}

describe('adapters keep the error object', () => {
  test('pinoLogger: the error goes under err (pino serializes it there), the message second', async () => {
    const pino = fakePino();
    await crashWith(pinoLogger(pino.logger));
    const failure = pino.calls.find((c) => c.level === 'error')!;
    expect(failure.message).toMatch(/^\/user\/crasher failed on Crash: Error: disk full; restarting it/);
    expect(failure.object.err).toBeInstanceOf(Error);
    expect((failure.object.err as Error).message).toBe('disk full');
    pinoLogger(pino.logger).debug('no error');
    expect(pino.calls.at(-1)).toEqual({ level: 'debug', object: {}, message: 'no error' });
  });

  test('a pino logger passed as it is is refused at the call, naming pinoLogger (it would drop the error)', () => {
    const { logger } = fakePino();
    // real pino types its methods (msg: string, ...args) too, so TypeScript lets it through; the check does not
    expect(() => ActorSystem.create({ logger: logger as never })).toThrow(InvalidArgumentError);
    expect(() => ActorSystem.create({ logger: logger as never })).toThrow(/looks like pino.*pass pinoLogger\(yourPinoLogger\)/);
  });

  test('winstonLogger: the error as plain fields under err, so a JSON format prints it (an Error would print as {})', async () => {
    const winston = fakeWinston();
    await crashWith(winstonLogger(winston.logger));
    const failure = winston.calls.find((c) => c.level === 'error')!;
    expect(failure.message).toMatch(/^\/user\/crasher failed on Crash/);
    const printed = JSON.parse(JSON.stringify(failure.meta)) as { err: Record<string, unknown> };
    expect(printed.err).toMatchObject({ name: 'Error', message: 'disk full', cause: { message: 'ENOSPC' } });
    expect(printed.err.stack).toMatch(/Error: disk full\n\s+at /);
  });

  test('the console logger prints the error itself (its stack) after the message', async () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await crashWith(consoleLogger);
      expect(printed).toHaveBeenCalledTimes(1);
      expect(printed.mock.calls[0]![1]).toBeInstanceOf(Error);
    } finally {
      printed.mockRestore();
    }
  });

  test('an adapter or a logger without the level methods is refused, saying which are missing', () => {
    expect(() => pinoLogger({} as never)).toThrow('pinoLogger() needs a pino logger (an object with debug, warn and error methods); it has no debug, warn, error');
    expect(() => winstonLogger(undefined as never)).toThrow(/winstonLogger\(\) needs a winston logger.*got undefined/);
    expect(() => ActorSystem.create({ logger: { warn() {}, error() {} } as never })).toThrow('ActorSystem.create: logger must be a Logger (an object with debug, warn and error methods); it has no debug');
  });
});

describe('jsonLogger', () => {
  test('one JSON object per line, with the error as fields (code of a Casty error included) and extra fields', () => {
    const lines: string[] = [];
    const logger = jsonLogger({ write: (line) => lines.push(line), now: () => 0, fields: { node: 'node-1' } });
    logger.warn('ask failed', new AskTimeoutError('/user/a', 'Ping', 5));
    logger.error('plain');
    logger.debug('dropped at the default level');
    expect(lines).toHaveLength(2);
    const [warn, error] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(warn).toMatchObject({ time: '1970-01-01T00:00:00.000Z', level: 'warn', node: 'node-1', msg: 'ask failed',
      err: { name: 'AskTimeoutError', code: 'ASK_TIMEOUT' } });
    expect(error).toEqual({ time: '1970-01-01T00:00:00.000Z', level: 'error', node: 'node-1', msg: 'plain' });
    expect(lines.every((line) => !line.includes('\n'))).toBe(true);
  });

  test('levels: debug lets everything through, error only errors, silent nothing', () => {
    const count = (level: 'debug' | 'warn' | 'error' | 'silent') => {
      const lines: string[] = [];
      const logger = jsonLogger({ level, write: (line) => lines.push(line) });
      logger.debug('d'); logger.warn('w'); logger.error('e');
      return lines.map((line) => (JSON.parse(line) as { level: string }).level);
    };
    expect(count('debug')).toEqual(['debug', 'warn', 'error']);
    expect(count('warn')).toEqual(['warn', 'error']);
    expect(count('error')).toEqual(['error']);
    expect(count('silent')).toEqual([]);
  });

  test('a wrong level or option is refused at the call', () => {
    expect(() => jsonLogger({ level: 'info' as never })).toThrow("jsonLogger: level must be 'debug', 'warn', 'error' or 'silent', got \"info\"");
    expect(() => jsonLogger({ levle: 'debug' } as never)).toThrow("jsonLogger: unknown option 'levle'");
    expect(() => jsonLogger({ write: 'stderr' } as never)).toThrow('jsonLogger: write must be a function, got string');
    expect(() => createConsoleLogger({ level: 'verbose' as never })).toThrow(InvalidArgumentError);
  });
});

describe('levels on any logger', () => {
  test('withLevel passes calls at the level and above on', () => {
    const winston = fakeWinston();
    const logger = withLevel(winstonLogger(winston.logger), 'error');
    logger.debug('d'); logger.warn('w'); logger.error('e', new Error('x'));
    expect(winston.calls.map((c) => c.level)).toEqual(['error']);
  });

  test("createConsoleLogger({ level: 'debug' }) prints debug lines too; 'warn' is consoleLogger", () => {
    expect(createConsoleLogger()).toBe(consoleLogger);
    const printed = jest.spyOn(console, 'debug').mockImplementation(() => undefined);
    try {
      createConsoleLogger({ level: 'debug' }).debug('connected', new Error('why'));
      expect(printed.mock.calls).toEqual([['[casty] connected', new Error('why')]]);
    } finally {
      printed.mockRestore();
    }
  });

  test('serializeError: a value that is not an Error keeps what it says', () => {
    expect(serializeError('just text')).toEqual({ message: 'just text' });
    expect(serializeError({ status: 503 })).toEqual({ message: '{"status":503}' });
  });
});
