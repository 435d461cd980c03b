// What the runtime publishes on `system.events`, and `Terminated`, the message death watch delivers.

import type { ActorRef } from './ActorRef';
import { message } from './message';

/** Base of every event the actor runtime publishes; subscribe to it to see them all. */
export abstract class ActorEvent {}

/** An actor finished onStart and is processing messages. */
export class ActorStarted extends ActorEvent {
  constructor(readonly ref: ActorRef<never>) { super(); }
}

/** Why an actor stopped. */
export type StopReason = 'stopped' | 'failed' | 'restart-limit' | 'parent-stopped' | 'shutdown' | 'init-failed';

/** An actor stopped; `error` is set when a failure stopped it. */
export class ActorStopped extends ActorEvent {
  constructor(readonly ref: ActorRef<never>, readonly reason: StopReason, readonly error?: unknown) { super(); }
}

/** receive threw; published before the supervisor acts on it. */
export class ActorFailed extends ActorEvent {
  constructor(readonly ref: ActorRef<never>, readonly error: unknown, readonly message: unknown) { super(); }
}

/** An actor was replaced by a fresh instance after a failure. */
export class ActorRestarted extends ActorEvent {
  constructor(readonly ref: ActorRef<never>, readonly error: unknown) { super(); }
}

/**
 * Why a message was not delivered: its actor had stopped; its mailbox was full; it could not be routed (no
 * such actor, or a class the receiving node cannot decode); or the node it was sent to is gone (declared down,
 * left the cluster, or another node now listens at its address), published on the sending node.
 */
export type DeadLetterReason = 'stopped' | 'mailbox-full' | 'unroutable' | 'node-gone';

/** A message that could not be delivered. `recipient` is the path it was sent to. */
export class DeadLetter extends ActorEvent {
  constructor(readonly message: unknown, readonly recipient: string, readonly reason: DeadLetterReason) { super(); }
}

/** An actor received a message it has no handler for. */
export class UnhandledMessage extends ActorEvent {
  constructor(readonly message: unknown, readonly recipient: string) { super(); }
}

/** Delivered to an actor that called `ctx.watch(ref)` when `ref` stops, for whatever reason. */
@message('casty.Terminated')
export class Terminated {
  constructor(readonly ref: ActorRef<never>) {}
}
