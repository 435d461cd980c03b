// The hook replication needs (issue: a write acknowledged only once backups hold it): after an actor has
// processed a message, its reply, and the promise of the `send` that brought it, are held until a condition
// the gate returns settles. The actor goes on with its next message meanwhile; only the acknowledgement waits.
// An actor without a gate pays one null check per message.

import { MailboxEnvelope } from './MailboxEnvelope';

/**
 * Called after each message an actor processed without failing, with the actor instance (its state as the message
 * left it: a replicator captures it here, in the actor's turn). Returns undefined to release the reply (and
 * the send's promise) at once, or a promise: they are released when it resolves, and when it rejects the ask
 * (and the send) reject with its error instead (the message was processed all the same).
 *
 * `reply`: the reply made to an ask that another node may deliver in this node's stead (its `relay`, opaque here:
 * where it goes). A gate that has it delivered elsewhere resolves with REPLY_RELAYED: the ask ends without a reply
 * from here. Replication with one backup to wait for does so: the backup that holds the new state answers the asker.
 */
export type ReplyGate = (msg: unknown, actor: object, reply: RelayableReply | undefined, cell: GatedCell) =>
  Promise<void | typeof REPLY_RELAYED> | undefined;

/**
 * The actor a gate watches, as it is now: what a gate that captures its state later (at the end of a window of
 * messages, say) reads from, between two messages.
 */
export interface GatedCell {
  /** Its instance now (a fresh one after a restart; the last one after it stopped). */
  readonly gatedInstance: object;
  /** True while it processes a message (an async receive awaits): its state may be half changed then. */
  readonly inMessage: boolean;
  /** Messages that failed so far: after one, its instance may hold the failed message's half-made change. */
  readonly failures: number;
}

/** An ask's reply that its `relay` lets another node deliver (see ReplyGate). */
export interface RelayableReply {
  readonly relay: unknown;
  readonly value: unknown;
}

/** What a gate's promise resolves with when the reply was delivered by someone else (see ReplyGate). */
export const REPLY_RELAYED: unique symbol = Symbol('reply relayed');

/** A `send` to an actor with a gate: the envelope that carries the message and settles the send's promise. */
export class PendingSend extends MailboxEnvelope {
  constructor(
    readonly message: unknown,
    readonly resolve: () => void,
    readonly reject: (error: unknown) => void,
  ) {
    super();
  }
}
