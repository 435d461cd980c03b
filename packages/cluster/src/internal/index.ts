// For Casty's own packages (sharding, replication) and its tests, not for users: the pieces of the cluster
// layer they build on. Nothing here is covered by semver; what users call is in '@casty/cluster'.
export type { FrameHandler, FrameHandlerOptions, PeerInfo, PeerUpListener, PeerDownListener, DroppedFrame, DroppedFrames, DroppedListener,
  Unsubscribe } from '../transport/Transport';
export { ProtocolId, encodeFrame, FrameDecoder, FRAME_HEADER_BYTES } from '../transport/frame';
export type { Frame } from '../transport/frame';
export { PROTOCOL_VERSION } from '../transport/handshake';
export type { ClusterMembershipOptions } from '../ClusterMembership';
export { NameRegistry, nameKey } from '../registry/NameRegistry';
export type { RemoteMessagingOptions } from '../remote/RemoteMessaging';
export type { RemoteRouter } from '../remote/RemoteActorRef';
export { EnvelopeKind, KeyedHeader } from '../remote/envelope';
export { parseAddress } from '../remote/parseAddress';
export { NOT_CLUSTERED_HINT } from '../notClustered';
export { Swim, pushPullScale } from '../membership/Swim';
export type { SwimOptions, ProbeStats } from '../membership/Swim';
export { transition, canTransition, allowedTransitions } from '../membership/MemberState';
export type { MembershipEvent } from '../membership/events';
export { SwimKind } from '../membership/messages';
export { suspicionTimeout, remainingSuspicionTime } from '../membership/suspicion';
export { Gossip } from '../gossip/Gossip';
export type { GossipOptions, MembershipView } from '../gossip/Gossip';
export { GossipState, mergeEntry, winner } from '../gossip/GossipState';
export type { GossipEntry, GossipVersion } from '../gossip/gossipMessages';
export { GossipKind } from '../gossip/gossipMessages';
export { VectorClock } from '../gossip/VectorClock';
export type { ClockOrdering } from '../gossip/VectorClock';
export { matchesPattern } from '../gossip/patterns';
export type { GossipChange } from '../gossip/patterns';
export { ByteWriter, ByteReader, concatBytes, chunkBySize, MAX_STRING_BYTES } from './bytes';
export { TransmitLimitedQueue, retransmitLimit } from './broadcastQueue';
export { resolveFields } from './fieldRules';
export type { FieldRule } from './fieldRules';
export { Listeners } from './Listeners';
export { shuffle } from './shuffle';
export { WarningLimiter } from './WarningLimiter';
export { backoffDelay } from './backoff';
export type { DeliveryTarget, PathHandler, ReplyRoute } from '../remote/RemoteMessaging';
export { isLoopbackHost } from '../transport/TransportConfig';
