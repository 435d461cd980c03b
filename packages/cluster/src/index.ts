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
export { ClusterConfig } from './ClusterConfig';
export type { ClusterConfigOptions, NodeEndpoint } from './ClusterConfig';
export { ClusteredActorSystem } from './ClusteredActorSystem';
export type { ClusteredSystemOptions } from './ClusteredActorSystem';
export { RemoteMessaging } from './remote/RemoteMessaging';
export type { RemoteMessagingOptions } from './remote/RemoteMessaging';
export { RemoteActorRef } from './remote/RemoteActorRef';
export type { RemoteRouter } from './remote/RemoteActorRef';
export { NodeUnavailableError } from './remote/NodeUnavailableError';
export { UndecodableMessage } from './remote/UndecodableMessage';
export type { ClusterMember } from './remote/PeerDirectory';
export { EnvelopeKind } from './remote/envelope';
export { parseAddress } from './remote/parseAddress';
