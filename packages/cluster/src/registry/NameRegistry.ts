// Cluster-wide names: every named top-level actor is announced in the gossiped state under
// 'actors/<name>/<node id>' (one key per node, so each key has one writer and concurrent registrations of
// one name on two nodes never overwrite each other), and an index of those keys answers `lookup(name)` on
// any node without a network round trip.
//
// A node owns the keys with its id: when the gossip shows one of them differing from what it holds (a
// previous run of this node left an entry behind, or others deleted its names while they thought it dead)
// it writes its own view again, which dominates what it just saw. When a node is declared down or leaves,
// every node that sees it deletes its names (the same tombstone from many nodes merges into one).

import { ActorStarted, ActorStopped } from '@casty/core';
import type { ActorRef, ActorSystem } from '@casty/core';
import type { Gossip } from '../gossip/Gossip';
import type { GossipChange } from '../gossip/patterns';
import type { NodeAddress, NodeId, Unsubscribe } from '../transport/Transport';

/** Where the registry finds live members and makes refs to their actors. */
export interface RegistryContext {
  readonly system: ActorSystem;
  readonly gossip: Gossip;
  readonly selfId: NodeId;
  /** The address of `nodeId` if membership holds it alive or suspect, else undefined. */
  liveAddress(nodeId: NodeId): NodeAddress | undefined;
  remoteRef(nodeId: NodeId, address: NodeAddress, path: string): ActorRef<unknown>;
}

const PREFIX = 'actors/';
const TOP_LEVEL = '/user/';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The gossip key of `name` registered on `nodeId`. */
export function nameKey(name: string, nodeId: NodeId): string {
  return `${PREFIX}${name}/${encodeURIComponent(nodeId)}`;
}

export class NameRegistry {
  /** Names of this node's live top-level actors, with their paths. */
  private readonly owned = new Map<string, string>();
  /** Every registration this node knows of: name -> node id -> path. */
  private readonly index = new Map<string, Map<NodeId, string>>();
  private readonly unsubscribes: Unsubscribe[] = [];

  constructor(private readonly ctx: RegistryContext) {}

  /** Follows this system's named actors (start it before any is spawned) and the gossiped registrations of the others. */
  start(): void {
    const { system, gossip } = this.ctx;
    this.unsubscribes.push(
      gossip.subscribe(`${PREFIX}**`, (change) => this.changed(change)),
      system.events.subscribe(ActorStarted, (e) => this.started(e.ref)),
      system.events.subscribe(ActorStopped, (e) => this.stopped(e.ref)),
    );
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  /**
   * A ref to the actor registered as `nameOrPath` (a top-level name, or '/user/<name>') on a live node, or
   * undefined. With the name on several nodes, the one on the smallest node id is picked, so every node
   * picks the same.
   */
  lookup(nameOrPath: string): ActorRef<unknown> | undefined {
    const name = nameOrPath.startsWith(TOP_LEVEL) ? nameOrPath.slice(TOP_LEVEL.length) : nameOrPath;
    const nodes = this.index.get(name);
    if (nodes === undefined) return undefined;
    for (const nodeId of [...nodes.keys()].sort()) {
      if (nodeId === this.ctx.selfId) continue; // local actors are found by the system before it asks here
      const address = this.ctx.liveAddress(nodeId);
      if (address !== undefined) return this.ctx.remoteRef(nodeId, address, nodes.get(nodeId) as string);
    }
    return undefined;
  }

  /** The nodes `name` is registered on, as this node knows it (diagnostics and tests). */
  nodesOf(name: string): NodeId[] {
    return [...(this.index.get(name)?.keys() ?? [])].sort();
  }

  /** `nodeId` failed or left: its names go, on every node that sees it. */
  nodeGone(nodeId: NodeId): void {
    for (const [name, nodes] of this.index) {
      if (nodes.has(nodeId) && nodeId !== this.ctx.selfId) this.ctx.gossip.delete(nameKey(name, nodeId));
    }
  }

  private started(ref: ActorRef<never>): void {
    const name = topLevelName(ref.path);
    if (name !== undefined) this.register(name, ref.path);
  }

  private stopped(ref: ActorRef<never>): void {
    const name = topLevelName(ref.path);
    if (name === undefined || this.owned.get(name) !== ref.path) return;
    this.owned.delete(name);
    this.ctx.gossip.delete(nameKey(name, this.ctx.selfId));
  }

  private register(name: string, path: string): void {
    this.owned.set(name, path);
    this.ctx.gossip.set(nameKey(name, this.ctx.selfId), encoder.encode(path));
  }

  private changed(change: GossipChange): void {
    const parsed = parseKey(change.key);
    if (parsed === undefined) return;
    const { name, nodeId } = parsed;
    const path = change.value === undefined ? undefined : decoder.decode(change.value);
    let nodes = this.index.get(name);
    if (path === undefined) {
      nodes?.delete(nodeId);
      if (nodes?.size === 0) this.index.delete(name);
    } else {
      if (nodes === undefined) this.index.set(name, (nodes = new Map()));
      nodes.set(nodeId, path);
    }
    if (nodeId !== this.ctx.selfId) return;
    // This node owns the key: what the cluster holds must be what this node holds.
    const mine = this.owned.get(name);
    if (mine === path) return;
    if (mine === undefined) this.ctx.gossip.delete(change.key);
    else this.ctx.gossip.set(change.key, encoder.encode(mine));
  }

}

/** The name of a top-level actor spawned with one ('/user/<name>'), else undefined (children, '$' names). */
function topLevelName(path: string): string | undefined {
  if (!path.startsWith(TOP_LEVEL)) return undefined;
  const name = path.slice(TOP_LEVEL.length);
  return name.length === 0 || name.includes('/') || name.startsWith('$') ? undefined : name;
}

function parseKey(key: string): { name: string; nodeId: NodeId } | undefined {
  if (!key.startsWith(PREFIX)) return undefined;
  const slash = key.lastIndexOf('/');
  if (slash <= PREFIX.length) return undefined;
  try {
    return { name: key.slice(PREFIX.length, slash), nodeId: decodeURIComponent(key.slice(slash + 1)) };
  } catch {
    return undefined;
  }
}
