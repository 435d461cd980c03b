// How actor refs inside messages cross the wire (the Codec's `refs` hook). A ref is written as
// [nodeId, host, port, path]: a local actor of this node under this node's id and address, a remote ref
// under its own node. Read back on the node that hosts the actor, it is the local actor again (or a stopped
// ref if the actor is gone); anywhere else it is a RemoteActorRef, so a reply-to ref reaches its actor.

import { InvalidArgumentError, MalformedMessageError } from '@casty/core';
import type { ActorRef, ActorSystem, RefHook } from '@casty/core';
import { LocalActorRef, StoppedActorRef } from '@casty/core/internal';
import type { NodeAddress, NodeId } from '../transport/Transport';
import { RemoteActorRef } from './RemoteActorRef';

/** The wire form of a ref. */
export type RefWire = [nodeId: NodeId, host: string, port: number, actorPath: string];

/** This node, as the ref hook needs it. */
export interface LocalNode {
  readonly nodeId: NodeId;
  readonly address: NodeAddress;
  readonly system: ActorSystem;
  /** The (possibly cached) ref to an actor on another node. */
  remoteRef(nodeId: NodeId, address: NodeAddress, actorPath: string): RemoteActorRef<unknown>;
}

/** The Codec `refs` hook of one node. */
export function refHook(node: LocalNode): RefHook<ActorRef<unknown>> {
  return {
    isRef: (value: unknown): value is ActorRef<unknown> =>
      value instanceof LocalActorRef || value instanceof RemoteActorRef || value instanceof StoppedActorRef,
    toWire: (ref: ActorRef<unknown>): RefWire => {
      if (ref instanceof RemoteActorRef) return [ref.nodeId, ref.address.host, ref.address.port, ref.actorPath];
      if (ref instanceof LocalActorRef && ref.cell.runtime.system !== node.system) {
        throw new InvalidArgumentError(`The ref ${ref.path} in this message belongs to actor system ` +
          `'${ref.cell.runtime.system.name}', not to '${node.system.name}' that sends it; a ref crosses nodes ` +
          'only from the system that hosts its actor');
      }
      return [node.nodeId, node.address.host, node.address.port, ref.path];
    },
    fromWire: (wire: unknown): ActorRef<unknown> => {
      if (!Array.isArray(wire) || wire.length !== 4 || typeof wire[0] !== 'string' || typeof wire[1] !== 'string' ||
        typeof wire[2] !== 'number' || typeof wire[3] !== 'string') {
        throw new MalformedMessageError('an actor ref is not [nodeId, host, port, path]');
      }
      const [nodeId, host, port, actorPath] = wire as RefWire;
      if (nodeId === node.nodeId) {
        return node.system.lookupLocal(actorPath) ?? new StoppedActorRef(actorPath, node.system);
      }
      return node.remoteRef(nodeId, { host, port }, actorPath);
    },
  };
}
