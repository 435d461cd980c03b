// Where a region sends what it cannot route (no owner, or passed on too often): a send is a dead letter with
// reason 'unroutable', an ask rejects with the error that says why.

import { ActorRef, DeadLetter } from '@casty/core';
import type { ActorSystem, AskOptions, MessageClass } from '@casty/core';

export class UnroutableRef extends ActorRef<unknown> {
  constructor(readonly path: string, private readonly error: Error, private readonly system: ActorSystem) {
    super();
  }

  send(msg: unknown): Promise<void> {
    this.system.events.publish(new DeadLetter(msg, this.path, 'unroutable'));
    return Promise.resolve();
  }

  ask(msg: unknown, _options?: AskOptions): Promise<never> {
    this.system.events.publish(new DeadLetter(msg, this.path, 'unroutable'));
    return Promise.reject(this.error);
  }

  handledClasses(): readonly MessageClass[] | undefined {
    return undefined;
  }
}
