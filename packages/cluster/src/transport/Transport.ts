// The Transport interface: what membership and remote actor messaging see of the network. A transport
// moves opaque frames, tagged with a protocol id, between nodes; TcpTransport does it over TCP/TLS and
// InMemoryTransport (in ./testing) over an in-process network for deterministic tests.
//
// Lanes: a node opens two connections to a peer, one for control traffic (SWIM probes and acks, gossip) and
// one for data (actor messages), as Akka's Artery has a control stream beside its ordinary one, so that a
// probe is never queued behind megabytes of application frames and a busy node is not declared dead.
//
// Ordering: frames of one protocol from one sender to one receiver arrive in the order they were sent, because
// one outbound connection per peer and lane carries them. A reply travels over the responder's own outbound
// connection to the asker's listening address (learned in the handshake), never back over the asker's
// connection, so each direction has exactly one ordered stream.
//
// Binding: a frame sent to a node (a node id, or a BoundTarget) is delivered to that node or to no one: the
// handshake names the node the connection is meant for, and a different node now listening at that address
// refuses it (WRONG_NODE), so the frames are dropped, counted and reported at the sender (onDropped).

import type { ProtocolId } from './frame';

/** A node's unique id within its cluster. */
export type NodeId = string;

/** Where a node listens: the address peers dial. */
export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** A node at its address: frames sent to it reach that node or no one (never another node at that address). */
export interface BoundTarget {
  readonly nodeId: NodeId;
  readonly address: NodeAddress;
}

/**
 * Whom to send to: a node id already known to the transport (bound to that node), a BoundTarget, or a bare
 * address (whoever listens there: for joining through seeds, whose ids are not known yet).
 */
export type PeerTarget = NodeId | NodeAddress | BoundTarget;

/** The connection a frame travels on: 'control' for SWIM and gossip, 'data' for everything else. */
export type Lane = 'control' | 'data';

/** A frame dropped unsent, handed back to the layer that sent it (so it can dead-letter or fail it). */
export interface DroppedFrame {
  readonly protocolId: ProtocolId;
  readonly payload: Uint8Array;
}

/** Frames queued for a peer that were dropped without being sent, and why. */
export interface DroppedFrames {
  /** The node they were meant for, when the connection was bound to one. */
  readonly nodeId: NodeId | undefined;
  readonly address: NodeAddress;
  /** How many frames and payload bytes were dropped. */
  readonly frames: number;
  readonly bytes: number;
  /** The dropped frames themselves, at most DROPPED_FRAMES_REPORTED of them (the first ones); `frames` counts all. */
  readonly payloads: readonly DroppedFrame[];
  readonly reason: Error;
}

/** Called when frames queued for a peer are dropped unsent (see DroppedFrames). */
export type DroppedListener = (dropped: DroppedFrames) => void;

/** Most dropped frames handed back in one DroppedFrames; the rest are only counted. */
export const DROPPED_FRAMES_REPORTED = 10_000;

/** Receives the frames of one protocol: who sent it and its payload (owned by the handler; not reused). */
export type FrameHandler = (from: NodeId, payload: Uint8Array) => void;

/** How a frame handler treats its payloads (see Transport.onFrame). */
export interface FrameHandlerOptions {
  /**
   * The handler reads each payload during its call only (it decodes it at once and keeps no view of it): the
   * transport may then hand it a large frame in a buffer it uses again after the call, instead of a copy of its
   * own. Default false: each payload is the handler's to keep.
   */
  readonly borrows?: boolean;
}

/**
 * One connection with a peer. `outbound` is the connection this node dialed and sends on; `inbound` is the one
 * the peer dialed and this node receives on.
 */
export interface PeerInfo {
  readonly nodeId: NodeId;
  /** The peer's listening address (for `inbound`, as the peer announced it in the handshake). */
  readonly address: NodeAddress;
  readonly direction: 'inbound' | 'outbound';
  /** The lane of the connection; absent means 'data' (a transport without lanes). */
  readonly lane?: Lane;
}

/** Called when a connection with a peer has completed its handshake. */
export type PeerUpListener = (peer: PeerInfo) => void;
/**
 * Called when an open connection with a peer has ended. Frames sent to that peer may have been lost, so a
 * higher layer fails its pending asks to `peer.nodeId` at once rather than waiting for their timeouts.
 */
export type PeerDownListener = (peer: PeerInfo, reason: Error) => void;

/** Removes the handler or listener it was returned for. */
export type Unsubscribe = () => void;

