// The types of `spawn`, shared by `system.spawn` and `ctx.spawn`: constructor arguments are type-checked,
// and the ref is typed by the actor's message type.

import type { Actor } from './Actor';
import type { ActorRef } from './ActorRef';

/** What happens when a bounded mailbox is full. */
export const MailboxOverflow = {
  /** Drop the incoming message (a DeadLetter with reason 'mailbox-full'; an ask rejects with MailboxFullError). */
  DropNewest: 'drop-newest',
  /** Drop the oldest queued message to make room (same reporting as above for the dropped one). */
  DropOldest: 'drop-oldest',
  /** Refuse the message: `send`/`ask` reject with MailboxFullError, so the sender feels the pressure. */
  Reject: 'reject',
} as const;
export type MailboxOverflow = (typeof MailboxOverflow)[keyof typeof MailboxOverflow];

/** Mailbox options of one spawned actor. Unbounded when omitted. */
export interface MailboxOptions {
  /** Most messages queued at once (a whole number >= 1). */
  readonly capacity: number;
  /** Policy when full. Default 'drop-newest', as in seed 001. */
  readonly overflow?: MailboxOverflow;
}

/** Longest actor name, in UTF-8 bytes (names travel in paths, gossip keys and frames to other nodes). */
export const MAX_ACTOR_NAME_BYTES = 255;
/** The rule for actor names, as error messages state it. */
export const ACTOR_NAME_RULE = `An actor name is 1 to ${MAX_ACTOR_NAME_BYTES} UTF-8 bytes with no '/', no whitespace and ` +
  `no control or other invisible characters (Unicode category C), and does not start with '$'`;

/** Options of `spawn`. */
export interface SpawnOptions<TArgs extends unknown[] = []> {
  /**
   * Unique among siblings (and system-wide for top-level actors); generated when omitted. 1 to 255 UTF-8
   * bytes with no '/', no whitespace and no control or other invisible characters (Unicode category C), not
   * starting with '$' (kept for generated names); anything else is rejected with InvalidArgumentError.
   */
  readonly name?: string;
  /** The actor class's constructor arguments. */
  readonly args?: TArgs;
  /** Bound the mailbox; unbounded when omitted. */
  readonly mailbox?: MailboxOptions;
}

/** Any actor class, whatever it handles. */
export type AnyActor = Actor<never>;

/** A concrete actor class constructed with `TArgs`. */
export type ActorClass<TActor extends AnyActor = AnyActor, TArgs extends unknown[] = never[]> = new (...args: TArgs) => TActor;

/** The message type an actor class handles. */
export type MessageOf<TActor> = TActor extends Actor<infer TMessage> ? TMessage : never;

/** `spawn`'s options: optional when the constructor takes no (required) arguments, required with `args` otherwise. */
export type SpawnParams<TArgs extends unknown[]> = [] extends TArgs
  ? [options?: SpawnOptions<TArgs>]
  : [options: SpawnOptions<TArgs> & { readonly args: TArgs }];

/** Something that spawns actors: the system (top-level actors) or a context (children). */
export interface Spawner {
  /** Creates an actor of `actorClass`, runs its onStart, and resolves with its ref. */
  spawn<TActor extends AnyActor, TArgs extends unknown[]>(
    actorClass: ActorClass<TActor, TArgs>,
    ...options: SpawnParams<TArgs>
  ): Promise<ActorRef<MessageOf<TActor>>>;
}
