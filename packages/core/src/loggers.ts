// Loggers for the one Logger seam (`debug`/`warn`/`error`, each with a message and an optional error): a level
// for the console, JSON lines, and adapters for pino and winston, which take their arguments in other orders.
// pino reads `(object, message)` and drops a second argument that no %s in the message asks for, so a pino
// instance passed as it is would lose every error; `checkLogger` refuses one, naming pinoLogger().

import { InvalidArgumentError } from './errors';
import { consoleLogger } from './Logger';
import type { Logger } from './Logger';

/** How much a logger lets through: `debug` everything, `warn` warnings and errors, `error` errors, `silent` none. */
export type LogLevel = 'debug' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 0, warn: 1, error: 2, silent: 3 };
type Method = 'debug' | 'warn' | 'error';
const METHODS: readonly Method[] = ['debug', 'warn', 'error'];

function checkLevel(where: string, level: unknown): LogLevel {
  if (level === undefined) return 'warn';
  if (typeof level === 'string' && level in RANK) return level as LogLevel;
  throw new InvalidArgumentError(`${where}: level must be 'debug', 'warn', 'error' or 'silent', got ${JSON.stringify(level)}`);
}

function checkOptions(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new InvalidArgumentError(`${where}: unknown option '${key}'; the options are ${known.join(', ')}`);
  }
}

/** A logger that passes `logger`'s calls at `level` and above on, and drops the rest. */
export function withLevel(logger: Logger, level: LogLevel): Logger {
  checkLogger(logger, 'withLevel');
  const rank = RANK[checkLevel('withLevel', level)];
  const pass = (method: Method) => (RANK[method] >= rank
    ? (message: string, error?: unknown) => logger[method](message, error)
    : () => undefined);
  return { debug: pass('debug'), warn: pass('warn'), error: pass('error') };
}

/** The console logger (one `[casty]` line per call on stderr) at `level`: `'warn'` is `consoleLogger`. */
export function createConsoleLogger(options: { readonly level?: LogLevel } = {}): Logger {
  checkOptions('createConsoleLogger', options, ['level']);
  const level = checkLevel('createConsoleLogger', options.level);
  if (level === 'warn') return consoleLogger;
  return withLevel({
    ...consoleLogger,
    debug(message, error) {
      if (error === undefined) console.debug(`[casty] ${message}`);
      else console.debug(`[casty] ${message}`, error);
    },
  }, level);
}

/** An error as plain JSON fields: name, message, Casty's `code`, stack, and its cause (a few levels deep). */
export function serializeError(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) {
    let value: string;
    try { value = typeof error === 'string' ? error : JSON.stringify(error) ?? String(error); } catch { value = String(error); }
    return { message: value };
  }
  const fields: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) fields.code = code;
  if (error.stack !== undefined) fields.stack = error.stack;
  if (error.cause !== undefined && depth < 3) fields.cause = serializeError(error.cause, depth + 1);
  return fields;
}

export interface JsonLoggerOptions {
  /** `'warn'` unless given. */
  readonly level?: LogLevel;
  /** Where each line goes (without its newline); stderr unless given. */
  readonly write?: (line: string) => void;
  /** Fields added to every line, such as `{ node: 'node-1' }`. */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** The time of a line, in ms since the epoch (tests pass a fixed one). */
  readonly now?: () => number;
}

/**
 * One JSON object per line: `{"time":"...","level":"warn","msg":"...","err":{"name","message","code","stack"}}`
 * plus `fields`, for log collectors that read JSON lines.
 */
export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  checkOptions('jsonLogger', options, ['level', 'write', 'fields', 'now']);
  const level = checkLevel('jsonLogger', options.level);
  for (const fn of ['write', 'now'] as const) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function') {
      throw new InvalidArgumentError(`jsonLogger: ${fn} must be a function, got ${typeof options[fn]}`);
    }
  }
  const write = options.write ?? ((line: string) => { process.stderr.write(`${line}\n`); });
  const now = options.now ?? Date.now;
  const fields = { ...options.fields };
  const line = (method: Method) => (message: string, error?: unknown) => {
    const entry: Record<string, unknown> = { time: new Date(now()).toISOString(), level: method, ...fields, msg: message };
    if (error !== undefined) entry.err = serializeError(error);
    write(JSON.stringify(entry));
  };
  return withLevel({ debug: line('debug'), warn: line('warn'), error: line('error') }, level);
}

/** What pinoLogger needs of a pino logger: its level methods, which take `(object, message)`. */
export interface PinoLike {
  debug(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/**
 * Casty's calls on a pino logger, in pino's order: the error goes under `err` (pino's error serializer prints
 * its type, message and stack), the message second. Levels are pino's own (`pino({ level: 'debug' })`).
 */
export function pinoLogger(pino: PinoLike): Logger {
  requireMethods(pino, 'pinoLogger() needs a pino logger');
  const call = (method: Method) => (message: string, error?: unknown) => {
    pino[method](error === undefined ? {} : { err: error }, message);
  };
  return { debug: call('debug'), warn: call('warn'), error: call('error') };
}

/** What winstonLogger needs of a winston logger: its level methods, which take `(message, meta)`. */
export interface WinstonLike {
  debug(message: string, meta?: object): unknown;
  warn(message: string, meta?: object): unknown;
  error(message: string, meta?: object): unknown;
}

/**
 * Casty's calls on a winston logger: the error as plain fields under `err` (winston's JSON format would print an
 * Error as `{}`), so every format and transport keeps its name, message, code and stack.
 */
export function winstonLogger(winston: WinstonLike): Logger {
  requireMethods(winston, 'winstonLogger() needs a winston logger');
  const call = (method: Method) => (message: string, error?: unknown) => {
    if (error === undefined) winston[method](message);
    else winston[method](message, { err: serializeError(error) });
  };
  return { debug: call('debug'), warn: call('warn'), error: call('error') };
}

/** Throws `${lead} (an object with ...)` and what is missing, unless `value` has the three level methods. */
function requireMethods(value: unknown, lead: string): void {
  const missing = typeof value === 'object' && value !== null
    ? METHODS.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function')
    : METHODS;
  if (missing.length > 0) {
    throw new InvalidArgumentError(`${lead} (an object with debug, warn and error methods); ` +
      `${typeof value === 'object' && value !== null ? `it has no ${missing.join(', ')}` : `got ${String(value)}`}`);
  }
}

/**
 * Checks a logger given to Casty (`ActorSystem.create({ logger })`, `clustered({ logger })`): an object with
 * debug, warn and error methods, and not a pino logger passed as it is (its calls take the arguments the other
 * way round, and the error would be dropped).
 */
export function checkLogger(value: unknown, where: string): asserts value is Logger {
  requireMethods(value, `${where} must be a Logger`);
  const levels = (value as { levels?: { values?: unknown } }).levels;
  if (typeof (value as { bindings?: unknown }).bindings === 'function' && typeof levels?.values === 'object') {
    throw new InvalidArgumentError(`${where}: this logger looks like pino, which takes (object, message) and would ` +
      `drop the error of each of Casty's calls; pass pinoLogger(yourPinoLogger) instead (from 'casty' or '@casty/core')`);
  }
}
