// One live actor: its instance, mailbox, lifecycle and place in the tree. Processes one message at a time
// (an async receive holds the mailbox until it settles), reports failures to its parent's supervision,
// restarts or stops as told, and is the actor's Context.

import type { Actor } from '../Actor';
import type { ActorRef } from '../ActorRef';
import { MAX_TIMER_DELAY_MS, type TimerHandle } from '../Clock';
import type { Behavior, BecomeOptions, Context } from '../Context';
import { ActorInitializationError, ActorStoppedError, InvalidArgumentError, MailboxFullError, UnhandledMessageError } from '../errors';
import {
  ActorFailed, ActorRestarted, ActorStarted, ActorStopped, DeadLetter, Terminated, UnhandledMessage,
  type DeadLetterReason, type StopReason,
} from '../events';
import { classNameOf } from '../message';
import type { ActorClass, AnyActor, MailboxOptions, MessageOf, SpawnParams } from '../spawn';
import { supervisorConfigOf, type SupervisorConfig } from '../supervision';
import type { Timers } from '../Timers';
import type { ActorSystem } from '../ActorSystem';
import { PendingAsk } from './AskRegistry';
import { ChildContainer } from './ChildContainer';
import { DeathWatch } from './DeathWatch';
import { MESSAGES_PER_TIME_CHECK } from './Dispatcher';
import { LocalActorRef } from './LocalActorRef';
import { Mailbox } from './Mailbox';
import { MailboxEnvelope } from './MailboxEnvelope';
import { PendingSend, REPLY_RELAYED, type GatedCell, type ReplyGate } from './ReplyGate';
import { StopInTurn } from './StopInTurn';
import { RESOLVED, type Runtime } from './Runtime';
import { superviseFailure, type FailureOrigin } from './Supervisor';
import { TimerEnvelope, TimerScheduler } from './TimerScheduler';

const enum Status { Created, Running, Suspended, Stopping, Stopped }

type AnyBehavior = (msg: unknown, ctx: Context<unknown>) => void | Promise<void>;

export class ActorCell extends ChildContainer implements Context<unknown>, GatedCell {
  readonly ref: LocalActorRef<unknown>;
  private status = Status.Created;
  private mailbox: Mailbox | null = null;
  /** Set while a message (or onStart) is being handled, including while an async receive awaits. */
  private busy = false;
  /** In the dispatcher's run queue. */
  private scheduled = false;
  private currentAsk: PendingAsk | null = null;
  /** The send being processed, when this actor has a reply gate (its sends carry their promise). */
  private currentSend: PendingSend | null = null;
  /** Holds replies and sends' promises until a condition settles (see ReplyGate); null for almost every actor. */
  replyGate: ReplyGate | null = null;
  /**
   * Asked before each message (not timers, not Terminated): an error refuses it unprocessed (an ask rejects with
   * it, a send is a dead letter); null for almost every actor (see LocalActorRef.admitOnly).
   */
  admission: ((msg: unknown) => Error | undefined) | null = null;
  /** The reply made to the current ask while a gate holds it; NO_REPLY while none was made. */
  private heldReply: unknown = NO_REPLY;
  private currentMessage: unknown = undefined;
  private behaviors: AnyBehavior[] | null = null;
  private idleWaiters: (() => void)[] | null = null;
  private timerScheduler: TimerScheduler<unknown> | null = null;
  /** Whom this actor watches and who watches it; made on first use. */
  watchState: DeathWatch | null = null;
  private stopPromise: Promise<void> | null = null;
  private cachedPath: string | null = null;
  private asyncDone: ((value: unknown) => void) | null = null;
  private asyncFailed: ((error: unknown) => void) | null = null;
  /** Restart times within the current window (owned by Supervisor). */
  restartTimes: number[] | null = null;
  /** The timer of a restart waiting out its backoff (owned by Supervisor). */
  pendingRestart: TimerHandle | undefined = undefined;

  constructor(
    readonly runtime: Runtime,
    readonly parentContainer: ChildContainer,
    readonly name: string,
    readonly actorClass: ActorClass,
    private readonly args: unknown[],
    private instance: Actor<unknown>,
    private readonly bounds: MailboxOptions | undefined,
  ) {
    super();
    this.ref = new LocalActorRef(this);
  }

