// The nodes this node is connected to, from the transport's peer-up and peer-down events: which are
// connected (in either direction) and at what address, and which lost their connection and are not back
// yet (asks to those fail at once). A stand-in for membership until SWIM replaces it.

import type { MemberState } from '../membership/MemberState';
import type { NodeAddress, NodeId, PeerInfo } from '../transport/Transport';

/** A node of the current membership view. */
export interface ClusterMember {
  readonly nodeId: NodeId;
  /** Where the node listens. */
  readonly address: NodeAddress;
  /** True for the node that reports the view. */
  readonly self: boolean;
  /** What this node believes about it: 'alive', 'suspect' (missed probes), 'dead' (failed) or 'left'. */
  readonly state: MemberState;
  /** Raised only by the member itself, to refute a suspicion or when it rejoins after a restart. */
  readonly incarnation: number;
}

interface Connections {
  address: NodeAddress;
  inbound: boolean;
  outbound: boolean;
}

export class PeerDirectory {
  private readonly peers = new Map<NodeId, Connections>();
  /**
   * Nodes whose outbound connection was lost and has not come back, with why; `left` when the node announced it
   * is leaving (cleared when it connects again); `gone` when membership declared it down or left (cleared only
   * when membership sees it back: a connection alone, say to whoever took its address, does not bring it back).
   */
  private readonly lost = new Map<NodeId, { readonly address: NodeAddress; readonly reason: string; readonly left?: true;
    readonly gone?: true }>();

  /** Records a connection coming up; true when the node had no connection before. */
  up(peer: PeerInfo): boolean {
    let entry = this.peers.get(peer.nodeId);
    const isNew = entry === undefined;
    if (entry === undefined) {
      entry = { address: peer.address, inbound: false, outbound: false };
      this.peers.set(peer.nodeId, entry);
    }
    entry.address = peer.address;
    entry[peer.direction] = true;
    if (peer.direction === 'outbound' && this.lost.get(peer.nodeId)?.gone !== true) this.lost.delete(peer.nodeId);
    return isNew;
  }

  /**
   * Records a connection going down; an outbound loss makes the node unavailable until it is back.
   * Returns a short why, for error messages.
   */
  down(peer: PeerInfo, reason: Error): string {
    const previous = this.lost.get(peer.nodeId);
    const why = previous?.left === true ? previous.reason : lossReason(reason);
    if (peer.direction === 'outbound' && previous?.left !== true) this.lost.set(peer.nodeId, { address: peer.address, reason: why });
    const entry = this.peers.get(peer.nodeId);
    if (entry !== undefined) {
      entry[peer.direction] = false;
      if (!entry.inbound && !entry.outbound) this.peers.delete(peer.nodeId);
    }
    return why;
  }

  /** Records that `nodeId` announced it is leaving: unavailable until it connects again. */
  left(nodeId: NodeId): NodeAddress | undefined {
    const previous = this.lost.get(nodeId);
    const address = this.peers.get(nodeId)?.address ?? previous?.address;
    if (address !== undefined && previous?.gone !== true) this.lost.set(nodeId, { address, reason: 'it left the cluster', left: true });
    return address;
  }

  /** Records that membership declared `nodeId` gone (`reason` says how): unavailable until membership sees it back. */
  gone(nodeId: NodeId, address: NodeAddress, reason: string): void {
    this.lost.set(nodeId, { address, reason, left: true, gone: true });
  }

  /** Membership sees `nodeId` alive again (it restarted, or a partition healed): no longer gone. */
  back(nodeId: NodeId): void {
    if (this.lost.get(nodeId)?.gone === true) this.lost.delete(nodeId);
  }

  /** True when `nodeId` left or membership declared it gone, and it has not connected again since. */
  isGone(nodeId: NodeId): boolean {
    return this.lost.get(nodeId)?.left === true;
  }

  /** Why `nodeId` is unreachable now (its connection was lost and is not back), or undefined. */
  unavailable(nodeId: NodeId): { readonly address: NodeAddress; readonly reason: string; readonly left?: true } | undefined {
    return this.lost.get(nodeId);
  }

  /** True while the connection `nodeId` opened to this node (its replies come on it) is up. */
  hasInbound(nodeId: NodeId): boolean {
    return this.peers.get(nodeId)?.inbound === true;
  }

  /** True while some connection with `nodeId` is up. */
  isConnected(nodeId: NodeId): boolean {
    return this.peers.has(nodeId);
  }

  /** The nodes with a connection up, in the order they connected. */
  connected(): Array<{ readonly nodeId: NodeId; readonly address: NodeAddress }> {
    return [...this.peers].map(([nodeId, entry]) => ({ nodeId, address: entry.address }));
  }
}

/** A short why for error messages: the connection error's own detail when it has one. */
function lossReason(reason: Error): string {
  const detail = (reason as { detail?: unknown }).detail;
  return `its connection was lost: ${typeof detail === 'string' ? detail : reason.message}`;
}
