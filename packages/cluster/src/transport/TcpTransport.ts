// TcpTransport: the Transport over TCP (optionally TLS). It owns the one listening port of the node, the
// outbound PeerConnections (one per peer address, lane and bound node id), the accepted InboundConnections,
// and the map from node ids to listening addresses learned in handshakes. It decides which connections are
// accepted (one id, one node; a reconnect of the same process waits for its old connection to drain, a
// restarted process replaces it), keeps idle connections alive and closes stalled ones, counts every frame
// it drops, and turns connection changes into peer-up/peer-down events.

import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { AsyncFifo } from '../internal/AsyncFifo';
import { WarningLimiter } from '../internal/WarningLimiter';
import type { SocketCounters } from '../internal/FrameSocket';
import { checkSend, checkSendParts, TransportBase } from '../internal/TransportEvents';
import { Admission } from './Admission';
import type { AdmissionStats } from './Admission';
import { ConnectionLostError, FramesDroppedError, HandshakeError, TransportBindError, TransportClosedError, UnknownPeerError } from './errors';
import type { ProtocolId } from './frame';
import type { HandshakeIdentity, InboundIdentity } from './handshake';
import { InboundConnection } from './InboundConnection';
import type { InboundHost } from './InboundConnection';
import { PeerConnection } from './PeerConnection';
import type { PeerConnectionHost, PeerConnectionState } from './PeerConnection';
import { formatAddress, isBoundTarget, isNodeAddress, laneOf } from './Transport';
import type { DroppedFrame, Lane, NodeAddress, NodeId, PeerTarget, Transport } from './Transport';
import { resolveTransportConfig } from './TransportConfig';
import type { ResolvedTransportConfig, TransportConfig } from './TransportConfig';

/** Counters of a transport's traffic, for monitoring and tests (admission counters: see AdmissionStats). */
export interface TransportStats extends AdmissionStats {
  /** Calls to `socket.write` (frames of one tick share one). */
  readonly socketWrites: number;
  /** Bytes passed to `socket.write`, headers and handshakes included. */
  readonly bytesWritten: number;
  /** Bytes read from sockets, headers, handshakes and keep-alives included. */
  readonly bytesRead: number;
  /** Frames accepted by `send`. */
  readonly framesSent: number;
  /** Application frames received and handed to a handler (or dropped for want of one). */
  readonly framesReceived: number;
  /**
   * Frames accepted by `send` that were never handed to the operating system: dropped unsent because the node
   * they were meant for is gone (declared down, left, or another node listens at its address), because the
   * peer accepts no frame that large, or because the transport closed; or failed in a socket that closed first.
   * Each drop is also logged with its count and reported to `onDropped` listeners.
   */
  readonly framesDropped: number;
  /** Payload bytes of `framesDropped`. */
  readonly bytesDropped: number;
  /**
   * Bytes the operating system had been handed (or was being handed) when their connection died: TCP does not
   * say which of them arrived, so they are neither dropped nor known delivered. Each is also logged.
   */
  readonly bytesUnconfirmed: number;
  /** Inbound connections that completed the handshake. */
  readonly connectionsAccepted: number;
  /** Inbound connections replaced by a newer one of the same node (after draining, for the same process). */
  readonly connectionsReplaced: number;
  /** Inbound connections closed because nothing arrived on them for idleTimeoutMs. */
  readonly connectionsIdleClosed: number;
}

/** Diagnostics of one outbound connection. */
export interface PeerStatus {
  readonly state: PeerConnectionState;
  /** Bytes queued for the peer plus bytes buffered in its socket; never more than outboundQueueBytes. */
  readonly pendingBytes: number;
}

/**
 * The most a bulk sender (roomFor) keeps pending for one peer, when half the outbound queue is more. Beyond it the
 * chunks still being written outgrow the process's pool of outbound chunks (16 MiB, see PeerConnection), and each
 * new one faults its pages in as it is filled: in a join's replica transfer (bench/replication.bench.ts, 7 runs of
 * each alternated) 4 MiB instead of 16 took the five processes' CPU from 1.89-2.32 s to 1.74-2.08 s, and the rate
 * from 87.7-107.9 MB/s to 99.1-121.6 MB/s. At that rate 4 MiB is 40 ms of writing: the peer never waits for it, and
 * a message sent after a bulk one waits behind less.
 */