  get path(): string {
    return (this.cachedPath ??= `${this.parentContainer.path}/${this.name}`);
  }

  get isStopped(): boolean {
    return this.status === Status.Stopped;
  }

  /** Running, not handling a message, and nothing queued: a message given to it now is the next it handles. */
  get isIdle(): boolean {
    return this.status === Status.Running && !this.busy && (this.mailbox?.size ?? 0) === 0;
  }

  get mailboxSize(): number {
    return this.mailbox?.size ?? 0;
  }

  // ---- Context ----

  get selfRef(): ActorRef<unknown> {
    return this.ref;
  }

  get parent(): ActorRef<unknown> | undefined {
    return this.parentContainer instanceof ActorCell ? this.parentContainer.ref : undefined;
  }

  get children(): readonly ActorRef<unknown>[] {
    const refs: ActorRef<unknown>[] = [];
    if (this.childCells !== null) for (const child of this.childCells.values()) refs.push(child.ref);
    return refs;
  }

  get system(): ActorSystem {
    return this.runtime.system;
  }

  get timers(): Timers<unknown> {
    return (this.timerScheduler ??= new TimerScheduler(this.runtime.clock, (envelope) => void this.enqueue(envelope), this.path));
  }

  spawn<TActor extends AnyActor, TArgs extends unknown[]>(actorClass: ActorClass<TActor, TArgs>,
    ...options: SpawnParams<TArgs>): Promise<ActorRef<MessageOf<TActor>>> {
    return this.spawnChild(actorClass as unknown as ActorClass<TActor, never[]>, options[0]);
  }

  reply(...args: [value: unknown] | [request: unknown, value: unknown]): void {
    if (args.length === 2 && this.busy && args[0] !== this.currentMessage) {
      // the request argument is there for the type check; replying "to" another message would answer this ask
      throw new InvalidArgumentError(`ctx.reply(request, value) on ${this.path}: the request must be the message ` +
        `being handled (${classNameOf(this.currentMessage)}), got ${classNameOf(args[0])}`);
    }
    const value = args.length === 2 ? args[1] : args[0];
    if (this.replyGate !== null && this.currentAsk !== null) {
      this.heldReply = value;
      return;
    }
    this.currentAsk?.resolve(value);
  }

  /** The instance before its onStart runs (a hand-off restores its state there); see spawnChildNow. */
  instanceForPrepare(): Actor<unknown> {
    return this.instance;
  }

  /** See GatedCell. */
  get gatedInstance(): object {
    return this.instance;
  }

  /** See GatedCell. */
  get inMessage(): boolean {
    return this.busy;
  }

  /** See GatedCell. */
  failures = 0;

  /**
   * Takes the ask of the current message out of this turn: the returned handle answers it later (by `forward`,
   * `reply` or `fail`), or nothing if the message was sent, not asked. A shard region buffers messages this way.
   */
  detachAsk(): DetachedAsk {
    const ask = this.currentAsk;
    this.currentAsk = null;
    return new DetachedAsk(ask, this.runtime.clock);
  }

  forward<TTarget>(target: ActorRef<TTarget>, msg: TTarget): void {
    const ask = this.currentAsk;
    if (ask === null) {
      const sent = target.send(msg);
      if (sent !== RESOLVED) {
        sent.catch((error: unknown) => this.runtime.logger.warn(`${this.path} forwarded a message to ${target.path}; it was refused`, error));
      }
      return;
    }
    this.currentAsk = null; // answered by the target now, not by this actor (nor its reply gate)
    new DetachedAsk(ask, this.runtime.clock).forward(target, msg);
  }

  stop(ref?: ActorRef<never>): Promise<void> {
    if (ref === undefined || ref === (this.ref as ActorRef<never>)) {
      void this.stopSelf('stopped');
      return RESOLVED;
    }
    if (ref instanceof LocalActorRef) return ref.cell.stopSelf('stopped');
    return Promise.reject(new InvalidArgumentError(`ctx.stop(${ref.path}): only local actors can be stopped from here`));
  }

