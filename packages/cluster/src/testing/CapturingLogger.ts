// A TransportLogger that records what it is told, so tests assert on what a node reported (a refused peer,
// a malformed frame) rather than reading the console.

import type { TransportLogger } from '../transport/logger';

/** One recorded log call. */
export interface LogEntry {
  readonly level: 'debug' | 'warn' | 'error';
  readonly message: string;
  readonly error: Error | undefined;
}

/** Keeps the last `capacity` log calls (bounded, so a fuzz test cannot grow it without end). */
export class CapturingLogger implements TransportLogger {
  readonly entries: LogEntry[] = [];

  constructor(private readonly capacity = 10_000) {}

  debug(message: string, error?: Error): void {
    this.record('debug', message, error);
  }

  warn(message: string, error?: Error): void {
    this.record('warn', message, error);
  }

  error(message: string, error?: Error): void {
    this.record('error', message, error);
  }

  /** The errors logged at `level` or above (warn includes error) that are instances of `cls`. */
  errorsOf<T extends Error>(cls: abstract new (...args: never[]) => T): T[] {
    return this.entries.filter((e) => e.level !== 'debug' && e.error instanceof cls).map((e) => e.error as T);
  }

  private record(level: LogEntry['level'], message: string, error: Error | undefined): void {
    this.entries.push({ level, message, error });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }
}