const BULK_PENDING_BYTES = 4 * 1024 * 1024;
/** A bulk frame larger than BULK_PENDING_BYTES goes once at most this much is pending (else it could wait forever). */
const BULK_LOW_BYTES = 1024 * 1024;

/** The interval of the limits on repeated warnings (dropped frames per peer, failed connects per node). */
const WARNING_INTERVAL_MS = 10_000;
/** Most warnings about failed connect attempts per interval, for the whole transport. */
const CONNECT_WARNINGS_PER_INTERVAL = 5;

type Counters = SocketCounters & { framesSent: number; framesReceived: number; framesDropped: number;
  bytesDropped: number; bytesUnconfirmed: number; connectionsAccepted: number; connectionsReplaced: number;
  connectionsIdleClosed: number };

/** The key of an outbound connection: lane, the node it is bound to (if any), address. */
function peerKey(lane: Lane, nodeId: NodeId | undefined, address: NodeAddress): string {
  return `${lane}|${nodeId ?? ''}|${formatAddress(address)}`;
}

/** The key of an inbound connection: one per node, lane and kind (bound to this node's id, or to its address). */
function inboundKey(remote: InboundIdentity): string {
  return `${remote.nodeId}|${remote.lane}|${remote.bound ? 'b' : 'a'}`;
}

/** A Transport over TCP, optionally TLS; see TransportConfig for its options. */
export class TcpTransport extends TransportBase implements Transport {
  readonly nodeId: NodeId;
  /** Random per transport (so per process): tells peers a reconnect of this process from a restart. */
  readonly uid: string = randomUUID();
  private readonly config: ResolvedTransportConfig;
  private readonly counters: Counters;
  /** Which inbound connections are kept before their handshake completes; counts and reports refusals. */
  private readonly admission: Admission;
  private state: 'new' | 'starting' | 'running' | 'closed' = 'new';
  private server: net.Server | undefined;
  private listening: NodeAddress | undefined;
  private readonly peers = new Map<string, PeerConnection>();
  /**
   * The connection for a target object already seen, per lane: senders pass the same object again and again (a
   * remote ref's target, an address learned in a handshake), and this spares building its key for every frame.
   */
  private readonly peerByTarget: Record<Lane, WeakMap<object, PeerConnection>> = { control: new WeakMap(), data: new WeakMap() };
  private readonly addressByNode = new Map<NodeId, NodeAddress>();
  /** The connection for a node id already sent to, per lane. */
  private readonly peerByNode: Record<Lane, Map<NodeId, PeerConnection>> = { control: new Map(), data: new Map() };
  /** The accepted inbound connection per node, lane and kind. */
  private readonly inbound = new Map<string, InboundConnection>();
  /** A newer connection of the same process, held until the one it replaces has delivered what it carries. */
  private readonly waiting = new Map<string, InboundConnection>();
  private readonly sockets = new Set<net.Socket>();
  private readonly loopback = new AsyncFifo();
  private readonly connectionHost: PeerConnectionHost & InboundHost;
  private sweepTimer: unknown;
  /** Failed connect attempts: at most 5 warnings per 10 s for the whole transport, the rest at debug. */
  private readonly connectWarnings: WarningLimiter;
  /** Frames dropped: at most one warning per peer per 10 s, the rest at debug. */
  private readonly dropWarnings: WarningLimiter;
  private sweeping = false;
  private readonly idleTimeoutMs: number;