  become(behavior: Behavior<unknown>, options?: BecomeOptions): void {
    if (typeof behavior !== 'function') {
      throw new InvalidArgumentError(`ctx.become() on ${this.path} needs a function (msg, ctx) => ..., got ${String(behavior)}`);
    }
    const stack = (this.behaviors ??= []);
    if (options?.discardOld === true && stack.length > 0) stack[stack.length - 1] = behavior as AnyBehavior;
    else stack.push(behavior as AnyBehavior);
  }

  unbecome(): void {
    if (this.behaviors === null) return;
    this.behaviors.pop();
    if (this.behaviors.length === 0) this.behaviors = null;
  }

  watch(ref: ActorRef<never>): void {
    this.deathWatch().watch(ref);
  }

  unwatch(ref: ActorRef<never>): void {
    this.watchState?.unwatch(ref);
  }

  /** This actor's death watch (see Watcher). */
  deathWatch(): DeathWatch {
    return (this.watchState ??= new DeathWatch(this));
  }

  unhandled(msg: unknown): void {
    const events = this.runtime.events;
    if (events.hasSubscribers(UnhandledMessage)) events.publish(new UnhandledMessage(msg, this.path));
    this.currentAsk?.reject(new UnhandledMessageError(this.path, classNameOf(msg)));
  }

  // ---- message intake ----

  /** Queues a message, a PendingAsk or a TimerEnvelope; applies the bounded-mailbox policy. */
  enqueue(item: unknown): Promise<void> {
    if (this.status >= Status.Stopping) {
      this.deadLetter(item, 'stopped');
      return RESOLVED;
    }
    const mailbox = (this.mailbox ??= new Mailbox());
    if (this.bounds !== undefined && mailbox.size >= this.bounds.capacity) {
      const full = this.mailboxFull(item);
      if (full !== undefined) return full;
    }
    mailbox.push(item);
    if (this.status === Status.Running && !this.busy && !this.scheduled) {
      this.scheduled = true;
      this.runtime.dispatcher.schedule(this);
    }
    return RESOLVED;
  }

  /** Applies the overflow policy; returns a promise when `item` was dealt with (not to be queued). */
  private mailboxFull(item: unknown): Promise<void> | undefined {
    const capacity = this.bounds!.capacity;
    const error = (): MailboxFullError => new MailboxFullError(this.path, capacity, classNameOf(unwrap(item)));
    switch (this.bounds!.overflow ?? 'drop-newest') {
      case 'drop-oldest': {
        const oldest = this.mailbox!.shift();
        this.deadLetter(oldest, 'mailbox-full', new MailboxFullError(this.path, capacity, classNameOf(unwrap(oldest))));
        return undefined;
      }
      case 'reject': {
        const err = error();
        if (item instanceof PendingAsk || item instanceof PendingSend) {
          item.reject(err);
          return RESOLVED;
        }
        return Promise.reject(err);
      }
      default:
        this.deadLetter(item, 'mailbox-full', error());
        return RESOLVED;
    }
  }

  private deadLetter(item: unknown, reason: DeadLetterReason, askError?: unknown): void {
    if (item instanceof TimerEnvelope || item instanceof StopInTurn) return;
    const msg = unwrap(item);
    if (item instanceof PendingAsk) item.reject(askError ?? new ActorStoppedError(this.path, classNameOf(msg)));
    else if (item instanceof PendingSend) item.resolve(); // as a send to a stopped actor: a dead letter, not an error
    const events = this.runtime.events;
    if (events.hasSubscribers(DeadLetter)) events.publish(new DeadLetter(msg, this.path, reason));
  }

  // ---- processing ----

  runBatch(max: number): number {
    this.scheduled = false;
    const mailbox = this.mailbox;
    if (mailbox === null) return 0;
    let processed = 0;
    const dispatcher = this.runtime.dispatcher;
    dispatcher.beginWork();
    while (processed < max && this.status === Status.Running && !this.busy && mailbox.size > 0) {
      processed++;
      this.invoke(mailbox.shift());
      // Every few messages, a look at the time: a turn that ran too long ends here (see Dispatcher).
      if ((processed & (MESSAGES_PER_TIME_CHECK - 1)) === 0 && dispatcher.outOfTime()) break;
    }
    if (this.status === Status.Running && !this.busy && mailbox.size > 0 && !this.scheduled) {
      this.scheduled = true;
      this.runtime.dispatcher.schedule(this);
    }
    return processed;
  }

