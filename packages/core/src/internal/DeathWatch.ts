// Death watch of one actor (Erlang's monitors, Akka's watch): whom it watches, who watches it, and the watches
// it holds on actors of other processes. Made on an actor's first watch, so an actor that never watches and is
// never watched pays one null field for it. A watcher gets one Terminated per watched actor, in its mailbox,
// and none after it unwatched.

import type { ActorRef } from '../ActorRef';
import { InvalidArgumentError } from '../errors';
import { Terminated } from '../events';
import { LocalActorRef } from './LocalActorRef';

/** What death watch needs from an actor's cell. */
export interface Watcher {
  readonly path: string;
  readonly isStopped: boolean;
  readonly ref: ActorRef<unknown>;
  /** Queues a message in the actor's mailbox. */
  enqueue(item: unknown): Promise<void>;
  /** This actor's DeathWatch, or null while it has none. */
  readonly watchState: DeathWatch | null;
  /** This actor's DeathWatch, made if it has none yet. */
  deathWatch(): DeathWatch;
}

export class DeathWatch {
  /** Actors of this process that watch this one. */
  private watchers: Set<Watcher> | null = null;
  /** Actors of this process this one watches. */
  private watching: Set<Watcher> | null = null;
  /** Watches of actors in other processes (see ActorRef.watchFrom) by path, with the function that cancels each. */
  private remoteWatches: Map<string, () => void> | null = null;
  /** Paths of remote actors whose Terminated is queued here and not yet delivered (an unwatch drops it). */
  private remoteTerminated: Set<string> | null = null;

  constructor(private readonly owner: Watcher) {}

  /** The owner watches `ref`: a Terminated for it comes once it stops (at once if it already has). */
  watch(ref: ActorRef<never>): void {
    if (!(ref instanceof LocalActorRef)) {
      this.watchRemote(ref);
      return;
    }
    const target: Watcher = ref.cell;
    (this.watching ??= new Set()).add(target);
    if (target.isStopped) {
      void this.owner.enqueue(new Terminated(target.ref as ActorRef<never>));
      return;
    }
    const targetWatch = target.deathWatch();
    (targetWatch.watchers ??= new Set()).add(this.owner);
  }

  /** The owner no longer watches `ref`; a Terminated already queued for it is not delivered. */
  unwatch(ref: ActorRef<never>): void {
    if (!(ref instanceof LocalActorRef)) {
      this.remoteWatches?.get(ref.path)?.();
      this.remoteWatches?.delete(ref.path);
      this.remoteTerminated?.delete(ref.path);
      return;
    }
    const target: Watcher = ref.cell;
    this.watching?.delete(target);
    target.watchState?.watchers?.delete(this.owner);
  }

  /** Whether a Terminated taken from the mailbox is still wanted (the owner has not unwatched since it was queued). */
  accept(msg: Terminated): boolean {
    if (!(msg.ref instanceof LocalActorRef)) return this.remoteTerminated?.delete(msg.ref.path) === true;
    const target: Watcher = (msg.ref as unknown as LocalActorRef<unknown>).cell;
    if (this.watching === null || !this.watching.delete(target)) return false;
    if (this.watching.size === 0) this.watching = null;
    return true;
  }

  /** The owner has stopped: its own watches end, and each of its watchers gets a Terminated. */
  ownerStopped(): void {
    if (this.remoteWatches !== null) {
      for (const cancel of this.remoteWatches.values()) cancel();
      this.remoteWatches = null;
      this.remoteTerminated = null;
    }
    if (this.watching !== null) {
      for (const target of this.watching) target.watchState?.watchers?.delete(this.owner);
      this.watching = null;
    }
    if (this.watchers !== null) {
      const terminated = new Terminated(this.owner.ref as ActorRef<never>);
      for (const watcher of this.watchers) void watcher.enqueue(terminated);
      this.watchers = null;
    }
  }

  /** Watches an actor of another process through its ref's watchFrom (a remote ref in a cluster). */
  private watchRemote(ref: ActorRef<never>): void {
    if (typeof ref.watchFrom !== 'function') {
      throw new InvalidArgumentError(`ctx.watch(${ref.path}) on ${this.owner.path}: this kind of ref cannot be watched ` +
        '(watch a local actor, or a remote one in a cluster)');
    }
    const path = ref.path;
    if (this.remoteWatches?.has(path) === true) return;
    const watches = (this.remoteWatches ??= new Map());
    let cancel: (() => void) | undefined;
    let fired = false;
    cancel = ref.watchFrom(() => {
      if (fired || this.owner.isStopped) return;
      if (cancel !== undefined && watches.get(path) !== cancel) return; // unwatched since
      fired = true;
      watches.delete(path);
      (this.remoteTerminated ??= new Set()).add(path);
      void this.owner.enqueue(new Terminated(ref));
    });
    if (!fired) watches.set(path, cancel);
  }
}
