// @casty/cluster: the cluster layer of Casty. This file lists the public API by name; internals are not exported.
export type { Transport, NodeId, NodeAddress, PeerTarget, FrameHandler, PeerInfo, PeerUpListener, PeerDownListener,
  Unsubscribe } from './transport/Transport';
export { formatAddress } from './transport/Transport';
export { ProtocolId, encodeFrame, FrameDecoder, FRAME_HEADER_BYTES } from './transport/frame';
export type { Frame } from './transport/frame';
export { PROTOCOL_VERSION } from './transport/handshake';
export { TcpTransport } from './transport/TcpTransport';
export type { TransportStats, PeerStatus } from './transport/TcpTransport';
export type { PeerConnectionState } from './transport/PeerConnection';
export type { TransportConfig, ReconnectConfig, TlsConfig, PemSource } from './transport/TransportConfig';
export type { TransportLogger } from './transport/logger';
export { consoleTransportLogger } from './transport/logger';
export { MalformedFrameError, HandshakeError, ConnectTimeoutError, ConnectionLostError, TransportBackpressureError,
  FrameTooLargeError, UnknownPeerError, TransportClosedError, TransportBindError } from './transport/errors';
export type { HandshakeFailure } from './transport/errors';
