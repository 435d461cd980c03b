// The transport's errors: what a caller of `send` catches (backpressure, unknown peer, frame too large,
// closed transport) and what a connection is closed with (malformed frame, failed handshake, timeouts).
// Every class has a stable `code` and is registered with core, so an error that crossed the wire is rebuilt
// as its class. Codes are only ever added, never renamed.

import { CastyError, registerErrorClass } from '@casty/core';

/** Bytes arrived on a connection that are not a valid frame; the connection was closed. */
export class MalformedFrameError extends CastyError {
  static readonly code = 'MALFORMED_FRAME';
  constructor(readonly peer: string, readonly reason: string) {
    super(MalformedFrameError.code,
      `Malformed frame from ${peer}: ${reason}; the connection was closed. ` +
      `Only Casty nodes of the same protocol version should connect to this port`);
  }
}

/** Why a handshake failed. Stable strings: they also travel in a handshake `reject` message. */
export type HandshakeFailure =
  | 'VERSION_MISMATCH'
  | 'CLUSTER_MISMATCH'
  | 'AUTHENTICATION_FAILED'
  | 'DUPLICATE_NODE_ID'
  | 'TIMEOUT'
  | 'PROTOCOL'
  | 'WRONG_NODE';

const handshakeAdvice: Record<HandshakeFailure, string> = {
  VERSION_MISMATCH: 'run the same Casty protocol version on every node',
  CLUSTER_MISMATCH: 'give every node of one cluster the same clusterName',
  AUTHENTICATION_FAILED: 'give every node of the cluster the same secret (or none on all of them)',
  DUPLICATE_NODE_ID: 'give every node a unique nodeId (or leave it unset for a random one)',
  TIMEOUT: 'check that the peer is a Casty node and reachable, or raise handshakeTimeoutMs',
  PROTOCOL: 'only Casty nodes of the same protocol version should connect to this port',
  WRONG_NODE: 'the node this connection was meant for is gone from that address; its frames were dropped',
};

/** A connection's handshake failed or was refused; no application frame was read or sent on it. */
export class HandshakeError extends CastyError {
  static readonly code = 'HANDSHAKE_FAILED';
  constructor(readonly peer: string, readonly reason: HandshakeFailure, readonly detail: string) {
    super(HandshakeError.code,
      `Handshake with ${peer} failed (${reason}): ${detail}; ${handshakeAdvice[reason]}`);
  }
}

/** A TCP (or TLS) connection to a peer was not established within `connectTimeoutMs`. */
export class ConnectTimeoutError extends CastyError {
  static readonly code = 'CONNECT_TIMEOUT';
  constructor(readonly peer: string, readonly timeoutMs: number) {
    super(ConnectTimeoutError.code,
      `Connecting to ${peer} took longer than ${timeoutMs} ms; check that the node is up and reachable ` +
      `(firewall, address, TLS on both sides), or raise connectTimeoutMs. The transport retries with backoff`);
  }
}

/** The `detail` of a ConnectionLostError for a connection the peer closed cleanly (it sent FIN; no error). */
export const CLOSED_BY_PEER = 'closed by the peer';

/** A connection to or from a peer ended (closed, reset, or failed); carried by the peer-down event. */
export class ConnectionLostError extends CastyError {
  static readonly code = 'CONNECTION_LOST';

  /** True for a connection the peer closed cleanly, after every byte it wrote had arrived. */
  get closedByPeer(): boolean {
    return this.detail === CLOSED_BY_PEER && this.cause === undefined;
  }

  constructor(readonly peer: string, readonly detail: string, options?: { cause?: unknown }) {
    super(ConnectionLostError.code,
      `Connection with ${peer} was lost: ${detail}`, options);
  }
}

/** The outbound queue to one peer is full: the peer reads slower than we send, or is unreachable. */
export class TransportBackpressureError extends CastyError {
  static readonly code = 'TRANSPORT_BACKPRESSURE';
  constructor(readonly peer: string, readonly limitBytes: number, readonly queuedBytes: number,
    readonly frameBytes: number, readonly peerState: string) {
    super(TransportBackpressureError.code,
      `Outbound queue to ${peer} is full: ${queuedBytes} bytes queued + ${frameBytes} would exceed ` +
      `outboundQueueBytes ${limitBytes} (connection ${peerState}). The frame was not sent. Send less or ` +
      `retry later, check that the peer is alive and reading, or raise outboundQueueBytes`);
  }
}

/** A payload is larger than `maxFrameBytes`, so no peer would accept it. */
export class FrameTooLargeError extends CastyError {
  static readonly code = 'FRAME_TOO_LARGE';
  constructor(readonly payloadBytes: number, readonly maxFrameBytes: number, readonly peer?: string) {
    super(FrameTooLargeError.code, peer === undefined
      ? `Payload of ${payloadBytes} bytes exceeds maxFrameBytes ${maxFrameBytes}; split it into smaller ` +
        `messages or raise maxFrameBytes on every node`
      : `Payload of ${payloadBytes} bytes exceeds the ${maxFrameBytes} bytes ${peer} accepts (its maxFrameBytes, ` +
        `agreed in the handshake); split it into smaller messages or give every node the same maxFrameBytes`);
  }
}

/** `send` named a node id whose address the transport has not learned. */
export class UnknownPeerError extends CastyError {
  static readonly code = 'UNKNOWN_PEER';
  constructor(readonly nodeId: string) {
    super(UnknownPeerError.code,
      `No address is known for node '${nodeId}'; send to its address ({ host, port }) instead, ` +
      `or wait until it has connected to this node`);
  }
}

/** The transport is not running (not started yet, or closed). */
export class TransportClosedError extends CastyError {
  static readonly code = 'TRANSPORT_CLOSED';
  constructor(readonly nodeId: string, readonly attempted: string) {
    super(TransportClosedError.code,
      `Transport of node '${nodeId}' is not running, so it cannot ${attempted}; call start() first ` +
      `(a closed transport cannot be restarted: create a new one)`);
  }
}

/**
 * Frames queued for a peer were dropped without being sent: the node they were meant for is gone (declared
 * down, left, or another node now listens at its address), the connection was refused for good, or the
 * transport closed. Counted in the transport's stats and reported to `onDropped` listeners.
 */
export class FramesDroppedError extends CastyError {
  static readonly code = 'FRAMES_DROPPED';
  constructor(readonly peer: string, readonly frames: number, readonly bytes: number, readonly detail: string) {
    super(FramesDroppedError.code, `Dropped ${frames} frame(s) (${bytes} bytes) for ${peer}: ${detail}`);
  }
}

/** The listening socket's address could not be bound. */
export class TransportBindError extends CastyError {
  static readonly code = 'TRANSPORT_BIND';
  constructor(readonly address: string, cause: Error) {
    super(TransportBindError.code, `Could not listen on ${address}: ${cause.message}; ` +
      'pick a free port (or 0 for any) and an address of this machine', { cause });
  }
}

for (const cls of [MalformedFrameError, HandshakeError, ConnectTimeoutError, ConnectionLostError,
  TransportBackpressureError, FrameTooLargeError, UnknownPeerError, TransportClosedError, TransportBindError,
  FramesDroppedError]) {
  registerErrorClass(cls.code, cls as unknown as new (...args: never[]) => CastyError);
}
