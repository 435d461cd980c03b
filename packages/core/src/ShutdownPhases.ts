// Coordinated shutdown in named phases, in Pekko's order: 'hand-off' (the node is still a member and serving:
// sharding hands its shards over, replication flushes), 'leave' (membership leaves the cluster), 'actors-stop'
// (the user's actors stop, children first), 'close' (transports and other resources close). Phases run
// strictly in order; the tasks of one phase run in parallel, each bounded by the phase's timeout. A task that
// throws or overruns is logged and the shutdown goes on.

import type { Clock } from './Clock';
import { InvalidArgumentError } from './errors';
import type { Logger } from './Logger';

/** The phases of `ActorSystem.shutdown()`, in the order they run. */
export const SHUTDOWN_PHASES = ['hand-off', 'leave', 'actors-stop', 'close'] as const;

/** A phase of `ActorSystem.shutdown()`; see `SHUTDOWN_PHASES`. */
export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];

/** Work an extension does in one phase of shutdown. */
export type ShutdownTask = () => Promise<void> | void;

/** Default bound, in milliseconds, on the tasks of one phase (Pekko's default phase timeout is 10 s too). */
export const DEFAULT_SHUTDOWN_PHASE_TIMEOUT_MS = 10_000;

interface Entry {
  readonly name: string;
  readonly task: ShutdownTask;
}

/**
 * The tasks `shutdown()` runs, by phase. `system.shutdownPhases.add('hand-off', 'sharding', () => ...)`.
 * Tasks of one phase start together (in the order they were added) and the phase ends once all have settled
 * or its timeout has passed; the next phase then starts. Tasks added once shutdown has begun are refused.
 */
export class ShutdownPhases {
  private readonly tasks = new Map<ShutdownPhase, Entry[]>(SHUTDOWN_PHASES.map((p) => [p, []]));
  private started = false;

  /** @internal */
  constructor(private readonly systemName: string, private readonly clock: Clock, private readonly logger: Logger,
    private readonly timeoutMs: number) {}

  /** Adds a task to `phase`; `name` identifies it in logs. Throws InvalidArgumentError for an unknown phase. */
  add(phase: ShutdownPhase, name: string, task: ShutdownTask): void {
    const entries = this.tasks.get(phase);
    if (entries === undefined) {
      throw new InvalidArgumentError(`shutdownPhases.add: unknown phase ${JSON.stringify(phase)}; ` +
        `the phases are ${SHUTDOWN_PHASES.map((p) => `'${p}'`).join(', ')}`);
    }
    if (typeof task !== 'function') {
      throw new InvalidArgumentError(`shutdownPhases.add: the task '${String(name)}' must be a function, got ${typeof task}`);
    }
    if (this.started) {
      throw new InvalidArgumentError(`shutdownPhases.add: system '${this.systemName}' is already shutting down; ` +
        `task '${String(name)}' cannot be added to phase '${phase}'`);
    }
    entries.push({ name: String(name), task });
  }

  /** The names of the tasks of `phase`, in the order they were added (diagnostics and tests). */
  names(phase: ShutdownPhase): string[] {
    return (this.tasks.get(phase) ?? []).map((e) => e.name);
  }

  /** @internal Runs every phase in order; `builtIn` runs first in its phase (the actors stopping), unbounded. */
  async run(builtIn: Partial<Record<ShutdownPhase, () => Promise<void>>>): Promise<void> {
    this.started = true;
    for (const phase of SHUTDOWN_PHASES) {
      const own = builtIn[phase];
      if (own !== undefined) {
        try {
          await own();
        } catch (error) {
          this.logger.error(`shutdown phase '${phase}' of '${this.systemName}' failed`, error);
        }
      }
      await this.runPhase(phase);
    }
  }

  private async runPhase(phase: ShutdownPhase): Promise<void> {
    const entries = this.tasks.get(phase) ?? [];
    if (entries.length === 0) return;
    const pending = new Set(entries);
    const all = Promise.all(entries.map(async (entry) => {
      try {
        await entry.task();
      } catch (error) {
        this.logger.error(`shutdown task '${entry.name}' in phase '${phase}' of '${this.systemName}' failed; shutdown goes on`, error);
      } finally {
        pending.delete(entry);
      }
    }));
    let timer: unknown;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = this.clock.setTimeout(() => resolve('timeout'), this.timeoutMs)));
    const result = await Promise.race([all.then(() => 'done' as const), timedOut]);
    this.clock.clearTimeout(timer);
    if (result === 'timeout') {
      this.logger.warn(`shutdown phase '${phase}' of '${this.systemName}' did not finish within ${this.timeoutMs} ms; ` +
        `still running: ${[...pending].map((e) => `'${e.name}'`).join(', ')}; shutdown goes on`);
    }
  }
}
