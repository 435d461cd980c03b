// Applies a failed child's supervision config: the directive (restart, stop, escalate), the restart
// window and limit, exponential backoff, and the multi-child scope chosen by the parent.

import { SupervisionStrategy, supervisorConfigOf, type SupervisorConfig } from '../supervision';
import type { ActorCell } from './ActorCell';
import type { ChildContainer } from './ChildContainer';

/** Decides and carries out what happens to `child`, which failed on `msg` with `error`. */
export function superviseFailure(parent: ChildContainer, child: ActorCell, error: unknown, msg: unknown,
  forced?: SupervisionStrategy): void {
  const config = supervisorConfigOf(child.actorClass);
  const directive = forced ?? decide(config, error, child);
  if (directive === SupervisionStrategy.ESCALATE) {
    parent.escalate(child, error);
    return;
  }
  if (directive === SupervisionStrategy.STOP) {
    void child.stopSelf('failed', error);
    return;
  }
  const clock = parent.runtime.clock;
  const now = clock.now();
  const windowStart = now - config.withinSeconds * 1000;
  const times = (child.restartTimes ??= []);
  while (times.length > 0 && times[0]! <= windowStart) times.shift();
  if (times.length >= config.maxRestarts) {
    parent.runtime.logger.warn(
      `${child.path} failed ${times.length + 1} times within ${config.withinSeconds}s (maxRestarts ${config.maxRestarts}); stopping it`,
      error);
    void child.stopSelf('restart-limit', error);
    return;
  }
  const delayMs = backoffMs(config, times.length);
  times.push(now);
  const scope = parent.restartScope(child);
  for (const cell of scope) cell.suspend();
  const restartAll = async (): Promise<void> => {
    for (const cell of scope) await cell.restart(error, cell === child ? msg : undefined);
  };
  child.pendingRestart = clock.setTimeout(() => {
    child.pendingRestart = undefined;
    void restartAll();
  }, delayMs);
  // a restart is pending work: a script awaiting its outcome must not exit during the backoff
  clock.setKeepAlive?.(child.pendingRestart, true);
}

/** The delay before the (n+1)-th restart within the window: initial x multiplier^n, capped at max. */
export function backoffMs(config: SupervisorConfig, restartsInWindow: number): number {
  const seconds = Math.min(config.backoffInitial * config.backoffMultiplier ** restartsInWindow, config.backoffMax);
  return seconds * 1000;
}

function decide(config: SupervisorConfig, error: unknown, child: ActorCell): SupervisionStrategy {
  if (config.decider === undefined) return config.strategy;
  try {
    return config.decider(error);
  } catch (deciderError) {
    child.runtime.logger.error(`the supervision decider of ${child.actorClass.name} threw; stopping ${child.path}`, deciderError);
    return SupervisionStrategy.STOP;
  }
}
