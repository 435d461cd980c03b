// InboundConnection: a connection a peer dialed to this node, on which this node only receives. It runs the
// listening side of the handshake under a timeout, reads nothing but small handshake frames until the peer
// is accepted (secret proven, id not taken), then hands each frame to the transport for its protocol.
// Any bad input closes this connection alone, with a typed error; the rest of the node is untouched.

import type { Socket } from 'node:net';
import type { TimerHandle } from '@casty/core';
import { FrameSocket } from '../internal/FrameSocket';
import type { SocketCounters } from '../internal/FrameSocket';
import { HandshakeError, MalformedFrameError } from './errors';
import { encodeFrame, isKnownProtocolId, protocolName, ProtocolId } from './frame';
import type { Frame } from './frame';
import { decodeHandshake, encodeHandshake, HANDSHAKE_MAX_PAYLOAD_BYTES, ServerHandshake } from './handshake';
import type { HandshakeIdentity, InboundIdentity } from './handshake';
import { formatAddress } from './Transport';
import type { ResolvedTransportConfig } from './TransportConfig';

/** What an InboundConnection needs from its transport. */
export interface InboundHost {
  readonly config: ResolvedTransportConfig;
  readonly counters: SocketCounters;
  identity(): HandshakeIdentity;
  /** The peer proved who it is; throw a HandshakeError to refuse it (for example a duplicate node id). */
  accept(connection: InboundConnection, remote: InboundIdentity): void;
  /** A frame of an application protocol arrived from `from`. */
  /** `borrowed`: the payload is valid during the call only (see Frame.borrowed). */
  deliver(protocolId: ProtocolId, from: string, payload: Buffer, borrowed: boolean): void;
  /** The connection ended; `remote` is set if it had been accepted. */
  closed(connection: InboundConnection, remote: InboundIdentity | undefined, reason: Error): void;
}

export class InboundConnection {
  private readonly socket: FrameSocket;
  private readonly handshake: ServerHandshake;
  private readonly timer: TimerHandle;
  /** The peer, once accepted. */
  remote: InboundIdentity | undefined;

  constructor(raw: Socket, private readonly host: InboundHost) {
    const { config } = host;
    const from = `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`;
    this.socket = new FrameSocket(raw, `connection from ${from}`, HANDSHAKE_MAX_PAYLOAD_BYTES, {
      onFrame: (frame) => this.onFrame(frame),
      onClose: (reason) => {
        config.clock.clearTimeout(this.timer);
        host.closed(this, this.remote, reason);
      },
    }, host.counters);
    this.handshake = new ServerHandshake(this.socket.peer, host.identity(), config.secret);
    this.timer = config.clock.setTimeout(() => this.socket.fail(new HandshakeError(this.socket.peer, 'TIMEOUT',
      `no complete handshake within handshakeTimeoutMs ${config.handshakeTimeoutMs} ms`)), config.handshakeTimeoutMs);
  }

  /** Who is on the other end, for messages. */
  get peer(): string {
    return this.socket.peer;
  }

  /** Closes the connection; the transport hears of it through `closed` with `reason`. */
  fail(reason: Error): void {
    this.socket.fail(reason);
  }

  /** Stops handing frames over until `resume()` (a replacement waiting for the connection it replaces to drain). */
  hold(): void {
    this.socket.hold();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Bytes received on this connection so far. */
  get bytesReceived(): number {
    return this.socket.bytesReceived;
  }

  /** The transport's idle sweep: bytes received when it last looked, and for how long nothing arrived since. */
  idleSeen = { bytes: -1, silentMs: 0 };

  /** True once closed. */
  get isClosed(): boolean {
    return this.socket.isClosed;
  }

  private onFrame(frame: Frame): void {
    if (this.remote === undefined) {
      this.onHandshakeFrame(frame);
      return;
    }
    if (frame.protocolId === ProtocolId.HEARTBEAT) return;
    if (frame.protocolId === ProtocolId.HANDSHAKE || !isKnownProtocolId(frame.protocolId)) {
      throw new MalformedFrameError(this.peer, frame.protocolId === ProtocolId.HANDSHAKE
        ? 'handshake frame after the handshake completed' : `unknown protocol id ${frame.protocolId}`);
    }
    this.host.deliver(frame.protocolId, this.remote.nodeId, frame.payload, frame.borrowed === true);
  }

  private onHandshakeFrame(frame: Frame): void {
    try {
      if (frame.protocolId !== ProtocolId.HANDSHAKE) {
        throw new HandshakeError(this.peer, 'PROTOCOL', `${protocolName(frame.protocolId)} frame before the handshake completed`);
      }
      const step = this.handshake.receive(decodeHandshake(this.peer, frame.payload));
      if (step.established !== undefined) {
        this.host.accept(this, step.established);
        this.remote = step.established;
        this.socket.peer = `node '${step.established.nodeId}' (${formatAddress(step.established.address)})`;
        this.socket.setMaxPayloadBytes(this.host.config.maxFrameBytes);
        this.host.config.clock.clearTimeout(this.timer);
        this.socket.write(encodeFrame(ProtocolId.HANDSHAKE, encodeHandshake({ t: 'welcome' })));
      } else if (step.reply !== undefined) {
        this.socket.write(encodeFrame(ProtocolId.HANDSHAKE, encodeHandshake(step.reply)));
      }
    } catch (err) {
      if (err instanceof HandshakeError) {
        // Tell the peer why (so its operator sees the reason), then close.
        const reject = encodeHandshake({ t: 'reject', reason: err.reason, message: err.detail });
        this.socket.fail(err, encodeFrame(ProtocolId.HANDSHAKE, reject));
        return;
      }
      throw err;
    }
  }
}
