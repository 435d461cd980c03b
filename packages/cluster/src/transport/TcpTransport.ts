// TcpTransport: the Transport over TCP (optionally TLS). It owns the one listening port of the node, the
// outbound PeerConnection per peer address, the accepted InboundConnections, and the map from node ids to
// listening addresses learned in handshakes. It decides which connections are accepted (one id, one node)
// and turns connection changes into peer-up/peer-down events.

import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { AsyncFifo } from '../internal/AsyncFifo';
import type { SocketCounters } from '../internal/FrameSocket';
import { checkSend, checkSendParts, TransportBase } from '../internal/TransportEvents';
import { Admission } from './Admission';
import type { AdmissionStats } from './Admission';
import { ConnectionLostError, HandshakeError, TransportBindError, TransportClosedError, UnknownPeerError } from './errors';
import type { ProtocolId } from './frame';
import type { HandshakeIdentity } from './handshake';
import { InboundConnection } from './InboundConnection';
import type { InboundHost } from './InboundConnection';
import { PeerConnection } from './PeerConnection';
import type { PeerConnectionHost, PeerConnectionState } from './PeerConnection';
import { formatAddress, isNodeAddress } from './Transport';
import type { NodeAddress, NodeId, PeerTarget, Transport } from './Transport';
import { resolveTransportConfig } from './TransportConfig';
import type { ResolvedTransportConfig, TransportConfig } from './TransportConfig';

/** Counters of a transport's traffic, for monitoring and tests (admission counters: see AdmissionStats). */
export interface TransportStats extends AdmissionStats {
  /** Calls to `socket.write` (frames of one tick share one). */
  readonly socketWrites: number;
  /** Bytes passed to `socket.write`, headers and handshakes included. */
  readonly bytesWritten: number;
  /** Frames accepted by `send`. */
  readonly framesSent: number;
  /** Application frames received and handed to a handler (or dropped for want of one). */
  readonly framesReceived: number;
  /** Inbound connections that completed the handshake. */
  readonly connectionsAccepted: number;
}

/** Diagnostics of one outbound connection. */
export interface PeerStatus {
  readonly state: PeerConnectionState;
  /** Bytes queued for the peer plus bytes buffered in its socket; never more than outboundQueueBytes. */
  readonly pendingBytes: number;
}

/** A Transport over TCP, optionally TLS; see TransportConfig for its options. */
export class TcpTransport extends TransportBase implements Transport {
  readonly nodeId: NodeId;
  private readonly config: ResolvedTransportConfig;
  private readonly counters: SocketCounters & { framesSent: number; framesReceived: number;
    connectionsAccepted: number };
  /** Which inbound connections are kept before their handshake completes; counts and reports refusals. */
  private readonly admission: Admission;
  private state: 'new' | 'starting' | 'running' | 'closed' = 'new';
  private server: net.Server | undefined;
  private listening: NodeAddress | undefined;
  private readonly peers = new Map<string, PeerConnection>();
  /**
   * The connection for an address object already seen: senders pass the same object again and again (a remote
   * ref's address, one learned in a handshake), and this spares formatting its key for every frame.
   */
  private readonly peerByAddress = new WeakMap<NodeAddress, PeerConnection>();
  private readonly addressByNode = new Map<NodeId, NodeAddress>();
  private readonly inboundByNode = new Map<NodeId, InboundConnection>();
  private readonly sockets = new Set<net.Socket>();
  private readonly loopback = new AsyncFifo();
  private readonly connectionHost: PeerConnectionHost & InboundHost;

  /** Validates `config` at once: a wrong option throws InvalidArgumentError naming it. */
  constructor(config: TransportConfig) {
    const resolved = resolveTransportConfig(config);
    super(resolved.logger);
    this.config = resolved;
    this.nodeId = resolved.nodeId;
    this.counters = { socketWrites: 0, bytesWritten: 0, framesSent: 0, framesReceived: 0, connectionsAccepted: 0 };
    this.admission = new Admission(resolved, resolved.clock, resolved.logger);
    this.connectionHost = this.makeConnectionHost();
  }

  get address(): NodeAddress {
    if (this.listening === undefined) throw new TransportClosedError(this.nodeId, 'report its address before start()');
    return this.listening;
  }

  /** A snapshot of the traffic counters. */
  stats(): TransportStats {
    return { ...this.counters, ...this.admission.stats() };
  }

