// A ref to an actor in this process: a send is a synchronous enqueue (so order per sender is kept) that
// returns an already-resolved promise, and an ask is a PendingAsk travelling through the mailbox.

import { ActorRef, type AskOptions } from '../ActorRef';
import { MAX_TIMER_DELAY_MS } from '../Clock';
import { InvalidArgumentError } from '../errors';
import type { MessageClass, ReplyOf } from '../message';
import type { ActorSystem } from '../ActorSystem';
import { declaredHandledClasses } from './metadata';
import { MailboxEnvelope } from './MailboxEnvelope';
import { PendingSend, type ReplyGate } from './ReplyGate';
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
    if (check === undefined) return this.deliver(msg);
    try {
      return this.deliver(check(msg));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // ---- for Casty's own packages (the cluster, sharding, replication): not part of the public API ----

  /** The system that hosts this actor. */
  get system(): ActorSystem {
    return this.cell.runtime.system;
  }

  /** Running, not handling a message, and nothing queued (a shard region's fast path asks this). */
  get isIdle(): boolean {
    return this.cell.isIdle;
  }

  /** True once the actor has stopped (its sends are dead letters). */
  get isStopped(): boolean {
    return this.cell.isStopped;
  }

  /**
   * Queues `msg` as a send, as is (no serializeMessages round trip: a message from the wire was decoded just
   * now). The promise settles as a send's: at once, or once the actor's reply gate releases it.
   */
  deliver(msg: unknown): Promise<void> {
    const cell = this.cell;
    // a runtime envelope (StopInTurn) is not a message of the actor's: never held by its gate
    if (cell.replyGate === null || msg instanceof MailboxEnvelope) return cell.enqueue(msg);
    return new Promise<void>((resolve, reject) => {
      cell.enqueue(new PendingSend(msg, resolve, reject)).catch(reject);
    });
  }

  /**
   * Queues `msg` as an ask whose reply goes to `replied` (or its failure to `failed`) instead of a promise:
   * what `ask` does, for a caller that forwards the reply elsewhere (remote messaging answers another node).
   * The ask times out after `timeoutMs` like any other.
   */
  deliverAsk(msg: unknown, timeoutMs: number, replied: (value: unknown) => void, failed: (error: unknown) => void,
    relay?: unknown): void {
    const cell = this.cell;
    const ask = cell.runtime.asks.create(msg, this, timeoutMs, replied as (value: never) => void, failed);
    if (relay !== undefined) ask.relay = relay;
    void cell.enqueue(ask);
  }

  /**
   * Holds this actor's replies, and the promises of sends to it, until `gate` releases each (see ReplyGate);
   * null removes the gate. Set it before the actor gets messages (a send already queued is not held).
   */
  gateReplies(gate: ReplyGate | null): void {
    this.cell.replyGate = gate;
  }

  /**
   * Asks `admit` before each message this actor would handle (not its timers, not Terminated): an error it returns
   * refuses the message unprocessed (an ask rejects with it, a send is a dead letter). A sharded entity refuses
   * so when its node has lost quorum, even for messages queued before (a process stopped and resumed). Null removes it.
   */
  admitOnly(admit: ((msg: unknown) => Error | undefined) | null): void {
    this.cell.admission = admit;
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
    return declaredHandledClasses(this.cell.actorClass);
  }
}
