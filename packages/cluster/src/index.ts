// @casty/cluster: the cluster layer of Casty. This file lists what users call, by name: creating and configuring
// a node, its membership and events, remote refs, stats, and the errors they may meet. What Casty's own packages
// (sharding, replication) and its tests build on is in '@casty/cluster/internal', outside semver.
export type { Transport, NodeId, NodeAddress, PeerTarget, BoundTarget, Lane } from './transport/Transport';
export { formatAddress } from './transport/Transport';
export { TcpTransport } from './transport/TcpTransport';
export type { TransportStats, PeerStatus } from './transport/TcpTransport';
export { ConnectionShedError } from './transport/Admission';
export type { AdmissionStats, AdmissionCap } from './transport/Admission';
export type { PeerConnectionState } from './transport/PeerConnection';
export type { TransportConfig, ReconnectConfig, TlsConfig, PemSource } from './transport/TransportConfig';
export { MalformedFrameError, HandshakeError, ConnectTimeoutError, ConnectionLostError, TransportBackpressureError,
  FrameTooLargeError, UnknownPeerError, TransportClosedError, TransportBindError, FramesDroppedError } from './transport/errors';
export type { HandshakeFailure } from './transport/errors';
export { ClusterConfig } from './ClusterConfig';
export type { ClusterConfigOptions, NodeEndpoint } from './ClusterConfig';
export { ClusteredActorSystem } from './ClusteredActorSystem';
export type { ClusteredSystemOptions, NodeExtension } from './ClusteredActorSystem';
export { ClusterMembership } from './ClusterMembership';
export { ClusterEvent, MemberUp, MemberSuspect, MemberAlive, MemberDown, MemberLeft, QuorumLost, QuorumRegained } from './events';
export type { QuorumLossReason } from './events';
export type { Downing, DownAction, DowningSettings } from './downing/DowningConfig';
export { isQuorum } from './downing/Quorum';
export type { Quorum } from './downing/Quorum';
export type { NameRegistry } from './registry/NameRegistry';
export { RemoteMessaging } from './remote/RemoteMessaging';
export type { RemoteTracer, ClientAskTrace, ServerAskTrace } from './remote/RemoteTracer';
export { RemoteActorRef } from './remote/RemoteActorRef';
export { NodeUnavailableError } from './remote/NodeUnavailableError';
export { UndecodableMessage } from './remote/UndecodableMessage';
export type { ClusterMember } from './remote/PeerDirectory';
export { SwimConfig } from './membership/SwimConfig';
export type { SwimSettings } from './membership/SwimConfig';
export { MemberState, isLive } from './membership/MemberState';
export type { Member } from './membership/MemberState';
export { InvalidTransitionError, MemberIdConflictError } from './membership/errors';
export { GossipConfig } from './gossip/GossipConfig';
export type { GossipSettings } from './gossip/GossipConfig';
