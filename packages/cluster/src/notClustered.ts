// What an extension accessor (`ClusterMembership.of(system)`, later `Sharding.of(system)`) says when the system
// it is given is not a cluster node.

/** The hint of the ExtensionNotFoundError thrown by `X.of(system)` on a system that is not a cluster node. */
export const NOT_CLUSTERED_HINT = "it is not a cluster node. Make one with clustered() from 'casty' " +
  '(ActorSystem.create() makes a local system), or with ClusteredActorSystem.start(transport, options)';