  private invoke(item: unknown): void {
    let msg = item;
    let ask: PendingAsk | null = null;
    let send: PendingSend | null = null;
    if (item instanceof MailboxEnvelope) {
      if (item instanceof PendingAsk) {
        ask = item;
        msg = item.message;
      } else if (item instanceof PendingSend) {
        send = item;
        msg = item.message;
      } else if (item instanceof TimerEnvelope) {
        if (this.timerScheduler === null || !this.timerScheduler.accept(item)) return;
        msg = item.message;
      } else if (item instanceof StopInTurn) {
        this.stopInTurn(item);
        return;
      }
    } else if (item instanceof Terminated && this.watchState?.accept(item) !== true) {
      return;
    }
    if (this.admission !== null && !(item instanceof TimerEnvelope) && !(item instanceof Terminated)) {
      const refused = this.admission(msg);
      if (refused !== undefined) {
        if (send !== null) send.reject(refused);
        else this.deadLetter(item, 'unroutable', refused);
        return;
      }
    }
    this.busy = true;
    this.currentAsk = ask;
    this.currentSend = send;
    this.currentMessage = msg;
    let result: void | Promise<void>;
    try {
      // An ask traced by telemetry is handled inside its trace context, so what the handler asks joins the trace.
      result = ask !== null && ask.trace !== undefined && ask.trace.traced ? ask.trace.run(() => this.callReceive(msg))
        : this.callReceive(msg);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(
        (this.asyncDone ??= () => this.messageDone(true)),
        (this.asyncFailed ??= (error: unknown) => this.fail(error)),
      );
      return;
    }
    this.messageDone(false);
  }

  private callReceive(msg: unknown): void | Promise<void> {
    return this.behaviors === null
      ? this.instance.receive(msg, this)
      : this.behaviors[this.behaviors.length - 1]!.call(this.instance, msg, this);
  }

  private messageDone(async: boolean): void {
    if (this.replyGate !== null) this.passGate(this.replyGate);
    this.busy = false;
    this.currentAsk = null;
    this.currentSend = null;
    this.currentMessage = undefined;
    if (this.idleWaiters !== null) this.wakeIdleWaiters();
    if (async) this.resume();
  }

  private stopInTurn(item: StopInTurn): void {
    try {
      item.beforeStop?.(this.instance);
    } catch (error) {
      this.runtime.logger.error(`Before stopping ${this.path} in turn, its owner's hook threw; it stops anyway`, error);
    }
    void this.stopSelf('stopped');
  }

  /** The message was processed: its reply and its send's promise are released once the gate says so. */
  private passGate(gate: ReplyGate): void {
    const ask = this.currentAsk;
    const send = this.currentSend;
    const reply = this.heldReply;
    this.heldReply = NO_REPLY;
    let condition: Promise<void | typeof REPLY_RELAYED> | undefined;
    try {
      condition = gate(this.currentMessage, this.instance,
        ask !== null && ask.relay !== undefined && reply !== NO_REPLY ? { relay: ask.relay, value: reply } : undefined, this);
    } catch (error) {
      condition = Promise.reject(error);
    }
    const release = (how?: void | typeof REPLY_RELAYED): void => {
      if (how === REPLY_RELAYED) ask?.relayed();
      else if (ask !== null && reply !== NO_REPLY) ask.resolve(reply);
      send?.resolve();
    };
    if (condition === undefined) {
      release();
      return;
    }
    if (ask === null && send === null) {
      condition.catch(() => undefined); // nobody waits for this message; the gate reports its own failures
      return;
    }
    condition.then(release, (error: unknown) => {
      ask?.reject(error);
      send?.reject(error);
    });
  }

  /** Goes on with the mailbox after an async step: inline while the turn has budget, else via the dispatcher. */
  private resume(): void {
    const dispatcher = this.runtime.dispatcher;
    if (dispatcher.hasBudget) {
      dispatcher.charge(this.runBatch(dispatcher.throughput));
    } else if (!this.scheduled && this.status === Status.Running && (this.mailbox?.size ?? 0) > 0) {
      this.scheduled = true;
      dispatcher.schedule(this);
    }
  }

