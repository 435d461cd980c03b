// A ref to an actor in this process: a send is a synchronous enqueue (so order per sender is kept) that
// returns an already-resolved promise, and an ask is a PendingAsk travelling through the mailbox.

import { ActorRef, type AskOptions } from '../ActorRef';
import { MAX_TIMER_DELAY_MS } from '../Clock';
import { InvalidArgumentError } from '../errors';
import type { MessageClass, ReplyOf } from '../message';
import { handledClassesOf } from './metadata';
import type { ActorCell } from './ActorCell';

export class LocalActorRef<TMessage> extends ActorRef<TMessage> {
  constructor(readonly cell: ActorCell) {
    super();
  }

  get path(): string {
    return this.cell.path;
  }

  send(msg: TMessage): Promise<void> {
    const check = this.cell.runtime.checkMessage;
    if (check === undefined) return this.cell.enqueue(msg);
    try {
      return this.cell.enqueue(check(msg));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  ask<TAsk extends TMessage>(msg: TAsk, options?: AskOptions): Promise<ReplyOf<TAsk>> {
    const runtime = this.cell.runtime;
    const timeout = options?.timeout ?? runtime.askTimeoutMs;
    if (!(timeout > 0 && timeout <= MAX_TIMER_DELAY_MS)) {
      return Promise.reject(new InvalidArgumentError(
        `ask(${this.path}): timeout must be a number of milliseconds > 0 and at most ${MAX_TIMER_DELAY_MS} (2^31 - 1, ` +
        `about 24.8 days), got ${String(options?.timeout)}`));
    }
    let delivered: unknown = msg;
    if (runtime.checkMessage !== undefined) {
      try {
        delivered = runtime.checkMessage(msg);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<ReplyOf<TAsk>>((resolve, reject) => {
      void this.cell.enqueue(runtime.asks.create(delivered, this, timeout, resolve, reject));
    });
  }

  handledClasses(): readonly MessageClass[] | undefined {
    const declared = (this.cell.actorClass as unknown as { handles?: readonly MessageClass[] }).handles;
    if (Array.isArray(declared) && declared.length > 0) return declared;
    return handledClassesOf(this.cell.actorClass);
  }
}