/** Moves frames between the nodes of a cluster. */
export interface Transport {
  /** This node's id. */
  readonly nodeId: NodeId;
  /** The address peers dial to reach this node; throws TransportClosedError before `start()` resolved. */
  readonly address: NodeAddress;

  /** Binds the listening port (port 0 picks a free one) and resolves with the address peers should dial. */
  start(): Promise<NodeAddress>;
  /**
   * Stops listening and closes every connection. Queued frames are written if the connection is open, then
   * dropped. Resolves when all sockets are closed; idempotent.
   */
  close(): Promise<void>;

  /**
   * Queues `payload` for `to` (a copy is taken, so the caller may reuse it) and returns at once; frames
   * queued in the same tick go out in one socket write. Sending to this node's own id or address delivers
   * locally, asynchronously. Throws TransportBackpressureError when the outbound queue to that peer is full,
   * FrameTooLargeError, UnknownPeerError for a node id with no known address, TransportClosedError.
   */
  send(to: PeerTarget, protocolId: ProtocolId, payload: Uint8Array): void;

  /**
   * Like `send`, for a payload made of two parts, `head` then `body` (both copied before it returns): the
   * transport writes them straight into the outgoing frame, sparing the caller a copy. Optional; without it
   * a caller joins the parts and calls `send`.
   */
  sendParts?(to: PeerTarget, protocolId: ProtocolId, head: Uint8Array, body: Uint8Array): void;

  /**
   * Whether a frame of `bytes` to `to` fits now within half the outbound queue (what waits for that peer and what
   * its socket buffers; TcpTransport also keeps it within 4 MiB): bulk senders (hand-offs, replicas) wait for it,
   * leaving the rest to ordinary messages. Optional; without it there is always room. A peer with nothing pending
   * always has room.
   */
  roomFor?(to: PeerTarget, bytes: number): boolean;

  /**
   * Opens the outbound connection to `to` on `lane` now, when none is open or being made, so that the first frame
   * sent does not wait for the connection and its handshake; unlike `connect`, it is not redialed once lost (only
   * while frames are queued, as any other). Membership opens the control lane to each member as it learns of it:
   * a joiner's first quorum pings went out over connections still being made, while the members were busy with the
   * join's hand-offs, and missed their probe timeout (100 ms with the development preset).
   */
  open?(to: PeerTarget, lane: Lane): void;

  /**
   * Sets the handler for one protocol's incoming frames (one handler per protocol; setting a second throws
   * InvalidArgumentError). A handler that throws is logged and does not close the connection. See
   * FrameHandlerOptions for `borrows`.
   */
  onFrame(protocolId: ProtocolId, handler: FrameHandler, options?: FrameHandlerOptions): Unsubscribe;
  /** Listens for connections with peers completing their handshake. */
  onPeerUp(listener: PeerUpListener): Unsubscribe;
  /** Listens for open connections with peers ending. */
  onPeerDown(listener: PeerDownListener): Unsubscribe;
  /** Listens for frames dropped unsent (the node they were meant for is gone, or the transport closed). */
  onDropped(listener: DroppedListener): Unsubscribe;

  /**
   * Marks a peer as wanted: connect now (its data lane), and keep reconnecting (with backoff) whenever the
   * connection dies, until `disconnect` (or, for a node id or BoundTarget, until another node is found at its
   * address). Without it, the transport reconnects only while frames are queued for the peer.
   */
  connect(to: PeerTarget): void;
  /** Stops wanting a peer: closes the outbound connection to it and drops the frames queued for it. */
  disconnect(to: PeerTarget): void;
}

/** `host:port` (IPv6 hosts in brackets), the key the transport uses for a peer's address. */
export function formatAddress(address: NodeAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** True when `target` is a bare address (not a node id, not a BoundTarget). */
export function isNodeAddress(target: PeerTarget): target is NodeAddress {
  return typeof target === 'object' && !('nodeId' in target);
}

/** True when `target` is a BoundTarget. */
export function isBoundTarget(target: PeerTarget): target is BoundTarget {
  return typeof target === 'object' && 'nodeId' in target;
}

/** The lane a protocol's frames travel on. */
export function laneOf(protocolId: ProtocolId): Lane {
  return protocolId === 2 /* SWIM */ || protocolId === 3 /* GOSSIP */ ? 'control' : 'data';
}

/** `nodeId` at `address`, or just the address, for messages. */
export function describeTarget(target: PeerTarget): string {
  if (typeof target === 'string') return `node '${target}'`;
  if (isBoundTarget(target)) return `node '${target.nodeId}' at ${formatAddress(target.address)}`;
  return formatAddress(target);
}