  /** The current message failed (its receive threw or its promise rejected). */
  private fail(error: unknown): void {
    this.failures++;
    const msg = this.currentMessage;
    this.currentAsk?.reject(error);
    this.currentSend?.reject(error);
    this.heldReply = NO_REPLY;
    this.busy = false;
    this.currentAsk = null;
    this.currentSend = null;
    this.currentMessage = undefined;
    const events = this.runtime.events;
    if (events.hasSubscribers(ActorFailed)) events.publish(new ActorFailed(this.ref as ActorRef<never>, error, msg));
    if (this.status >= Status.Stopping) {
      this.wakeIdleWaiters();
      return;
    }
    let resume = false;
    try {
      resume = this.instance.onError(error) === true;
    } catch (hookError) {
      this.runtime.logger.error(`onError of ${this.path} threw`, hookError);
    }
    if (resume) {
      this.wakeIdleWaiters();
      this.resume();
      return;
    }
    this.status = Status.Suspended;
    this.wakeIdleWaiters();
    superviseFailure(this.parentContainer, this, error, msg);
  }

  private whenIdle(): Promise<void> {
    if (!this.busy) return RESOLVED;
    return new Promise((resolve) => (this.idleWaiters ??= []).push(resolve));
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    if (waiters === null) return;
    this.idleWaiters = null;
    for (const wake of waiters) wake();
  }

  // ---- lifecycle ----

  /** Runs onStart; resolves with the ref once the actor processes messages. */
  start(): Promise<ActorRef<unknown>> {
    this.busy = true;
    let result: void | Promise<void>;
    try {
      result = this.instance.onStart();
    } catch (error) {
      return this.initFailed(error);
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      return (result as Promise<void>).then(() => this.started(), (error: unknown) => this.initFailed(error));
    }
    return Promise.resolve(this.started());
  }

  private started(): ActorRef<unknown> {
    this.busy = false;
    this.wakeIdleWaiters();
    if (this.status === Status.Created) {
      this.status = Status.Running;
      const events = this.runtime.events;
      if (events.hasSubscribers(ActorStarted)) events.publish(new ActorStarted(this.ref as ActorRef<never>));
      this.resume();
    }
    return this.ref;
  }

  private async initFailed(error: unknown): Promise<never> {
    this.busy = false;
    await this.stopSelf('init-failed', error);
    throw new ActorInitializationError(this.path, error);
  }

  /** Stops processing until restarted (part of a restart scope). */
  suspend(): void {
    if (this.status === Status.Running || this.status === Status.Created) this.status = Status.Suspended;
  }

  /** Replaces the instance with a fresh one (Akka's restart): children stopped, preRestart, new instance, postRestart. */
  async restart(error: unknown, failedMessage: unknown): Promise<void> {
    await this.whenIdle();
    if (this.status >= Status.Stopping) return;
    this.status = Status.Suspended;
    this.timerScheduler?.cancelAll();
    this.behaviors = null;
    await this.stopChildren('parent-stopped');
    try {
      await this.instance.preRestart(error, failedMessage);
    } catch (hookError) {
      this.runtime.logger.warn(`preRestart of ${this.path} threw; restarting anyway`, hookError);
    }
    if (this.status >= Status.Stopping) return;
    try {
      this.instance = new this.actorClass(...(this.args as never[])) as Actor<unknown>;
    } catch (ctorError) {
      await this.stopSelf('init-failed', ctorError);
      return;
    }
    this.busy = true;
    try {
      await this.instance.postRestart(error);
    } catch (hookError) {
      this.busy = false;
      this.status = Status.Running;
      this.currentMessage = undefined;
      this.fail(hookError);
      return;
    }
    this.busy = false;
    this.wakeIdleWaiters();
    if (this.status !== Status.Suspended) return;
    this.status = Status.Running;
    const events = this.runtime.events;
    if (events.hasSubscribers(ActorRestarted)) events.publish(new ActorRestarted(this.ref as ActorRef<never>, error));
    this.resume();
  }

