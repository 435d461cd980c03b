// Applies a failed child's supervision config: the directive (restart, stop, escalate), the restart
// window and limit, exponential backoff, and the multi-child scope chosen by the parent.

import { classNameOf } from '../message';
import { SupervisionStrategy, supervisorConfigOf, type SupervisorConfig } from '../supervision';
import type { ActorCell } from './ActorCell';
import type { ChildContainer } from './ChildContainer';

/** Where an escalated failure began: the actor that failed first, and the class of the message it failed on. */
export interface FailureOrigin {
  readonly path: string;
  readonly messageClass: string | undefined;
}

/**
 * Decides and carries out what happens to `child`, which failed on `msg` with `error` (or, with `origin`,
 * which fails because a descendant escalated). The failure is logged once, here, where it is handled (an
 * escalation is logged by the ancestor that handles it), unless the system has logFailures off.
 */
export function superviseFailure(parent: ChildContainer, child: ActorCell, error: unknown, msg: unknown,
  forced?: SupervisionStrategy, origin?: FailureOrigin): void {
  const config = supervisorConfigOf(child.actorClass);
  const directive = forced ?? decide(config, error, child);
  if (directive === SupervisionStrategy.ESCALATE) {
    parent.escalate(child, error, origin ?? { path: child.path, messageClass: msg === undefined ? undefined : classNameOf(msg) });
    return;
  }
  const { logger, logFailures } = parent.runtime;
  if (directive === SupervisionStrategy.STOP) {
    if (logFailures) logger.error(`${describeFailure(child, error, msg, origin)}; stopping it (strategy STOP)`, error);
    void child.stopSelf('failed', error);
    return;
  }
  const clock = parent.runtime.clock;
  const now = clock.now();
  const windowStart = now - config.withinSeconds * 1000;
  const times = (child.restartTimes ??= []);
  while (times.length > 0 && times[0]! <= windowStart) times.shift();
  if (times.length >= config.maxRestarts) {
    const failures = times.length + 1;
    if (logFailures) {
      logger.error(`${describeFailure(child, error, msg, origin)}; stopping it: ${failures} failure${failures === 1 ? '' : 's'} ` +
        `within ${config.withinSeconds} s, over maxRestarts ${config.maxRestarts}`, error);
    } else {
      logger.warn(
        `${child.path} failed ${failures} times within ${config.withinSeconds}s (maxRestarts ${config.maxRestarts}); stopping it`,
        error);
    }
    void child.stopSelf('restart-limit', error);
    return;
  }
  const delayMs = backoffMs(config, times.length);
  times.push(now);
  if (logFailures) {
    logger.error(`${describeFailure(child, error, msg, origin)}; restarting it in ${delayMs} ms ` +
      `(restart ${times.length} of ${config.maxRestarts} within ${config.withinSeconds} s)`, error);
  }
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

/** "<path> failed on <MessageClass>: <error>", or what escalated to it. */
function describeFailure(child: ActorCell, error: unknown, msg: unknown, origin: FailureOrigin | undefined): string {
  const what = describeError(error);
  if (origin === undefined || origin.path === child.path) {
    const messageClass = origin?.messageClass ?? (msg === undefined ? undefined : classNameOf(msg));
    const escalated = origin === undefined ? '' : ' (escalated to the system, whose default restarts it)';
    return `${child.path} failed${messageClass === undefined ? '' : ` on ${messageClass}`}: ${what}${escalated}`;
  }
  const kin = origin.path.slice(0, origin.path.lastIndexOf('/')) === child.path ? 'child' : 'descendant';
  const on = origin.messageClass === undefined ? '' : ` on ${origin.messageClass}`;
  return `${child.path} failed: its ${kin} ${origin.path} escalated a failure${on}: ${what}`;
}

function describeError(error: unknown): string {
  let text: string;
  if (error instanceof Error) text = `${error.name}: ${error.message}`;
  else if (typeof error === 'string') text = error;
  else {
    try {
      text = JSON.stringify(error) ?? String(error);
    } catch {
      text = String(error);
    }
  }
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
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