  async start(): Promise<NodeAddress> {
    if (this.state !== 'new') throw new TransportClosedError(this.nodeId, `start() twice (it is ${this.state})`);
    this.state = 'starting';
    const { config } = this;
    const server = config.tls === undefined ? net.createServer() : tls.createServer({
      key: config.tls.key,
      cert: config.tls.cert,
      ...(config.tls.ca === undefined ? {} : { ca: config.tls.ca }),
      requestCert: config.tls.mutual,
      rejectUnauthorized: config.tls.mutual,
      // Node's own timer for the TLS part; our handshake timeout starts once TLS is up.
      handshakeTimeout: config.handshakeTimeoutMs,
    });
    this.server = server;
    server.on('connection', (raw: net.Socket) => {
      this.track(raw);
      if (this.state === 'running') this.admission.admit(raw);
    });
    server.on(config.tls === undefined ? 'connection' : 'secureConnection', (raw: net.Socket) => this.onAccepted(raw));
    server.on('tlsClientError', (err: Error, socket: net.Socket) => this.admission.refusedBy(socket, err));
    const bind = formatAddress({ host: config.host, port: config.port });
    try {
      server.listen(config.port, config.host);
      await once(server, 'listening');
    } catch (err) {
      this.state = 'closed';
      throw new TransportBindError(bind, err as Error);
    }
    const port = (server.address() as net.AddressInfo).port;
    this.listening = { host: config.advertiseHost, port };
    if (this.state !== 'starting') {
      server.close();
      throw new TransportClosedError(this.nodeId, 'finish start() (close() was called meanwhile)');
    }
    this.state = 'running';
    if (config.insecure) {
      config.logger.warn(`Node '${this.nodeId}' listens on ${bind}, which is not a loopback address, without secret or ` +
        'tls (insecure: true): anyone who can reach the port can message every actor of this node');
    }
    config.logger.debug(`Node '${this.nodeId}' of cluster '${config.clusterName}' listening on ${formatAddress(this.listening)}`);
    return this.listening;
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.admission.close();
    this.loopback.clear();
    const reason = new TransportClosedError(this.nodeId, 'keep connections open (it was closed)');
    for (const peer of this.peers.values()) peer.close(reason);
    this.peers.clear();
    for (const connection of [...this.inboundByNode.values()]) connection.fail(reason);
    // Not events.once: it would reject on the 'error' a socket may emit on its way down.
    const closing: Array<Promise<void>> = [...this.sockets].filter((s) => !s.closed)
      .map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
    // Outbound sockets end gracefully (their queues are written); inbound and half-open ones are destroyed.
    for (const socket of this.sockets) if (!socket.writableEnded) socket.destroy();
    const guard = this.config.clock.setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, this.config.handshakeTimeoutMs);
    const server = this.server;
    if (server !== undefined && server.listening) {
      closing.push(new Promise<void>((resolve) => server.close(() => resolve())));
    }
    await Promise.all(closing);
    this.config.clock.clearTimeout(guard);
  }

  send(to: PeerTarget, protocolId: ProtocolId, payload: Uint8Array): void {
    if (this.state !== 'running') throw new TransportClosedError(this.nodeId, 'send');
    checkSend(protocolId, payload, this.config.maxFrameBytes);
    const address = this.resolve(to);
    if (this.isLocal(address)) {
      const copy = Buffer.from(payload);
      this.loopback.push(() => this.events.deliver(protocolId, this.nodeId, copy));
    } else {
      this.peerAt(address).enqueue(protocolId, payload);
    }
    this.counters.framesSent++;
  }

  /** See Transport.sendParts: like `send`, the payload written straight from its two parts into the frame. */
  override sendParts(to: PeerTarget, protocolId: ProtocolId, head: Uint8Array, body: Uint8Array): void {
    if (this.state !== 'running') throw new TransportClosedError(this.nodeId, 'send');
    checkSendParts(protocolId, head, body, this.config.maxFrameBytes);
    const address = this.resolve(to);
    if (this.isLocal(address)) {
      const copy = Buffer.concat([head, body]);
      this.loopback.push(() => this.events.deliver(protocolId, this.nodeId, copy));
    } else {
      this.peerAt(address).enqueue(protocolId, head, body);
    }
    this.counters.framesSent++;
  }

  connect(to: NodeAddress): void {
    if (this.state !== 'running') throw new TransportClosedError(this.nodeId, 'connect');
    if (!this.isLocal(to)) this.peerAt(to).want();
  }

  disconnect(to: PeerTarget): void {
    const address = isNodeAddress(to) ? to : this.addressByNode.get(to);
    if (address === undefined) return;
    const key = formatAddress(address);
    const peer = this.peers.get(key);
    if (peer === undefined) return;
    this.peers.delete(key);
    peer.close(new TransportClosedError(this.nodeId, `keep the connection to ${key} (disconnect() was called)`));
  }

  /** The outbound connection to `to`, if any: its state and the bytes waiting to be written to it. */
  peerStatus(to: NodeAddress): PeerStatus | undefined {
    const peer = this.peers.get(formatAddress(to));
    return peer === undefined ? undefined : { state: peer.state, pendingBytes: peer.pendingBytes };
  }

  private resolve(to: PeerTarget): NodeAddress {
    if (isNodeAddress(to)) return to;
    if (to === this.nodeId) return this.address;
    const address = this.addressByNode.get(to);
    if (address === undefined) throw new UnknownPeerError(to);
    return address;
  }

  private isLocal(address: NodeAddress): boolean {
    return this.listening !== undefined && address.port === this.listening.port && address.host === this.listening.host;
  }

  private peerAt(address: NodeAddress): PeerConnection {
    const known = this.peerByAddress.get(address);
    // A closed connection was removed from `peers` (disconnect, close): look again.
    if (known !== undefined && known.state !== 'closed') return known;
    const key = formatAddress(address);
    let peer = this.peers.get(key);
    if (peer === undefined) {
      peer = new PeerConnection({ host: address.host, port: address.port }, this.connectionHost);
      this.peers.set(key, peer);
      this.admission.know(address.host);
    }
    this.peerByAddress.set(address, peer);
    return peer;
  }

  private track(raw: net.Socket): void {
    this.sockets.add(raw);
    // Errors are reported by the connection owning the socket; this listener only keeps a late error (a
    // reset on a TLS server's raw socket after the TLS layer gave up) from becoming an uncaught exception.
    raw.on('error', (err) => this.config.logger.debug('Socket error after its connection was closed', err));
    raw.once('close', () => this.sockets.delete(raw));
  }

  private onAccepted(raw: net.Socket): void {
    if (this.state !== 'running') {
      raw.destroy();
      return;
    }
    // Tracked and admitted already: the server's 'connection' event sees every socket (the raw one, under TLS).
    this.admission.attach(raw, new InboundConnection(raw, this.connectionHost));
  }

  /** The callbacks connections use; one object serves both directions. */
  private makeConnectionHost(): PeerConnectionHost & InboundHost {
    const identity = (): HandshakeIdentity => ({ clusterName: this.config.clusterName, nodeId: this.nodeId,
      address: this.address });
    return {
      config: this.config,
      counters: this.counters,
      identity,
      track: (raw: net.Socket) => this.track(raw),
      opened: (peer: PeerConnection, remote: HandshakeIdentity) => {
        this.addressByNode.set(remote.nodeId, peer.address);
        this.config.logger.debug(`Connected to ${peer.peer}`);
        this.events.peerUp({ nodeId: remote.nodeId, address: peer.address, direction: 'outbound' });
      },
      lost: (peer: PeerConnection, remote: HandshakeIdentity, reason: Error) => {
        this.logLoss(`Connection to ${peer.peer} lost`, reason);
        this.events.peerDown({ nodeId: remote.nodeId, address: peer.address, direction: 'outbound' }, reason);
      },
      accept: (connection: InboundConnection, remote: HandshakeIdentity) => {
        this.accept(connection, remote);
        this.admission.established(connection);
      },
      deliver: (protocolId: ProtocolId, from: NodeId, payload: Buffer) => {
        this.counters.framesReceived++;
        this.events.deliver(protocolId, from, payload);
      },
      closed: (connection: InboundConnection, remote: HandshakeIdentity | undefined, reason: Error) => {
        if (remote === undefined) {
          // Counted, and logged one by one at debug only (a flood would fill the log); see Admission.
          this.admission.refusedBy(connection, reason);
          return;
        }
        if (this.inboundByNode.get(remote.nodeId) === connection) this.inboundByNode.delete(remote.nodeId);
        this.logLoss(`Connection from ${connection.peer} lost`, reason);
        this.events.peerDown({ nodeId: remote.nodeId, address: remote.address, direction: 'inbound' }, reason);
      },
    };
  }

  /**
   * Admits an authenticated inbound peer. One node id has one inbound connection: a new one from the same
   * listening address replaces the old (the peer reconnected before we saw the old one die); one from
   * another address is a second node claiming the id, and is refused.
   */
  private accept(connection: InboundConnection, remote: HandshakeIdentity): void {
    const existing = this.inboundByNode.get(remote.nodeId);
    if (existing !== undefined) {
      const existingAddress = formatAddress((existing.remote as HandshakeIdentity).address);
      if (existingAddress !== formatAddress(remote.address)) {
        throw new HandshakeError(connection.peer, 'DUPLICATE_NODE_ID',
          `node id '${remote.nodeId}' is already connected from ${existingAddress}`);
      }
      existing.fail(new HandshakeError(existing.peer, 'DUPLICATE_NODE_ID', 'replaced by a newer connection of the same node'));
    }
    this.inboundByNode.set(remote.nodeId, connection);
    this.addressByNode.set(remote.nodeId, remote.address);
    this.counters.connectionsAccepted++;
    this.config.logger.debug(`Accepted ${connection.peer}`);
    this.events.peerUp({ nodeId: remote.nodeId, address: remote.address, direction: 'inbound' });
  }

  /** A connection closed on purpose (by us, or cleanly by the peer) is routine; anything else is a warning. */
  private logLoss(message: string, reason: Error): void {
    const clean = reason instanceof TransportClosedError || (reason instanceof ConnectionLostError && reason.cause === undefined);
    if (clean) this.config.logger.debug(message, reason);
    else this.config.logger.warn(message, reason);
  }
}
