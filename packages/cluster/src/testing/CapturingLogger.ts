// A Logger that records what it is told, so tests assert on what a node reported (a refused peer,
// a malformed frame) rather than reading the console.

import type { Logger } from '@casty/core';

/** One recorded log call. */
export interface LogEntry {
  readonly level: 'debug' | 'warn' | 'error';
  readonly message: string;
  /** The error passed with the call: an Error as given, anything else wrapped in one (its message is String(value)). */
  readonly error: Error | undefined;
}

/** Keeps the last `capacity` log calls (bounded, so a fuzz test cannot grow it without end). */
export class CapturingLogger implements Logger {
  readonly entries: LogEntry[] = [];

  constructor(private readonly capacity = 10_000) {}

  debug(message: string, error?: unknown): void {
    this.record('debug', message, error);
  }

  warn(message: string, error?: unknown): void {
    this.record('warn', message, error);
  }

  error(message: string, error?: unknown): void {
    this.record('error', message, error);
  }

  /** The errors logged at `level` or above (warn includes error) that are instances of `cls`. */
  errorsOf<T extends Error>(cls: abstract new (...args: never[]) => T): T[] {
    return this.entries.filter((e) => e.level !== 'debug' && e.error instanceof cls).map((e) => e.error as T);
  }

  private record(level: LogEntry['level'], message: string, error: unknown): void {
    const asError = error === undefined || error instanceof Error ? error : new Error(String(error));
    this.entries.push({ level, message, error: asError });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }
}
