// Where the runtime reports what it cannot throw to anyone: a failing onStop, a subscriber that threw.

/** A minimal logger; pass your own (pino, winston...) to `ActorSystem.create({ logger })`. */
export interface Logger {
  debug(message: string, error?: unknown): void;
  warn(message: string, error?: unknown): void;
  error(message: string, error?: unknown): void;
}

/** Writes warnings and errors to the console; debug output is dropped. */
export const consoleLogger: Logger = {
  debug() {},
  warn(message, error) {
    if (error === undefined) console.warn(`[casty] ${message}`);
    else console.warn(`[casty] ${message}`, error);
  },
  error(message, error) {
    if (error === undefined) console.error(`[casty] ${message}`);
    else console.error(`[casty] ${message}`, error);
  },
};

/** Drops everything (for tests that provoke failures on purpose). */
export const silentLogger: Logger = { debug() {}, warn() {}, error() {} };
