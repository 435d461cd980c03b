// InMemoryTransport: the Transport interface over an InMemoryNetwork, for deterministic tests of the
// protocols above the transport (membership, remote messaging). It checks `send` exactly as TcpTransport
// does and raises the same peer events; the network decides what arrives, when, and in which order.
// Not simulated: handshakes, secrets, TLS and backpressure (send never throws TransportBackpressureError).

import { checkSend, TransportBase } from '../internal/TransportEvents';
import { HandshakeError, TransportClosedError, UnknownPeerError } from '../transport/errors';
import type { ProtocolId } from '../transport/frame';
import type { Logger } from '@casty/core';
import { formatAddress, isBoundTarget, isNodeAddress } from '../transport/Transport';
import type { Lane, NodeAddress, NodeId, PeerInfo, PeerTarget, Transport } from '../transport/Transport';
import type { InMemoryNetwork } from './InMemoryNetwork';

/** Options of one in-memory transport. */
export interface InMemoryTransportOptions {
  /** This node's id. Default: `node-<port>`. */
  readonly nodeId?: NodeId;
  /** The port of its address; reuse one to restart a node in place. Default: the next free one. */
  readonly port?: number;
  /** Largest payload `send` accepts, in bytes. Default 16 MiB, as TcpTransport. */
  readonly maxFrameBytes?: number;
  /** Where handler failures are reported. Default: the network's logger. */
  readonly logger?: Logger;
}

export class InMemoryTransport extends TransportBase implements Transport {
  readonly nodeId: NodeId;
  /** @internal The address this transport has on its network (whether or not it is started). */
  readonly boundAddress: NodeAddress;
  private readonly maxFrameBytes: number;
  private state: 'new' | 'running' | 'closed' = 'new';

  /** Use `InMemoryNetwork.createTransport`. */
  constructor(private readonly network: InMemoryNetwork, address: NodeAddress, options: InMemoryTransportOptions) {
    super(options.logger ?? network.logger);
    this.boundAddress = address;
    this.nodeId = options.nodeId ?? `node-${address.port}`;
    this.maxFrameBytes = options.maxFrameBytes ?? 16 * 1024 * 1024;
  }

  get address(): NodeAddress {
    if (this.state !== 'running') throw new TransportClosedError(this.nodeId, 'report its address while not running');
    return this.boundAddress;
  }

  /** True between `start()` and `close()`. */
  get isRunning(): boolean {
    return this.state === 'running';
  }

  start(): Promise<NodeAddress> {
    if (this.state !== 'new') return Promise.reject(new TransportClosedError(this.nodeId, `start() twice (it is ${this.state})`));
    this.network.bind(this);
    this.state = 'running';
    return Promise.resolve(this.boundAddress);
  }

  close(): Promise<void> {
    if (this.state === 'running') {
      this.network.unbind(this, new TransportClosedError(this.nodeId, 'keep connections open (it was closed)'));
    }
    this.state = 'closed';
    return Promise.resolve();
  }

  send(to: PeerTarget, protocolId: ProtocolId, payload: Uint8Array): void {
    if (this.state !== 'running') throw new TransportClosedError(this.nodeId, 'send');
    checkSend(protocolId, payload, this.maxFrameBytes);
    const address = this.resolve(to);
    const copy = Uint8Array.from(payload);
    // A frame for a node (by id) reaches that node or no one: another node at its address drops it, reported here.
    const meant = typeof to === 'string' ? to : isBoundTarget(to) ? to.nodeId : undefined;
    const deliver = (target: InMemoryTransport) => {
      if (target.state !== 'running') return;
      if (meant !== undefined && target.nodeId !== meant) {
        this.events.dropped({ nodeId: meant, address, frames: 1, bytes: copy.length, payloads: [{ protocolId, payload: copy }],
          reason: new HandshakeError(formatAddress(address), 'WRONG_NODE', `the frame was meant for node '${meant}', ` +
            `but node '${target.nodeId}' listens at that address now`) });
        return;
      }
      target.events.deliver(protocolId, this.nodeId, copy);
    };
    if (formatAddress(address) === formatAddress(this.boundAddress)) this.network.later(() => deliver(this));
    else this.network.route(this, address, deliver);
  }

  connect(to: PeerTarget): void {
    if (this.state !== 'running') throw new TransportClosedError(this.nodeId, 'connect');
    const address = this.resolve(to);
    if (formatAddress(address) !== formatAddress(this.boundAddress)) this.network.link(this, address);
  }

  /** What `open` was asked for, as '<node id or address> <lane>': connections are not simulated, so it only notes it. */
  readonly opened = new Set<string>();

  open(to: PeerTarget, lane: Lane): void {
    if (this.state !== 'running') return;
    this.opened.add(`${typeof to === 'string' ? to : isBoundTarget(to) ? to.nodeId : formatAddress(to)} ${lane}`);
  }

  disconnect(to: PeerTarget): void {
    const address = isNodeAddress(to) ? to : isBoundTarget(to) ? to.address : this.network.addressOf(to);
    if (address === undefined || this.state !== 'running') return;
    this.network.unlink(this, address, new TransportClosedError(this.nodeId, `keep the connection to ${formatAddress(address)} (disconnect() was called)`));
  }

  /** @internal Raises a peer event on this transport (called by the network). */
  peerEvent(kind: 'up' | 'down', peer: PeerInfo, reason?: Error): void {
    if (this.state !== 'running') return;
    if (kind === 'up') this.events.peerUp(peer);
    else this.events.peerDown(peer, reason ?? new Error('peer down'));
  }

  private resolve(to: PeerTarget): NodeAddress {
    if (isNodeAddress(to)) return to;
    if (isBoundTarget(to)) return to.address;
    const address = to === this.nodeId ? this.boundAddress : this.network.addressOf(to);
    if (address === undefined) throw new UnknownPeerError(to);
    return address;
  }
}
