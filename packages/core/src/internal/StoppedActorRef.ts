// A ref to an actor that no longer exists here (a ref decoded from the wire whose actor has stopped):
// sends become dead letters and asks reject at once, as they would on the live ref after a stop.

import { ActorRef, type AskOptions } from '../ActorRef';
import type { ActorSystem } from '../ActorSystem';
import { ActorStoppedError } from '../errors';
import { DeadLetter } from '../events';
import { classNameOf, type AskableOf, type MessageClass, type ReplyOf } from '../message';
import { RESOLVED } from './Runtime';

export class StoppedActorRef<TMessage> extends ActorRef<TMessage> {
  constructor(readonly path: string, private readonly system: ActorSystem) {
    super();
  }

  send(msg: TMessage): Promise<void> {
    this.system.events.publish(new DeadLetter(msg, this.path, 'stopped'));
    return RESOLVED;
  }

  ask<TAsk extends AskableOf<TMessage>>(msg: TAsk, _options?: AskOptions): Promise<ReplyOf<TAsk>> {
    this.system.events.publish(new DeadLetter(msg, this.path, 'stopped'));
    return Promise.reject(new ActorStoppedError(this.path, classNameOf(msg)));
  }

  handledClasses(): readonly MessageClass[] | undefined {
    return undefined;
  }
}