  /** Validates `config` at once: a wrong option throws InvalidArgumentError naming it. */
  constructor(config: TransportConfig) {
    const resolved = resolveTransportConfig(config);
    super(resolved.logger);
    this.config = resolved;
    this.nodeId = resolved.nodeId;
    this.idleTimeoutMs = resolved.idleTimeoutMs;
    this.counters = { socketWrites: 0, bytesWritten: 0, bytesRead: 0, framesSent: 0, framesReceived: 0, framesDropped: 0,
      bytesDropped: 0, bytesUnconfirmed: 0, connectionsAccepted: 0, connectionsReplaced: 0, connectionsIdleClosed: 0 };
    this.admission = new Admission(resolved, resolved.clock, resolved.logger);
    this.connectWarnings = new WarningLimiter(resolved.clock, resolved.logger, WARNING_INTERVAL_MS, CONNECT_WARNINGS_PER_INTERVAL);
    this.dropWarnings = new WarningLimiter(resolved.clock, resolved.logger, WARNING_INTERVAL_MS);
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
      config.logger.warn(`Node '${this.nodeId}' listens on ${formatAddress({ host: config.host, port })}, which is not a ` +
        'loopback address, without secret or ' +
        'tls (insecure: true): anyone who can reach the port can message every actor of this node');
    }
    config.logger.debug(`Node '${this.nodeId}' of cluster '${config.clusterName}' listening on ${formatAddress(this.listening)}`);
    return this.listening;
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.config.clock.clearTimeout(this.sweepTimer);
    this.admission.close();
    this.loopback.clear();
    const reason = new TransportClosedError(this.nodeId, 'keep connections open (it was closed)');
    for (const peer of this.peers.values()) peer.close(reason);
    this.peers.clear();
    for (const connection of [...this.waiting.values(), ...this.inbound.values()]) connection.fail(reason);
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
    const peer = this.outbound(to, laneOf(protocolId));
    if (peer === undefined) {
      const copy = Buffer.from(payload);
      this.loopback.push(() => this.events.deliver(protocolId, this.nodeId, copy));
    } else {
      peer.enqueue(protocolId, payload);
    }
    this.counters.framesSent++;
  }

  /** See Transport.sendParts: like `send`, the payload written straight from its two parts into the frame. */
  override sendParts(to: PeerTarget, protocolId: ProtocolId, head: Uint8Array, body: Uint8Array): void {
    if (this.state !== 'running') throw new TransportClosedError(this.nodeId, 'send');
    checkSendParts(protocolId, head, body, this.config.maxFrameBytes);
    const peer = this.outbound(to, laneOf(protocolId));
    if (peer === undefined) {
      const copy = Buffer.concat([head, body]);
      this.loopback.push(() => this.events.deliver(protocolId, this.nodeId, copy));
    } else {
      peer.enqueue(protocolId, head, body);
    }
    this.counters.framesSent++;
  }

  connect(to: PeerTarget): void {
    if (this.state !== 'running') throw new TransportClosedError(this.nodeId, 'connect');
    this.outbound(to, 'data')?.want();
  }

  open(to: PeerTarget, lane: Lane): void {
    if (this.state !== 'running') return;
    this.outbound(to, lane)?.open();
  }

  /**
   * Closes the outbound connections to `to` on both lanes: for an address, all of them; for a node id or a
   * BoundTarget, those bound to that node and the unbound ones at its address (not those bound to another node
   * that listens there now). An open one first writes what is queued; frames queued for one that is not open
   * are dropped and counted.
   */
  disconnect(to: PeerTarget): void {
    const nodeId = typeof to === 'string' ? to : isBoundTarget(to) ? to.nodeId : undefined;
    const address = typeof to === 'string' ? this.addressByNode.get(to) : isBoundTarget(to) ? to.address : to;
    if (address === undefined) return;
    const at = formatAddress(address);
    const reason = new TransportClosedError(this.nodeId, `keep the connection to ${at} (disconnect() was called)`);
    for (const [key, peer] of [...this.peers]) {
      if (formatAddress(peer.address) !== at) continue;
      if (nodeId !== undefined && peer.expectedNodeId !== undefined && peer.expectedNodeId !== nodeId) continue;
      this.peers.delete(key);
      peer.close(reason);
    }
  }

  /**
   * See Transport.roomFor: what is pending for the data connection to `to`, plus `bytes`, within half the queue and
   * within BULK_PENDING_BYTES (or, for a frame larger than that, with at most BULK_LOW_BYTES pending).
   */
  roomFor(to: PeerTarget, bytes: number): boolean {
    const peer = typeof to === 'string' ? this.peerByNode.data.get(to)
      : this.peerByTarget.data.get(to) ?? (isBoundTarget(to) ? this.peers.get(peerKey('data', to.nodeId, to.address)) : undefined);
    if (peer === undefined || peer.state === 'closed') return true;
    const pending = peer.pendingBytes;
    return pending === 0 ||
      pending + bytes <= Math.min(this.config.outboundQueueBytes / 2, Math.max(BULK_PENDING_BYTES, bytes + BULK_LOW_BYTES));
  }

  /** The outbound connection to `to` on `lane` (the one bound to `nodeId`, else the unbound one), if any. */
  peerStatus(to: NodeAddress, lane: Lane = 'data', nodeId?: NodeId): PeerStatus | undefined {
    const peer = this.peers.get(peerKey(lane, nodeId, to)) ??
      [...this.peers.values()].find((p) => p.lane === lane && formatAddress(p.address) === formatAddress(to));
    return peer === undefined ? undefined : { state: peer.state, pendingBytes: peer.pendingBytes };
  }

  /** The connection a frame for `to` on `lane` goes out on; undefined when `to` is this node. */
  private outbound(to: PeerTarget, lane: Lane): PeerConnection | undefined {
    if (typeof to === 'string') {
      // Replies go to a node id, once per reply: cached per id (cleared when the id's address changes).
      const cached = this.peerByNode[lane].get(to);
      if (cached !== undefined && cached.state !== 'closed') return cached;
      if (to === this.nodeId) return undefined;
      const address = this.addressByNode.get(to);
      if (address === undefined) throw new UnknownPeerError(to);
      const peer = this.peerAt(address, lane, to, address);
      this.peerByNode[lane].set(to, peer);
      return peer;
    }
    const known = this.peerByTarget[lane].get(to);
    // A closed connection was removed from `peers` (disconnect, close): look again.
    if (known !== undefined && known.state !== 'closed') return known;
    if (isBoundTarget(to)) {
      if (to.nodeId === this.nodeId && this.isLocal(to.address)) return undefined;
      return this.peerAt(to.address, lane, to.nodeId, to);
    }
    if (this.isLocal(to)) return undefined;
    return this.peerAt(to, lane, undefined, to);
  }

  /** Records where `nodeId` listens; a changed address drops the connections cached for the id. */
  private learnAddress(nodeId: NodeId, address: NodeAddress): void {
    const known = this.addressByNode.get(nodeId);
    if (known !== undefined && known.port === address.port && known.host === address.host) return;
    this.addressByNode.set(nodeId, address);
    this.peerByNode.control.delete(nodeId);
    this.peerByNode.data.delete(nodeId);
  }

  private isLocal(address: NodeAddress): boolean {
    return this.listening !== undefined && address.port === this.listening.port && address.host === this.listening.host;
  }

  private peerAt(address: NodeAddress, lane: Lane, nodeId: NodeId | undefined, cacheKey: object): PeerConnection {
    const key = peerKey(lane, nodeId, address);
    let peer = this.peers.get(key);
    if (peer === undefined || peer.state === 'closed') {
      peer = new PeerConnection({ host: address.host, port: address.port }, this.connectionHost, lane, nodeId);
      this.peers.set(key, peer);
      this.admission.know(address.host);
    }
    this.peerByTarget[lane].set(cacheKey, peer);
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
      address: this.address, uid: this.uid, maxFrameBytes: this.config.maxFrameBytes });
    return {
      config: this.config,
      counters: this.counters,
      identity,
      track: (raw: net.Socket) => this.track(raw),
      opened: (peer: PeerConnection, remote: HandshakeIdentity) => {
        if (peer.lane === 'data' || !this.addressByNode.has(remote.nodeId)) this.learnAddress(remote.nodeId, peer.address);
        this.startSweep();
        this.config.logger.debug(`Connected to ${peer.peer} (${peer.lane})`);
        this.events.peerUp({ nodeId: remote.nodeId, address: peer.address, direction: 'outbound', lane: peer.lane });
      },
      lost: (peer: PeerConnection, remote: HandshakeIdentity, reason: Error) => {
        this.logLoss(`Connection to ${peer.peer} (${peer.lane}) lost`, reason);
        this.events.peerDown({ nodeId: remote.nodeId, address: peer.address, direction: 'outbound', lane: peer.lane }, reason);
      },
      dropped: (peer: PeerConnection, frames: number, bytes: number, payloads: DroppedFrame[], reason: Error) => {
        this.counters.framesDropped += frames;
        this.counters.bytesDropped += bytes;
        // Control-lane frames (SWIM and gossip) are lossy by design: at debug. The stats count every frame.
        const message = new FramesDroppedError(peer.peer, frames, bytes, reason.message).message;
        if (peer.lane === 'control') this.config.logger.debug(message, reason);
        else this.dropWarnings.warn(peer.peer, message, reason, 'more drops for that peer');
        this.events.dropped({ nodeId: peer.expectedNodeId ?? peer.remote?.nodeId, address: peer.address, frames, bytes,
          payloads, reason });
      },
      connectFailed: (message: string, reason: Error) =>
        this.connectWarnings.warn('', message, reason, 'more failed connect attempts'),
      unconfirmed: (peer: PeerConnection, bytes: number) => {
        this.counters.bytesUnconfirmed += bytes;
        this.config.logger.warn(`${bytes} bytes were being written to ${peer.peer} when the connection died; ` +
          'some may have arrived (counted in bytesUnconfirmed)');
      },
      accept: (connection: InboundConnection, remote: InboundIdentity) => {
        this.accept(connection, remote);
        this.admission.established(connection);
      },
      deliver: (protocolId: ProtocolId, from: NodeId, payload: Buffer, borrowed: boolean) => {
        this.counters.framesReceived++;
        this.events.deliver(protocolId, from, payload, borrowed);
      },
      closed: (connection: InboundConnection, remote: InboundIdentity | undefined, reason: Error) => {
        if (remote === undefined) {
          // Counted, and logged one by one at debug only (a flood would fill the log); see Admission.
          this.admission.refusedBy(connection, reason);
          return;
        }
        const key = inboundKey(remote);
        if (this.waiting.get(key) === connection) {
          this.waiting.delete(key);
          return; // never announced: it was waiting for the one it replaced
        }
        if (this.inbound.get(key) !== connection) return;
        this.inbound.delete(key);
        this.logLoss(`Connection from ${connection.peer} (${remote.lane}) lost`, reason);
        this.events.peerDown({ nodeId: remote.nodeId, address: remote.address, direction: 'inbound', lane: remote.lane }, reason);
        const next = this.waiting.get(key);
        if (next !== undefined) {
          // The replaced connection delivered everything it carried: the newer one of the same process goes on.
          this.waiting.delete(key);
          this.admit(key, next, next.remote as InboundIdentity);
          next.resume();
        }
      },
    };
  }

  /**
   * Admits an authenticated inbound peer. One node id has one inbound connection per lane and kind. A new one
   * from another listening address is a second node claiming the id, and is refused. One from the same
   * address replaces the old: at once if it comes from another process (the node restarted; the old process is
   * gone), or, from the same process (it reconnected before we saw the old connection end), only after the old
   * one has delivered the frames it carries, so nothing accepted on it is lost and order is kept.
   */
  private accept(connection: InboundConnection, remote: InboundIdentity): void {
    const key = inboundKey(remote);
    const existing = this.inbound.get(key);
    if (existing === undefined || existing.isClosed) {
      this.admit(key, connection, remote);
      return;
    }
    const old = existing.remote as InboundIdentity;
    const existingAddress = formatAddress(old.address);
    if (existingAddress !== formatAddress(remote.address)) {
      throw new HandshakeError(connection.peer, 'DUPLICATE_NODE_ID',
        `node id '${remote.nodeId}' is already connected from ${existingAddress}`);
    }
    this.counters.connectionsReplaced++;
    this.learnAddress(remote.nodeId, remote.address);
    if (old.uid !== remote.uid) {
      existing.fail(new ConnectionLostError(existing.peer, 'the node restarted (a new process connected in its place)'));
      this.admit(key, connection, remote);
      return;
    }
    this.waiting.get(key)?.fail(new ConnectionLostError(connection.peer, 'superseded by a newer connection of the same process'));
    connection.hold();
    this.waiting.set(key, connection);
    this.config.logger.debug(`${connection.peer} reconnected; the new connection waits until the old one has drained`);
    this.watchDrain(existing, key);
  }

  /** Fails `old` once it has received nothing for handshakeTimeoutMs while a replacement waits for it. */
  private watchDrain(old: InboundConnection, key: string): void {
    const limit = this.config.handshakeTimeoutMs;
    let seen = old.bytesReceived;
    const check = (): void => {
      if (old.isClosed || this.inbound.get(key) !== old || !this.waiting.has(key)) return;
      if (old.bytesReceived === seen) {
        old.fail(new ConnectionLostError(old.peer, 'replaced by a newer connection of the same node; the old one ' +
          `received nothing for ${limit} ms`));
      } else {
        seen = old.bytesReceived;
        this.config.clock.setTimeout(check, limit);
      }
    };
    this.config.clock.setTimeout(check, limit);
  }

  private admit(key: string, connection: InboundConnection, remote: InboundIdentity): void {
    this.inbound.set(key, connection);
    this.startSweep();
    this.learnAddress(remote.nodeId, remote.address);
    this.counters.connectionsAccepted++;
    this.config.logger.debug(`Accepted ${connection.peer} (${remote.lane})`);
    this.events.peerUp({ nodeId: remote.nodeId, address: remote.address, direction: 'inbound', lane: remote.lane });
  }

  private startSweep(): void {
    if (this.sweeping || this.state !== 'running') return;
    this.sweeping = true;
    this.scheduleSweep();
  }

  /**
   * Every quarter of idleTimeoutMs while there are connections: outbound connections that wrote nothing for a
   * third of it send a keep-alive, and those whose peer read nothing for all of it are failed (stalled);
   * inbound connections that received nothing for all of it (the peer is gone or stalled) are closed.
   */
  private scheduleSweep(): void {
    const every = Math.max(250, Math.floor(this.idleTimeoutMs / 4));
    this.sweepTimer = this.config.clock.setTimeout(() => {
      if (this.state !== 'running') return;
      if (this.peers.size === 0 && this.inbound.size === 0) {
        this.sweeping = false;
        return;
      }
      const now = this.config.clock.now();
      for (const peer of this.peers.values()) peer.sweep(now, every, this.idleTimeoutMs);
      for (const connection of this.inbound.values()) {
        const seen = connection.idleSeen;
        if (connection.bytesReceived !== seen.bytes) {
          connection.idleSeen = { bytes: connection.bytesReceived, silentMs: 0 };
          continue;
        }
        seen.silentMs += every;
        if (seen.silentMs >= this.idleTimeoutMs) {
          this.counters.connectionsIdleClosed++;
          connection.fail(new ConnectionLostError(connection.peer, `nothing arrived for ${seen.silentMs} ms ` +
            `(idleTimeoutMs ${this.idleTimeoutMs}): the peer is gone or stalled`));
        }
      }
      this.scheduleSweep();
    }, every);
  }

  /** A connection closed on purpose (by us, or cleanly by the peer) is routine; anything else is a warning. */
  private logLoss(message: string, reason: Error): void {
    const clean = reason instanceof TransportClosedError || (reason instanceof ConnectionLostError && reason.cause === undefined);
    if (clean) this.config.logger.debug(message, reason);
    else this.config.logger.warn(message, reason);
  }
}
