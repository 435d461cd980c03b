// A ref to an actor on another node: the same ActorRef users hold for a local actor, so code that sends or
// asks does not change when its target moves to another process. It knows where the actor lives (node id,
// listening address, path there) and hands messages to the node's remote messaging, which puts them on the wire.

import { ActorRef } from '@casty/core';
import type { AskableOf, AskOptions, MessageClass, ReplyOf } from '@casty/core';
import { formatAddress } from '../transport/Transport';
import type { BoundTarget, NodeAddress, NodeId } from '../transport/Transport';

/** What a remote ref needs from its node's remote messaging. */
export interface RemoteRouter {
  /** Encodes `msg` and queues it for the ref's node; rejects when it cannot be encoded or queued. */
  tell(ref: RemoteActorRef<unknown>, msg: unknown): Promise<void>;
  /** Sends `msg` as an ask and resolves with the remote reply. */
  ask(ref: RemoteActorRef<unknown>, msg: unknown, timeoutMs: number | undefined): Promise<unknown>;
  /** Death watch: calls `terminated` once when the actor stops or its node is gone; returns the cancel. */
  watch(ref: RemoteActorRef<unknown>, terminated: () => void): () => void;
}

/**
 * A typed ref to an actor on another node of the cluster. `send` resolves once the message is queued for
 * that node (frames to one node keep their order); `ask` resolves with the remote actor's reply, or rejects
 * with AskTimeoutError, the remote actor's own error (rebuilt as its registered class), or at once with
 * NodeUnavailableError when the node's connection is lost.
 *
 * Obtained from `system.lookup(name)` or from a message (refs inside messages cross the wire); not built by hand.
 */
export class RemoteActorRef<TMessage = unknown> extends ActorRef<TMessage> {
  /** `casty://<nodeId>@<host>:<port><actorPath>`, unique in the cluster. */
  readonly path: string;
  /** @internal The encoded TELL header for this ref, made on the first send. */
  tellHeader: Uint8Array | undefined = undefined;
  /** @internal The encoded ASK header for this ref, made on the first ask; id and timeout are set per ask. */
  askHeader: Buffer | undefined = undefined;
  /** @internal Where frames for this ref go: its node at its address (never another node at that address). */
  readonly target: BoundTarget;

  constructor(
    /** The node the actor lives on. */
    readonly nodeId: NodeId,
    /** Where that node listens. */
    readonly address: NodeAddress,
    /** The actor's path on its node, e.g. `/user/greeter`. */
    readonly actorPath: string,
    private readonly router: RemoteRouter,
  ) {
    super();
    this.path = `casty://${nodeId}@${formatAddress(address)}${actorPath}`;
    this.target = { nodeId, address };
  }

  send(msg: TMessage): Promise<void> {
    return this.router.tell(this as RemoteActorRef<unknown>, msg);
  }

  ask<TAsk extends AskableOf<TMessage>>(msg: TAsk, options?: AskOptions): Promise<ReplyOf<TAsk>> {
    return this.router.ask(this as RemoteActorRef<unknown>, msg, options?.timeout) as Promise<ReplyOf<TAsk>>;
  }

  /**
   * Death watch across nodes (`ctx.watch(remoteRef)`): `terminated` runs once when the actor stops, or when its
   * node is declared down or leaves the cluster.
   */
  override watchFrom(terminated: () => void): () => void {
    return this.router.watch(this as RemoteActorRef<unknown>, terminated);
  }

  /** Unknown for a remote actor, so a remote ref cannot be combined with `or()`. */
  handledClasses(): readonly MessageClass[] | undefined {
    return undefined;
  }
}
