// How failures are handled: the directives, the multi-child scopes, their defaults (the seed's), and the
// @supervised class decorator. The decision logic that applies them lives in internal/Supervisor.ts.

import { InvalidArgumentError } from './errors';
import { setSupervision, supervisionOf } from './internal/metadata';
import { rejectStandardDecorator } from './internal/decoratorMode';

/** What happens to an actor whose receive threw. */
export enum SupervisionStrategy {
  /** Replace the instance with a new one; the mailbox (minus the failed message) is kept. */
  RESTART = 'restart',
  /** Stop the actor for good. */
  STOP = 'stop',
  /** Fail the parent with the same error; the parent's own supervision decides. */
  ESCALATE = 'escalate',
}

/** Which siblings a parent restarts along with a failed child (Erlang/OTP's restart strategies). */
export enum MultiChildStrategy {
  /** Only the failed child. */
  ONE_FOR_ONE = 'one_for_one',
  /** Every child of the parent. */
  ONE_FOR_ALL = 'one_for_all',
  /** The failed child and every child spawned after it, in spawn order. */
  REST_FOR_ONE = 'rest_for_one',
}

/** How an actor class is supervised. Times are in seconds, as in the seed. */
export interface SupervisorConfig {
  /** What to do when this actor fails. Default RESTART. */
  readonly strategy: SupervisionStrategy;
  /** Restarts allowed within `withinSeconds`; one more failure stops the actor. Default 3. */
  readonly maxRestarts: number;
  /** The sliding window, in seconds, over which restarts are counted. Default 60. */
  readonly withinSeconds: number;
  /** Delay before the first restart in a window, in seconds. Default 0.1 (stops tight crash loops). */
  readonly backoffInitial: number;
  /** Upper bound of the restart delay, in seconds. Default 30. */
  readonly backoffMax: number;
  /** Factor applied to the delay for each further restart in the window. Default 2. */
  readonly backoffMultiplier: number;
  /** Which of this actor's children restart when one of them fails. Default ONE_FOR_ONE. */
  readonly multiChild: MultiChildStrategy;
  /** Picks a strategy per error; when absent, `strategy` applies to every error. */
  readonly decider?: (error: unknown) => SupervisionStrategy;
}

/** The seed's defaults; also what the system applies to top-level actors without @supervised. */
export const defaultSupervisorConfig: SupervisorConfig = Object.freeze({
  strategy: SupervisionStrategy.RESTART,
  maxRestarts: 3,
  withinSeconds: 60,
  backoffInitial: 0.1,
  backoffMax: 30,
  backoffMultiplier: 2,
  multiChild: MultiChildStrategy.ONE_FOR_ONE,
});

/**
 * Sets how instances of the decorated actor class are supervised when they fail (`strategy`, restart
 * limits, backoff), and how its own children are restarted together (`multiChild`).
 *
 * ```ts
 * @supervised({ strategy: SupervisionStrategy.RESTART, maxRestarts: 3, withinSeconds: 60 })
 * class Worker extends Actor<Task> { ... }
 * ```
 */
export function supervised(options: Partial<SupervisorConfig> = {}): <TClass extends abstract new (...args: never[]) => object>(cls: TClass) => TClass {
  const config = validateSupervisorConfig(options);
  return function <TClass extends abstract new (...args: never[]) => object>(cls: TClass, context?: unknown): TClass {
    rejectStandardDecorator('@supervised()', [cls, context]);
    setSupervision(cls, config);
    return cls;
  };
}

/** The supervision config of an actor class: its (or a superclass's) @supervised options, else the defaults. */
export function supervisorConfigOf(actorClass: object): SupervisorConfig {
  return (supervisionOf(actorClass) as SupervisorConfig | undefined) ?? defaultSupervisorConfig;
}

function validateSupervisorConfig(options: Partial<SupervisorConfig>): SupervisorConfig {
  const config: SupervisorConfig = { ...defaultSupervisorConfig, ...options };
  const check = (field: keyof SupervisorConfig, ok: boolean, expected: string): void => {
    if (!ok) {
      throw new InvalidArgumentError(
        `@supervised: '${field}' must be ${expected}, got ${JSON.stringify(config[field])}`);
    }
  };
  const isNumber = (value: unknown): value is number => typeof value === 'number' && !Number.isNaN(value);
  check('strategy', Object.values(SupervisionStrategy).includes(config.strategy), 'a SupervisionStrategy');
  check('multiChild', Object.values(MultiChildStrategy).includes(config.multiChild), 'a MultiChildStrategy');
  check('maxRestarts', Number.isInteger(config.maxRestarts) && config.maxRestarts >= 0, 'a whole number >= 0');
  check('withinSeconds', isNumber(config.withinSeconds) && config.withinSeconds > 0, 'a number of seconds > 0');
  check('backoffInitial', isNumber(config.backoffInitial) && config.backoffInitial >= 0, 'a number of seconds >= 0');
  check('backoffMax', isNumber(config.backoffMax) && config.backoffMax >= 0, 'a number of seconds >= 0');
  if (config.backoffMax < config.backoffInitial) {
    // name the field the user set: with one of the two left at its default, that one is not the mistake
    const initialSet = options.backoffInitial !== undefined;
    const maxSet = options.backoffMax !== undefined;
    const initial = `backoffInitial (${config.backoffInitial} s${initialSet ? '' : ', the default'})`;
    const max = `backoffMax (${config.backoffMax} s${maxSet ? '' : ', the default'})`;
    throw new InvalidArgumentError(initialSet
      ? `@supervised: ${initial} must be <= ${max}: lower backoffInitial or ${maxSet ? 'raise' : 'set'} backoffMax`
      : `@supervised: ${max} must be >= ${initial}: raise backoffMax or set backoffInitial`);
  }
  check('backoffMultiplier', isNumber(config.backoffMultiplier) && config.backoffMultiplier >= 1, 'a number >= 1');
  check('decider', config.decider === undefined || typeof config.decider === 'function', 'a function');
  return Object.freeze(config);
}
