// Death watch across nodes. The watching node sends WATCH(path) to the actor's node once, however many of
// its actors watch it; that node answers TERMINATED(path) when the actor stops (at once if it is not
// running). When membership declares a node down or left, every watch of its actors fires here without a
// message, and its own watches of this node's actors are dropped. A watch is sent again when the connection
// to its node comes back, so a WATCH lost with a connection is repaired (the other side keeps a set).

import { ActorStopped } from '@casty/core';
import type { ActorSystem, Logger } from '@casty/core';
import type { NodeAddress, NodeId } from '../transport/Transport';
import { EnvelopeKind } from './envelope';

type WatchKind = typeof EnvelopeKind.WATCH | typeof EnvelopeKind.UNWATCH | typeof EnvelopeKind.TERMINATED;

/** What the watches need from remote messaging. */
export interface WatchContext {
  readonly system: ActorSystem;
  readonly logger: Logger;
  /** Sends a [kind, path] envelope to a node; may throw (then the watch waits for the node's next peer-up). */
  send(to: NodeId | NodeAddress, kind: WatchKind, path: string): void;
  /** True when membership has declared `nodeId` down or left (and it has not come back). */
  isGone(nodeId: NodeId): boolean;
  /** True while a local actor runs at `path`. */
  isRunning(path: string): boolean;
}

interface Watched {
  readonly nodeId: NodeId;
  readonly address: NodeAddress;
  readonly path: string;
  readonly callbacks: Set<() => void>;
}

export class RemoteWatches {
  /** Remote actors watched from here, by `${nodeId} ${path}`. */
  private readonly watching = new Map<string, Watched>();
  /** Local actors watched from other nodes: path -> watching nodes. */
  private readonly watchedBy = new Map<string, Set<NodeId>>();
  private offStopped: (() => void) | undefined;

  constructor(private readonly ctx: WatchContext) {}

  /** Watches the actor at `path` on `nodeId`; `terminated` runs once. Returns the cancel. */
  watch(nodeId: NodeId, address: NodeAddress, path: string, terminated: () => void): () => void {
    if (this.ctx.isGone(nodeId)) {
      queueMicrotask(terminated);
      return () => undefined;
    }
    const key = `${nodeId} ${path}`;
    let entry = this.watching.get(key);
    if (entry === undefined) {
      entry = { nodeId, address, path, callbacks: new Set() };
      this.watching.set(key, entry);
      this.trySend(address, EnvelopeKind.WATCH, path);
    }
    const callback = (): void => terminated();
    entry.callbacks.add(callback);
    const watched = entry;
    return () => {
      if (!watched.callbacks.delete(callback) || watched.callbacks.size > 0) return;
      this.watching.delete(key);
      this.trySend(watched.address, EnvelopeKind.UNWATCH, path);
    };
  }

  /** TERMINATED from `from`: the actor at `path` there stopped. */
  terminated(from: NodeId, path: string): void {
    const key = `${from} ${path}`;
    const entry = this.watching.get(key);
    if (entry === undefined) return;
    this.watching.delete(key);
    this.fire(entry);
  }

  /** WATCH from `from`: tell it when the local actor at `path` stops (now, if it is not running). */
  watchRequested(from: NodeId, path: string): void {
    if (!this.ctx.isRunning(path)) {
      this.trySend(from, EnvelopeKind.TERMINATED, path);
      return;
    }
    let nodes = this.watchedBy.get(path);
    if (nodes === undefined) this.watchedBy.set(path, (nodes = new Set()));
    nodes.add(from);
    this.offStopped ??= this.ctx.system.events.subscribe(ActorStopped, (e) => this.localStopped(e.ref.path));
  }

  /** UNWATCH from `from`. */
  unwatchRequested(from: NodeId, path: string): void {
    const nodes = this.watchedBy.get(path);
    if (nodes === undefined) return;
    nodes.delete(from);
    if (nodes.size === 0) this.forget(path);
  }

  /** Membership declared `nodeId` down or left: its watched actors count as terminated; its watches of ours go. */
  nodeGone(nodeId: NodeId): void {
    for (const [key, entry] of [...this.watching]) {
      if (entry.nodeId !== nodeId) continue;
      this.watching.delete(key);
      this.fire(entry);
    }
    for (const [path, nodes] of [...this.watchedBy]) {
      if (nodes.delete(nodeId) && nodes.size === 0) this.forget(path);
    }
  }

  /** The connection to `nodeId` is up (again): re-send its watches, in case a WATCH was lost with the old one. */
  reconnected(nodeId: NodeId): void {
    for (const entry of this.watching.values()) if (entry.nodeId === nodeId) this.trySend(entry.address, EnvelopeKind.WATCH, entry.path);
  }

  /** Watches held (diagnostics and tests): remote actors watched from here, local actors watched from elsewhere. */
  get size(): { readonly watching: number; readonly watchedBy: number } {
    return { watching: this.watching.size, watchedBy: this.watchedBy.size };
  }

  close(): void {
    this.offStopped?.();
    this.offStopped = undefined;
    this.watchedBy.clear();
    this.watching.clear();
  }

  private localStopped(path: string): void {
    const nodes = this.watchedBy.get(path);
    if (nodes === undefined) return;
    this.forget(path);
    for (const nodeId of nodes) this.trySend(nodeId, EnvelopeKind.TERMINATED, path);
  }

  private forget(path: string): void {
    this.watchedBy.delete(path);
    if (this.watchedBy.size === 0) {
      this.offStopped?.();
      this.offStopped = undefined;
    }
  }

  private fire(entry: Watched): void {
    for (const callback of entry.callbacks) {
      try {
        callback();
      } catch (error) {
        this.ctx.logger.error(`A death watch callback for ${entry.path} on node '${entry.nodeId}' threw`, error);
      }
    }
  }

  private trySend(to: NodeId | NodeAddress, kind: WatchKind, path: string): void {
    try {
      this.ctx.send(to, kind, path);
    } catch (error) {
      this.ctx.logger.debug(`Could not send a death watch envelope for ${path}; it is sent again when the node reconnects`, error);
    }
  }
}
