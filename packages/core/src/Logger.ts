// Where the runtime reports what it cannot throw to anyone: a failing onStop, a subscriber that threw. One
// Logger type for the whole framework (the cluster's transport and membership log through it too).

import { CastyError } from './errors';

/**
 * A minimal logger; pass your own to `ActorSystem.create({ logger })`: pino through `pinoLogger(pino)`, winston
 * through `winstonLogger(winston)` (their methods take other arguments), or `jsonLogger()` for JSON lines.
 */
export interface Logger {
  debug(message: string, error?: unknown): void;
  warn(message: string, error?: unknown): void;
  error(message: string, error?: unknown): void;
}

/**
 * Writes warnings and errors to the console; debug output is dropped. A warning that comes with one of Casty's
 * typed errors (a refused connection, a peer that went away) is one line: the error's message says what
 * happened, its stack would only say where in Casty it was noticed. Anything else is printed whole.
 */
export const consoleLogger: Logger = {
  debug() {},
  warn(message, error) {
    if (error === undefined) console.warn(`[casty] ${message}`);
    else if (error instanceof CastyError) console.warn(`[casty] ${message}: ${error.message}`);
    else console.warn(`[casty] ${message}`, error);
  },
  error(message, error) {
    if (error === undefined) console.error(`[casty] ${message}`);
    else console.error(`[casty] ${message}`, error);
  },
};

/** Drops everything (for tests that provoke failures on purpose). */
export const silentLogger: Logger = { debug() {}, warn() {}, error() {} };