  /** Stops this actor (children first, then onStop); idempotent. Messages left in the mailbox become dead letters. */
  stopSelf(reason: StopReason, error?: unknown): Promise<void> {
    if (this.stopPromise !== null) return this.stopPromise;
    this.status = Status.Stopping;
    return (this.stopPromise = this.terminate(reason, error));
  }

  private async terminate(reason: StopReason, error: unknown): Promise<void> {
    const runtime = this.runtime;
    try {
      await this.whenIdle();
      if (this.pendingRestart !== undefined) runtime.clock.clearTimeout(this.pendingRestart);
      this.timerScheduler?.cancelAll();
      await this.stopChildren(reason === 'shutdown' ? 'shutdown' : 'parent-stopped');
      if (reason !== 'init-failed') {
        try {
          await this.instance.onStop();
        } catch (hookError) {
          runtime.logger.error(`onStop of ${this.path} threw`, hookError);
        }
      }
    } catch (unexpected) {
      runtime.logger.error(`stopping ${this.path} failed`, unexpected);
    }
    this.status = Status.Stopped;
    if (this.mailbox !== null) {
      for (const item of this.mailbox.takeAll()) this.deadLetter(item, 'stopped');
      this.mailbox = null;
    }
    this.parentContainer.removeChild(this);
    this.watchState?.ownerStopped();
    this.watchState = null;
    if (runtime.events.hasSubscribers(ActorStopped)) {
      runtime.events.publish(new ActorStopped(this.ref as ActorRef<never>, reason, error));
    }
  }

  // ---- ChildContainer ----

  supervisorConfig(): SupervisorConfig {
    return supervisorConfigOf(this.actorClass);
  }

  escalate(_child: ActorCell, error: unknown, origin: FailureOrigin): void {
    if (this.status >= Status.Stopping) return;
    this.status = Status.Suspended;
    const events = this.runtime.events;
    if (events.hasSubscribers(ActorFailed)) events.publish(new ActorFailed(this.ref as ActorRef<never>, error, undefined));
    superviseFailure(this.parentContainer, this, error, undefined, undefined, origin);
  }

  protected createCell(name: string, actorClass: ActorClass, args: unknown[], instance: AnyActor,
    mailbox: MailboxOptions | undefined): ActorCell {
    return new ActorCell(this.runtime, this, name, actorClass, args, instance as unknown as Actor<unknown>, mailbox);
  }
}

/** An ask taken out of its turn (ActorCell.detachAsk): answered later, by forwarding or directly. */
export class DetachedAsk {
  constructor(private readonly ask: PendingAsk | null, private readonly clock: { now(): number }) {}

  /** True when the message came by an ask (someone waits for an answer). */
  get isAsk(): boolean {
    return this.ask !== null;
  }

  /**
   * Sends `msg` to `target`; when it was an ask, the target's answer is its answer, within what is left of its
   * timeout. `settled` is called once that answer has been passed back (at once for a send).
   */
  forward<TTarget>(target: ActorRef<TTarget>, msg: TTarget, settled?: () => void): void {
    const ask = this.ask;
    if (ask === null) {
      const sent = target.send(msg);
      if (sent !== RESOLVED) sent.catch(() => undefined); // a refused send is the target's to report (dead letter, log)
      settled?.();
      return;
    }
    const left = ask.deadline - this.clock.now();
    if (left <= 0 || ask.settled) { // its own timer rejects it
      settled?.();
      return;
    }
    // The message came by an ask, so it is a request of the target's too (forward passes it on as is).
    (target as ActorRef<unknown>).ask(msg, { timeout: Math.min(left, MAX_TIMER_DELAY_MS) }).then(
      (value) => { ask.resolve(value); settled?.(); },
      (error: unknown) => { ask.reject(error); settled?.(); });
  }

  reply(value: unknown): void {
    this.ask?.resolve(value);
  }

  fail(error: unknown): void {
    this.ask?.reject(error);
  }
}

/** ActorCell.heldReply when no reply was made. */
const NO_REPLY: unique symbol = Symbol('no reply');

function unwrap(item: unknown): unknown {
  if (!(item instanceof MailboxEnvelope)) return item;
  if (item instanceof PendingAsk || item instanceof PendingSend || item instanceof TimerEnvelope) return item.message;
  return item;
}
