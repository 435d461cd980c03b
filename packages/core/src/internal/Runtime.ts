// What a cell needs from its system, as an interface, so ActorCell does not import ActorSystem.

import type { ActorSystem } from '../ActorSystem';
import type { Clock } from '../Clock';
import type { EventStream } from '../EventStream';
import type { Logger } from '../Logger';
import type { AskRegistry } from './AskRegistry';
import type { Dispatcher } from './Dispatcher';

/** The system-wide services every cell uses. */
export interface Runtime {
  readonly system: ActorSystem;
  readonly clock: Clock;
  readonly events: EventStream;
  readonly logger: Logger;
  readonly asks: AskRegistry;
  readonly dispatcher: Dispatcher;
  readonly askTimeoutMs: number;
  /** True once shutdown began: nothing new may be spawned. */
  readonly shuttingDown: boolean;
  /** Passes a message through the wire codec at send, when the system is set to serializeMessages. */
  /** Set at construction; a system built on ActorSystem may replace it (ActorSystem.serializeMessagesWith). */
  checkMessage: ((msg: unknown) => unknown) | undefined;
  /** Log each failure a supervisor handles (ActorSystemOptions.logFailures). */
  readonly logFailures: boolean;
}

/** A promise that is already resolved; returned by every local send so a send allocates nothing. */
export const RESOLVED: Promise<void> = Promise.resolve();
