// Remote messaging: the system extension that makes actors of other nodes reachable through ordinary refs.
// It owns the ACTOR protocol of the transport: it encodes tells and asks for RemoteActorRefs, delivers
// incoming ones to local actors and sends their replies straight back to the asking node, answers lookups,
// fails asks at once when their node's connection dies, and turns frames the transport dropped (their node is
// gone) into dead letters and failed asks. Which nodes are in is membership's business: this layer dials a
// node only to send it something, and never because another node said where it is.

import { ActorRef, CastyError, Codec, DeadLetter, ExtensionKey, InvalidArgumentError, MessageEncodingError, SystemShutdownError, classNameOf } from '@casty/core';
import type { ActorSystem, Logger, SystemExtension } from '@casty/core';
import { LocalActorRef, MAX_TIMER_DELAY_MS, RESOLVED, StoppedActorRef } from '@casty/core/internal';
import { WarningLimiter } from '../internal/WarningLimiter';
import { NOT_CLUSTERED_HINT } from '../notClustered';
import { ConnectionLostError } from '../transport/errors';
import { ProtocolId } from '../transport/frame';
import { FrameTooLargeError } from '../transport/errors';
import { formatAddress } from '../transport/Transport';
import type { DroppedFrames, NodeAddress, NodeId, PeerInfo, PeerTarget, Transport, Unsubscribe } from '../transport/Transport';
import type { KeyedHeader } from './envelope';
import { decodeBody, encodeEnvelope, encodeHeader, EnvelopeKind, EnvelopeReader, MAX_U32, NO_BODY } from './envelope';
import { NodeUnavailableError } from './NodeUnavailableError';
import { PeerDirectory } from './PeerDirectory';
import { PendingReplies } from './PendingReplies';
import { RemoteActorRef } from './RemoteActorRef';
import type { RemoteRouter } from './RemoteActorRef';
import { RemoteWatches } from './RemoteWatches';
import type { ClientAskTrace, RemoteTracer } from './RemoteTracer';
import { UndecodableMessage } from './UndecodableMessage';
import { refHook } from './wireRefs';
import type { LocalNode } from './wireRefs';

/**
 * Where an extension takes messages from other nodes for a path it handles: as a local actor's ref does
 * (LocalActorRef is one), without a promise per ask.
 */
export interface DeliveryTarget {
  /** Takes a tell; the promise settles as a send's. */
  deliver(msg: unknown): Promise<void>;
  /** Takes an ask: calls `replied` or `failed` once, within `timeoutMs`. */
  deliverAsk(msg: unknown, timeoutMs: number, replied: (value: unknown) => void, failed: (error: unknown) => void): void;
  /** Takes a keyed tell (see RemoteMessaging.tellKeyed); without it, the handler's `fromKeyed` message goes to `deliver`. */
  deliverKeyed?(key: string, shard: number, origin: number, seq: number, msg: unknown): Promise<void>;
  /**
   * Takes a keyed ask (see RemoteMessaging.askKeyed), as `deliverAsk`. `relay`: where its reply goes, for another
   * node to deliver it in this one's stead (RemoteMessaging.relayReply); `replied` is then not called.
   */
  deliverKeyedAsk?(key: string, shard: number, origin: number, seq: number, msg: unknown, timeoutMs: number,
    replied: (value: unknown) => void, failed: (error: unknown) => void, relay: ReplyRoute): void;
}

/** Where the reply to an ask from another node goes: the asking node and the ask's id there (see relayReply). */
export interface ReplyRoute {
  readonly node: NodeId;
  readonly id: number;
}

/** What an extension does with the paths it owns (see RemoteMessaging.handlePaths). */
export interface PathHandler {
  /** The location-transparent ref for `path`, or undefined to treat it as an ordinary path. */
  transparentRef?(path: string): ActorRef<unknown> | undefined;
  /**
   * Where messages from other nodes for `path` go, before any actor of this node is looked for (undefined: as
   * usual). Once it gives a target for a path, it gives the same one for that path from then on (it is kept).
   */
  target?(path: string): DeliveryTarget | undefined;
  /** Where messages for `path` go when no actor of this node has it, or undefined for the usual dead letter. */
  missingTarget?(path: string): ActorRef<unknown> | undefined;
  /**
   * The plain message a keyed envelope for `path` stands for (see RemoteMessaging.tellKeyed), for when its target
   * takes no keyed messages (a held or missing target). Without it, keyed envelopes for these paths are dead letters.
   */
  fromKeyed?(key: string, shard: number, origin: number, seq: number, msg: unknown): unknown;
}

/** Options of RemoteMessaging. */
export interface RemoteMessagingOptions {
  /** Default timeout of remote asks, in milliseconds. */
  readonly askTimeoutMs: number;
  /**
   * How long a lookup waits for each node's answer, in milliseconds (a node that does not answer in time,
   * stopped or cut off, counts as not having the name). Default: askTimeoutMs, at most 2000.
   */
  readonly lookupTimeoutMs?: number;
  /** Largest encoded message, in bytes; the transport's maxFrameBytes. Default: the codec's 16 MiB. */
  readonly maxMessageBytes?: number;
}

// The longest a lookup waits for a node by default: a stopped node must not hold up a miss for askTimeoutMs.
const DEFAULT_LOOKUP_TIMEOUT_MS = 2_000;
// Extra milliseconds a node gives an ask it answers, beyond the asker's timeout (see deliverAsk).
const RESPONDER_GRACE_MS = 1_000;
/**
 * How long asks to a node keep waiting after it closed our connection cleanly while its own to us stays up: its
 * last replies, written before it closed, come on that one within this.
 */
const CLEAN_CLOSE_GRACE_MS = 2_000;
// Least milliseconds between two warnings about bad input from one node.
const BAD_INPUT_WARNING_INTERVAL_MS = 10_000;
/** What fromKeyed returns when no handler takes a keyed envelope's path. */
const NOT_KEYED: unique symbol = Symbol('not keyed');
// Caches of refs by path, cleared when they reach this size (a peer's paths must not grow memory unbounded).
const REF_CACHE_LIMIT = 10_000;

/**
 * Remote messaging of one node, over a started transport: attach it to a system with
 * `ClusteredActorSystem.start` (or `system.registerExtension(RemoteMessaging.key, ...)`). Announces that the
 * node leaves in shutdown phase 'leave', and closes the transport in phase 'close' (after the actors stopped).
 */
export class RemoteMessaging implements SystemExtension, RemoteRouter, LocalNode {
  static readonly key = new ExtensionKey<RemoteMessaging>('casty.remote');

  /** The remote messaging of `system`; throws ExtensionNotFoundError, saying how to make one, when it is not a cluster node. */
  static of(system: ActorSystem): RemoteMessaging {
    return system.requireExtension(RemoteMessaging.key, NOT_CLUSTERED_HINT);
  }
  readonly nodeId: NodeId;
  /** Where this node listens (the started transport's address; with port 0, the port picked). */
  readonly address: NodeAddress;
  /** The wire codec of this node: refs inside values cross nodes (sharding encodes entity state with it). */
  readonly codec: Codec;
  private readonly pending: PendingReplies;
  private readonly peers = new PeerDirectory();
  private readonly logger: Logger;
  private readonly localRefs = new Map<string, LocalActorRef<unknown>>();
  /** Extensions' paths (see handlePaths), by prefix. */
  private readonly pathHandlers = new Map<string, PathHandler>();
  private targetHandlers: ReadonlyArray<{ readonly prefix: string; readonly handler: PathHandler }> = [];
  private readonly remoteRefs = new Map<string, RemoteActorRef<unknown>>();
  private readonly subscriptions: Unsubscribe[];
  private readonly reader = new EnvelopeReader();
  /**
   * Bad input from a node (frames that are no envelope, messages that do not decode): at most one warning per
   * node per 10 s, the rest at debug; a peer sending garbage cannot flood the log, and each case stays traced.
   */
  private readonly badInput: WarningLimiter;
  /** The header of the reply being sent (kind, u32 id); the transport copies it at once. */
  private readonly replyHeader = Buffer.alloc(5);
  /** Sends a frame of header and body, each copied at once (see Transport.sendParts). */
  private readonly sendParts: (to: PeerTarget, head: Uint8Array, body: Uint8Array) => void;
  private closed = false;
  /** Death watch across nodes. */
  private readonly watches: RemoteWatches;
  /** Nodes a lookup asks besides the connected ones: the members membership knows (set by ClusterMembership). */
  private knownNodes: () => ReadonlyArray<{ readonly nodeId: NodeId; readonly address: NodeAddress }> = () => [];
  /** Traces remote asks (casty's telemetry); undefined: asks go untraced, as plain ASK envelopes. */
  private tracer: RemoteTracer | undefined = undefined;
  /** What the LEAVING announcement waits for (set by ClusterMembership). */
  private leavingAfter: () => Promise<void> = () => Promise.resolve();

  constructor(readonly system: ActorSystem, private readonly transport: Transport, private readonly options: RemoteMessagingOptions) {
    this.nodeId = transport.nodeId;
    this.address = transport.address;
    this.logger = system.logger;
    this.pending = new PendingReplies(system.clock);
    this.badInput = new WarningLimiter(system.clock, this.logger, BAD_INPUT_WARNING_INTERVAL_MS);
    this.codec = new Codec({ refs: refHook(this), ...(options.maxMessageBytes === undefined ? {} : { maxBytes: options.maxMessageBytes }) });
    this.sendParts = transport.sendParts === undefined
      ? (to, head, body) => transport.send(to, ProtocolId.ACTOR, Buffer.concat([head, body]))
      : (to, head, body) => transport.sendParts!(to, ProtocolId.ACTOR, head, body);
    this.watches = new RemoteWatches({
      system, logger: this.logger,
      send: (to, kind, path) => transport.send(to, ProtocolId.ACTOR, encodeEnvelope(this.codec, [kind, path], NO_BODY)),
      isGone: (nodeId) => this.peers.isGone(nodeId),
      isRunning: (path) => {
        const target = this.localTarget(path);
        return target instanceof LocalActorRef && !target.isStopped;
      },
    });
    system.shutdownPhases.add('leave', 'casty.remote.announce-leaving', () => this.announceLeaving());
    system.shutdownPhases.add('close', 'casty.remote.close', () => this.close());
    this.subscriptions = [
      // borrows: each frame is decoded at once (its values are copies), and a reply relayed as bytes is copied as sent
      transport.onFrame(ProtocolId.ACTOR, (from, payload) => this.receive(from, payload), { borrows: true }),
      transport.onPeerUp((peer) => this.peerUp(peer)),
      transport.onPeerDown((peer, reason) => this.peerDown(peer, reason)),
      transport.onDropped((dropped) => this.dropped(dropped)),
    ];
  }

  /**
   * Makes lookups ask the nodes `nodes()` lists too (the live members, from membership), not only the nodes
   * already connected: a member learned by gossip may hold the name before this node has dialed it.
   */
  lookupAlso(nodes: () => ReadonlyArray<{ readonly nodeId: NodeId; readonly address: NodeAddress }>): void {
    this.knownNodes = nodes;
  }

  /** The nodes this node has a connection with, in the order they connected (diagnostics). */
  connectedNodes(): Array<{ readonly nodeId: NodeId; readonly address: NodeAddress }> {
    return this.peers.connected();
  }

  /**
   * Membership declared `nodeId` gone (failed, or left): asks waiting on it fail now with
   * NodeUnavailableError (`reason` says why), new ones fail at once until it is back, and it is not redialed.
   */
  nodeGone(nodeId: NodeId, address: NodeAddress, reason: string): void {
    if (this.closed) return;
    this.peers.gone(nodeId, address, reason);
    const failed = this.pending.rejectNode(nodeId, address, reason);
    if (failed > 0) this.logger.debug(`Failed ${failed} requests waiting on node '${nodeId}': ${reason}`);
    this.transport.disconnect({ nodeId, address });
    this.watches.nodeGone(nodeId);
  }

  /** Membership sees `nodeId` alive again (restarted with the same id, or a partition healed): reachable again. */
  nodeBack(nodeId: NodeId): void {
    this.peers.back(nodeId);
  }

  /**
   * Traces remote asks with `tracer` from now on (casty's telemetry sets it); undefined stops tracing. A node
   * answers traced asks whether or not it traces itself.
   */
  traceWith(tracer: RemoteTracer | undefined): void {
    this.tracer = tracer;
  }

  /** Death watches held: remote actors watched from here, local actors watched from other nodes (diagnostics). */
  get watchCounts(): { readonly watching: number; readonly watchedBy: number } {
    return this.watches.size;
  }

  /**
   * Delivers, in another node's stead, the reply to an ask that node took (`route`, see DeliveryTarget): `body` is
   * the reply encoded by this node's codec. Replication's backup answers so once it holds the state the reply waits
   * for (one hop less). To this node itself, it settles the ask here. False when it could not go (logged, counted in
   * relayedRepliesLost): the asker's ask then times out.
   */
  relayReply(route: ReplyRoute, body: Uint8Array): boolean {
    if (this.closed) return false;
    if (route.node === this.nodeId) {
      this.relayedReplies++;
      this.settle(route.node, EnvelopeKind.REPLY_OK, route.id, body);
      return true;
    }
    const header = this.replyHeader;
    header[0] = EnvelopeKind.REPLY_OK;
    header.writeUInt32BE(route.id, 1);
    try {
      this.sendParts(route.node, header, body);
      this.relayedReplies++;
      return true;
    } catch (error) {
      this.relayedRepliesLost++;
      this.logger.warn(`Could not deliver a reply to node '${route.node}' in another node's stead; its ask will time out`, error);
      return false;
    }
  }

  /** Replies this node delivered in another node's stead, and those it could not (see relayReply). */
  relayedReplies = 0;
  relayedRepliesLost = 0;
  /** Replies that came after their request had ended (timed out, failed, or answered already by another node). */
  lateReplies = 0;

  /** Remote asks and lookups waiting for a reply (diagnostics and leak tests). */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /**
   * Lets an extension own the paths under `prefix` (sharding: '/system/sharding-'). `transparentRef(path)`
   * turns a ref read from the wire, or written by an actor there, into a location-transparent ref (an entity's
   * ref reaches the entity wherever it lives now); `missingTarget(path)` receives the messages that arrive for a
   * path under the prefix that has no actor here (yet): a type not registered on this node, say. Each returns
   * undefined to leave a path to the ordinary rules. Returns the function that removes the handler.
   */
  handlePaths(prefix: string, handler: PathHandler): () => void {
    if (typeof prefix !== 'string' || !prefix.startsWith('/') || prefix.length < 2) {
      throw new InvalidArgumentError(`handlePaths: the prefix must be a path like '/system/x-', got ${JSON.stringify(prefix)}`);
    }
    if (this.pathHandlers.has(prefix)) throw new InvalidArgumentError(`handlePaths: '${prefix}' is handled already`);
    this.pathHandlers.set(prefix, handler);
    this.indexTargets();
    return () => {
      this.pathHandlers.delete(prefix);
      this.indexTargets();
    };
  }

  /** The handlers that give targets, as an array: localTarget runs through them for every message that comes. */
  private indexTargets(): void {
    this.targetHandlers = [...this.pathHandlers].flatMap(([prefix, handler]) =>
      handler.target === undefined ? [] : [{ prefix, handler }]);
    this.lastKeyedPath = undefined;
    this.lastKeyedTarget = undefined;
  }

  /**
   * True while `nodeId` cannot be reached: its connection was lost and is not back, or it left or was declared
   * gone (what makes an ask to it fail at once with NodeUnavailableError).
   */
  isUnavailable(nodeId: NodeId): boolean {
    return this.peers.unavailable(nodeId) !== undefined;
  }

  /** See handlePaths. */
  transparentRef(actorPath: string): ActorRef<unknown> | undefined {
    if (this.pathHandlers.size === 0) return undefined;
    for (const [prefix, handler] of this.pathHandlers) {
      if (actorPath.startsWith(prefix)) return handler.transparentRef?.(actorPath);
    }
    return undefined;
  }

  /** The ref to an actor on another node; refs are cached, so repeated refs share their encoded header. */
  remoteRef(nodeId: NodeId, address: NodeAddress, actorPath: string): RemoteActorRef<unknown> {
    const key = `${nodeId}@${address.host}:${address.port}${actorPath}`;
    let ref = this.remoteRefs.get(key);
    if (ref === undefined) {
      if (this.remoteRefs.size >= REF_CACHE_LIMIT) this.remoteRefs.clear();
      ref = new RemoteActorRef(nodeId, address, actorPath, this);
      this.remoteRefs.set(key, ref);
    }
    return ref;
  }

  // ---- RemoteRouter: what RemoteActorRefs call ----

  tell(ref: RemoteActorRef<unknown>, msg: unknown): Promise<void> {
    try {
      if (this.peers.isGone(ref.nodeId)) {
        // Declared down or left: a dead letter here, at once; its address is not dialed.
        this.system.events.publish(new DeadLetter(msg, ref.path, 'node-gone'));
        return RESOLVED;
      }
      ref.tellHeader ??= encodeHeader([EnvelopeKind.TELL, ref.actorPath]);
      this.sendParts(ref.target, ref.tellHeader, this.codec.encodeShared(msg));
      return RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A tell to a keyed target under `ref`'s path (a sharded entity `key` of the region `ref`) with `header` (made
   * once for that key and ref by `new KeyedHeader(EnvelopeKind.KEYED_TELL, ref.actorPath, ...)`): the routing
   * fields travel in the header (EnvelopeKind.KEYED_TELL) and the receiver reaches the entity without decoding
   * anything around `msg`. The path's handler must take keyed messages (PathHandler.fromKeyed).
   */
  tellKeyed(ref: RemoteActorRef<unknown>, header: KeyedHeader, key: string, seq: number, msg: unknown): Promise<void> {
    try {
      if (this.peers.isGone(ref.nodeId)) {
        this.system.events.publish(new DeadLetter(msg, `${ref.path}/${key}`, 'node-gone'));
        return RESOLVED;
      }
      this.sendParts(ref.target, header.withSeq(seq), this.codec.encodeShared(msg));
      return RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * An ask to a keyed target (see tellKeyed), with a KEYED_ASK `header`. With a tracer, it goes as an ordinary
   * (traced) ask of `plain()`, the message the handler's `fromKeyed` makes of it.
   */
  askKeyed(ref: RemoteActorRef<unknown>, header: KeyedHeader, key: string, seq: number, msg: unknown,
    timeoutMs: number | undefined, plain: () => unknown): Promise<unknown> {
    if (this.tracer !== undefined) return this.ask(ref, plain(), timeoutMs);
    const timeout = this.askTimeout(ref, timeoutMs);
    if (typeof timeout !== 'number') return timeout;
    const lost = this.peers.unavailable(ref.nodeId);
    if (lost !== undefined) {
      return Promise.reject(new NodeUnavailableError(ref.nodeId, lost.address,
        `the ask of ${classNameOf(msg)} to ${ref.path}/${key}`, lost.reason));
    }
    return new Promise((resolve, reject) => {
      const id = this.pending.add(ref, msg, timeout, resolve, reject);
      try {
        this.sendParts(ref.target, header.withAsk(id, timeout).withSeq(seq), this.codec.encodeShared(msg));
      } catch (error) {
        this.pending.reject(id, error);
      }
    });
  }

  /** `timeoutMs` (or the default) when it is valid, else the rejected promise an ask returns. */
  private askTimeout(ref: RemoteActorRef<unknown>, timeoutMs: number | undefined): number | Promise<never> {
    const timeout = timeoutMs ?? this.options.askTimeoutMs;
    if (!(timeout > 0 && timeout <= MAX_TIMER_DELAY_MS)) {
      return Promise.reject(new InvalidArgumentError(
        `ask(${ref.path}): timeout must be a number of milliseconds > 0 and at most ${MAX_TIMER_DELAY_MS} (2^31 - 1, ` +
        `about 24.8 days), got ${String(timeoutMs)}`));
    }
    return timeout;
  }

  ask(ref: RemoteActorRef<unknown>, msg: unknown, timeoutMs: number | undefined): Promise<unknown> {
    const timeout = this.askTimeout(ref, timeoutMs);
    if (typeof timeout !== 'number') return timeout;
    const lost = this.peers.unavailable(ref.nodeId);
    if (lost !== undefined) {
      return Promise.reject(new NodeUnavailableError(ref.nodeId, lost.address,
        `the ask of ${classNameOf(msg)} to ${ref.path}`, lost.reason));
    }
    if (this.tracer !== undefined) return this.tracedAsk(ref, msg, timeout, this.tracer.clientAsk(ref.path, msg));
    return new Promise((resolve, reject) => {
      const id = this.pending.add(ref, msg, timeout, resolve, reject);
      try {
        // The ref's own ASK header, its id and timeout filled in for this ask (sendParts copies it at once).
        const header = ref.askHeader ??= encodeHeader([EnvelopeKind.ASK, 1, ref.actorPath, 0]);
        header.writeUInt32BE(id, 1);
        header.writeUInt32BE(Math.min(Math.ceil(timeout), MAX_U32), 5);
        this.sendParts(ref.target, header, this.codec.encodeShared(msg));
      } catch (error) {
        this.pending.reject(id, error);
      }
    });
  }

  /** An ask with a tracer: as `ask`, in an ASK_TRACED envelope carrying `trace.context`, and `trace` told how it ends. */
  private tracedAsk(ref: RemoteActorRef<unknown>, msg: unknown, timeout: number, trace: ClientAskTrace): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.pending.add(ref, msg, timeout, (value: never) => {
        trace.settled(false, undefined);
        resolve(value);
      }, (error: unknown) => {
        trace.settled(true, error);
        reject(error);
      });
      try {
        const header = trace.context === '' ? encodeHeader([EnvelopeKind.ASK, id, ref.actorPath, timeout])
          : encodeHeader([EnvelopeKind.ASK_TRACED, id, ref.actorPath, timeout, trace.context]);
        this.sendParts(ref.target, header, this.codec.encodeShared(msg));
      } catch (error) {
        this.pending.reject(id, error);
      }
    });
  }

  /**
   * Whether a message of about `bytes` to `ref` fits now within half the outbound queue of its node (see
   * Transport.roomFor): a bulk sender (a hand-off's states, replicas) sends when it does, and waits when not, so that
   * it never fills the queue that the node's other messages need. Always true for a local ref.
   */
  roomFor(ref: ActorRef<unknown>, bytes: number): boolean {
    if (!(ref instanceof RemoteActorRef) || this.transport.roomFor === undefined) return true;
    return this.transport.roomFor(ref.target, bytes);
  }

  watch(ref: RemoteActorRef<unknown>, terminated: () => void): () => void {
    if (this.closed) {
      queueMicrotask(terminated);
      return () => undefined;
    }
    return this.watches.watch(ref.nodeId, ref.address, ref.actorPath, terminated);
  }

  // ---- SystemExtension ----

  /**
   * Asks every connected node and every live member for `nameOrPath`, in parallel; resolves with the first
   * ref found, or undefined once all have answered without one or the lookup timeout (see
   * RemoteMessagingOptions.lookupTimeoutMs) has passed for those that did not.
   */
  lookup(nameOrPath: string): Promise<ActorRef<unknown> | undefined> {
    let timeoutMs: number;
    try {
      timeoutMs = this.lookupTimeoutMs();
    } catch (error) {
      return Promise.reject(error);
    }
    const peers = new Map(this.peers.connected().map((p) => [p.nodeId, p]));
    for (const node of this.knownNodes()) if (node.nodeId !== this.nodeId && !peers.has(node.nodeId)) peers.set(node.nodeId, node);
    return this.askEach([...peers.values()], nameOrPath, timeoutMs);
  }

  private askEach(peers: ReadonlyArray<{ readonly nodeId: NodeId; readonly address: NodeAddress }>, nameOrPath: string,
    timeoutMs: number): Promise<ActorRef<unknown> | undefined> {
    if (peers.length === 0 || this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let waiting = peers.length;
      const miss = () => {
        if (--waiting === 0) resolve(undefined);
      };
      for (const peer of peers) {
        new Promise<unknown>((found, failed) => {
          const target = { path: `node '${peer.nodeId}'`, nodeId: peer.nodeId };
          const id = this.pending.add(target, nameOrPath, timeoutMs, found, failed);
          try {
            this.transport.send({ nodeId: peer.nodeId, address: peer.address }, ProtocolId.ACTOR,
              encodeEnvelope(this.codec, [EnvelopeKind.LOOKUP, id, nameOrPath], NO_BODY));
          } catch (error) {
            this.pending.reject(id, error);
          }
        }).then((ref) => (ref instanceof ActorRef ? resolve(ref) : miss()), (error: unknown) => {
          this.logger.debug(`Lookup of '${nameOrPath}' on node '${peer.nodeId}' failed; counted as not found`, error);
          miss();
        });
      }
    });
  }

  /** Delays the LEAVING announcement (shutdown phase 'leave') until `wait` settles: ClusterMembership's leave. */
  announceLeavingAfter(wait: () => Promise<void>): void {
    this.leavingAfter = wait;
  }

  /**
   * Tells the connected nodes this one is leaving, so they stop redialing it once its connections close
   * (shutdown phase 'leave', after membership's leave has spread).
   */
  private async announceLeaving(): Promise<void> {
    try {
      await this.leavingAfter();
    } finally {
      this.sendLeaving();
    }
  }

  private sendLeaving(): void {
    const leaving = encodeEnvelope(this.codec, [EnvelopeKind.LEAVING], NO_BODY);
    for (const peer of this.peers.connected()) {
      try {
        this.transport.send({ nodeId: peer.nodeId, address: peer.address }, ProtocolId.ACTOR, leaving);
      } catch (error) {
        this.logger.debug(`Could not tell node '${peer.nodeId}' that this node is leaving`, error);
      }
    }
  }

  /** Fails what still waits on other nodes, stops listening, and closes the transport (shutdown phase 'close'). */
  private async close(): Promise<void> {
    this.closed = true;
    this.pending.rejectAll(() => new SystemShutdownError(this.system.name, 'wait for a reply from another node'));
    this.watches.close();
    for (const unsubscribe of this.subscriptions) unsubscribe();
    await this.transport.close();
  }

  // ---- incoming frames ----

  private receive(from: NodeId, payload: Uint8Array): void {
    const envelope = this.reader;
    try {
      envelope.read(payload);
    } catch (error) {
      this.badInput.warn(from, `Dropped a frame from node '${from}' that is not a remote messaging envelope`, error,
        'more bad frames from that node');
      return;
    }
    switch (envelope.kind) {
      case EnvelopeKind.TELL: return this.deliverTell(from, envelope.path, envelope.body);
      case EnvelopeKind.KEYED_TELL: return this.deliverKeyedTell(from, envelope);
      case EnvelopeKind.KEYED_ASK: return this.deliverKeyedAsk(from, envelope);
      case EnvelopeKind.ASK: return this.deliverAsk(from, envelope.id, envelope.path, envelope.timeoutMs, envelope.body);
      case EnvelopeKind.ASK_TRACED:
        return this.deliverAsk(from, envelope.id, envelope.path, envelope.timeoutMs, envelope.body, envelope.traceContext);
      case EnvelopeKind.REPLY_OK:
      case EnvelopeKind.REPLY_ERROR:
      case EnvelopeKind.LOOKUP_REPLY: return this.settle(from, envelope.kind, envelope.id, envelope.body);
      case EnvelopeKind.LOOKUP: return this.answerLookup(from, envelope.id, envelope.path);
      // Retired: a node no longer dials addresses another node names (membership says who is in).
      case EnvelopeKind.PEERS: return;
      case EnvelopeKind.LEAVING: return this.forget(from);
      case EnvelopeKind.WATCH: return this.watches.watchRequested(from, envelope.path);
      case EnvelopeKind.UNWATCH: return this.watches.unwatchRequested(from, envelope.path);
      case EnvelopeKind.TERMINATED: return this.watches.terminated(from, envelope.path);
    }
  }

  private deliverTell(from: NodeId, path: string, body: Uint8Array): void {
    let msg: unknown;
    try {
      msg = this.codec.decode(body);
    } catch (error) {
      this.undeliverable(from, path, error);
      return;
    }
    this.tellDecoded(from, path, msg, this.handledTarget(path));
  }

  /** A tell from node `from` to `path`, decoded: to `own` (its handler's target), else the local actor. */
  private tellDecoded(from: NodeId, path: string, msg: unknown, own: DeliveryTarget | undefined): void {
    let accepted: Promise<void>;
    if (own !== undefined) accepted = own.deliver(msg);
    else {
      const target = this.localTarget(path);
      accepted = target instanceof LocalActorRef ? target.deliver(msg) : target.send(msg);
    }
    this.accepted(from, path, accepted);
  }

  private accepted(from: NodeId, path: string, accepted: Promise<void>): void {
    if (accepted !== RESOLVED) {
      accepted.then(undefined, (error: unknown) =>
        this.logger.warn(`A message from node '${from}' to ${path} was not accepted`, error));
    }
  }

  /** A KEYED_TELL: to its path's target as a keyed message, or as the plain message its handler makes of it. */
  private deliverKeyedTell(from: NodeId, envelope: EnvelopeReader): void {
    const { path, key, shard, origin, seq } = envelope;
    let msg: unknown;
    try {
      msg = this.codec.decode(envelope.body);
    } catch (error) {
      this.undeliverable(from, `${path}/${key}`, error);
      return;
    }
    const own = this.keyedTarget(path);
    if (own?.deliverKeyed !== undefined) {
      this.accepted(from, path, own.deliverKeyed(key, shard, origin, seq, msg));
      return;
    }
    const plain = this.fromKeyed(from, path, key, shard, origin, seq, msg);
    if (plain !== NOT_KEYED) this.tellDecoded(from, path, plain, own);
  }

  /** A KEYED_ASK: as deliverKeyedTell, answered as an ASK. */
  private deliverKeyedAsk(from: NodeId, envelope: EnvelopeReader): void {
    const { id, path, key, shard, origin, seq } = envelope;
    let msg: unknown;
    try {
      msg = this.codec.decode(envelope.body);
    } catch (error) {
      this.undeliverable(from, `${path}/${key}`, error);
      this.reply(from, EnvelopeKind.REPLY_ERROR, id, error);
      return;
    }
    const responderTimeout = Math.min(envelope.timeoutMs + RESPONDER_GRACE_MS, MAX_TIMER_DELAY_MS);
    const ok = (value: unknown): void => this.reply(from, EnvelopeKind.REPLY_OK, id, value, path, msg);
    const failed = (error: unknown): void => this.reply(from, EnvelopeKind.REPLY_ERROR, id, error, path, msg);
    const own = this.keyedTarget(path);
    if (own?.deliverKeyedAsk !== undefined) {
      own.deliverKeyedAsk(key, shard, origin, seq, msg, responderTimeout, ok, failed, { node: from, id });
      return;
    }
    const plain = this.fromKeyed(from, path, key, shard, origin, seq, msg);
    if (plain === NOT_KEYED) failed(new CastyError('UNROUTABLE', `No handler on this node takes keyed messages for ${path}`));
    else this.deliverLocally(path, plain, responderTimeout, ok, failed);
  }

  /** The plain message a keyed envelope stands for, by its path's handler; NOT_KEYED (a dead letter) without one. */
  private fromKeyed(from: NodeId, path: string, key: string, shard: number, origin: number, seq: number, msg: unknown): unknown {
    for (const [prefix, handler] of this.pathHandlers) {
      if (path.startsWith(prefix) && handler.fromKeyed !== undefined) return handler.fromKeyed(key, shard, origin, seq, msg);
    }
    this.system.events.publish(new DeadLetter(msg, `${path}/${key}`, 'unroutable'));
    this.logger.debug(`A keyed message from node '${from}' for ${path}, which no handler here takes, went to dead letters`);
    return NOT_KEYED;
  }

  /** Delivers an ask from node `from`; with `traceContext` (ASK_TRACED) and a tracer, inside that trace. */
  private deliverAsk(from: NodeId, id: number, path: string, timeout: number, body: Uint8Array, traceContext?: string): void {
    let msg: unknown;
    try {
      msg = this.codec.decode(body);
    } catch (error) {
      this.undeliverable(from, path, error);
      this.reply(from, EnvelopeKind.REPLY_ERROR, id, error);
      return;
    }
    // The asker's own timer decides when the ask times out (its error names the remote ref); this one only
    // frees the local pending ask, so it runs a little longer and never wins the race.
    // The header carries up to 2^32 - 1 ms; a local ask takes at most MAX_TIMER_DELAY_MS.
    const responderTimeout = Math.min(timeout + RESPONDER_GRACE_MS, MAX_TIMER_DELAY_MS);
    const ok = (value: unknown): void => this.reply(from, EnvelopeKind.REPLY_OK, id, value, path, msg);
    const failed = (error: unknown): void => this.reply(from, EnvelopeKind.REPLY_ERROR, id, error, path, msg);
    if (traceContext !== undefined && this.tracer !== undefined) {
      const trace = this.tracer.serverAsk(traceContext, path, msg, from);
      trace.run(() => this.deliverLocally(path, msg, responderTimeout, (value) => {
        trace.settled(false, undefined);
        ok(value);
      }, (error) => {
        trace.settled(true, error);
        failed(error);
      }));
      return;
    }
    this.deliverLocally(path, msg, responderTimeout, ok, failed);
  }

  /** Gives an ask from another node to its path's handler or local actor; the reply goes to `ok` or `failed`. */
  private deliverLocally(path: string, msg: unknown, responderTimeout: number, ok: (value: unknown) => void,
    failed: (error: unknown) => void): void {
    const own = this.handledTarget(path);
    if (own !== undefined) {
      own.deliverAsk(msg, responderTimeout, ok, failed);
      return;
    }
    const target = this.localTarget(path);
    if (target instanceof LocalActorRef) {
      // What LocalActorRef.ask does, minus its promise: the actor's reply goes out as it is made.
      target.deliverAsk(msg, responderTimeout, ok, failed);
    } else {
      target.ask(msg, { timeout: responderTimeout }).then(ok, failed);
    }
  }

  private settle(from: NodeId, kind: EnvelopeKind, id: number, body: Uint8Array): void {
    let value: unknown;
    try {
      value = decodeBody(this.codec, body);
    } catch (error) {
      // The reply (or the error) is of a class this node cannot decode: the asker fails with why.
      this.pending.reject(id, error);
      return;
    }
    const known = kind === EnvelopeKind.REPLY_ERROR ? this.pending.reject(id, value) : this.pending.resolve(id, value);
    if (!known) {
      this.lateReplies++;
      this.logger.debug(`A reply from node '${from}' came after its request had ended (timed out, failed, or answered already)`);
    }
  }

  private answerLookup(from: NodeId, id: number, nameOrPath: string): void {
    let found: ActorRef<unknown> | undefined;
    try {
      found = this.system.lookupLocal(nameOrPath);
    } catch {
      found = undefined; // not a valid name: nothing here has it
    }
    this.reply(from, EnvelopeKind.LOOKUP_REPLY, id, found);
  }

  /** A node said it is leaving: stop wanting it (no redialing); it is unavailable until it connects again. */
  private forget(nodeId: NodeId): void {
    const address = this.peers.left(nodeId);
    this.logger.debug(`Node '${nodeId}' is leaving the cluster`);
    if (address !== undefined) this.transport.disconnect({ nodeId, address });
  }

  /**
   * Sends a reply (or a lookup answer) straight to the asking node over this node's connection to it. A reply
   * that cannot go (it does not encode, or its frame is over maxFrameBytes) goes as a small REPLY_ERROR that
   * says why, so the asker fails at once instead of waiting out its timeout. `path` and `msg` name the ask.
   */
  private reply(to: NodeId, kind: EnvelopeKind, id: number, value: unknown, path?: string, msg?: unknown): void {
    if (this.closed) return;
    const header = this.replyHeader;
    header[0] = kind;
    header.writeUInt32BE(id, 1);
    try {
      let body: Uint8Array;
      try {
        body = this.codec.encodeShared(value);
      } catch (encodeError) {
        // The reply cannot cross the wire (it holds a function, or is over the codec's maxBytes).
        header[0] = EnvelopeKind.REPLY_ERROR;
        body = this.codec.encodeShared(this.replyFailure(encodeError, kind, path, msg));
      }
      this.sendParts(to, header, body);
      return;
    } catch (error) {
      if (header[0] === EnvelopeKind.REPLY_ERROR && kind !== EnvelopeKind.REPLY_ERROR && !(error instanceof FrameTooLargeError)) {
        this.logger.warn(`Could not send a reply to node '${to}'; its ask will time out`, error);
        return;
      }
      // Say why in a small REPLY_ERROR (when the connection itself is gone, that fails too: logged below).
      try {
        header[0] = EnvelopeKind.REPLY_ERROR;
        this.sendParts(to, header, this.codec.encodeShared(this.replyFailure(error, kind, path, msg)));
        this.logger.debug(`A reply to node '${to}' could not be sent; the asker was told why`, error);
      } catch (second) {
        this.logger.warn(`Could not send a reply to node '${to}', nor the error saying why; its ask will time out`, second);
      }
    }
  }

  /** `error` (why a reply could not be sent), its message prefixed with which reply it was; a fresh error as is. */
  private replyFailure(error: unknown, kind: EnvelopeKind, path: string | undefined, msg: unknown): unknown {
    if (!(error instanceof Error)) return error;
    const reply = kind === EnvelopeKind.REPLY_ERROR ? 'error reply' : 'reply';
    const what = kind === EnvelopeKind.LOOKUP_REPLY ? 'The answer to a lookup'
      : path === undefined ? `The ${reply}` : `The ${reply} to ${classNameOf(msg)} from ${path}`;
    const message = `${what} could not be sent to the asking node: ${error.message}`;
    // The codec's and the transport's errors are made for this call, so giving them the context is safe.
    if (error instanceof FrameTooLargeError || error instanceof MessageEncodingError) {
      error.message = message;
      return error;
    }
    return new CastyError(error instanceof CastyError ? error.code : 'REPLY_NOT_SENT', message);
  }

  private undeliverable(from: NodeId, path: string, error: unknown): void {
    this.badInput.warn(from, `A message from node '${from}' to ${path} could not be decoded; it went to dead letters`,
      error, 'more bad frames from that node');
    this.system.events.publish(new DeadLetter(new UndecodableMessage(from, error), path, 'unroutable'));
  }

  /**
   * handledTarget for a keyed envelope's path, the last one found kept: keyed frames in a row mostly go to one
   * region, and a handler's target for a path does not change once it has one (PathHandler.target).
   */
  private keyedTarget(path: string): DeliveryTarget | undefined {
    if (path === this.lastKeyedPath) return this.lastKeyedTarget;
    const own = this.handledTarget(path);
    if (own !== undefined) {
      this.lastKeyedPath = path;
      this.lastKeyedTarget = own;
    }
    return own;
  }

  private lastKeyedPath: string | undefined = undefined;
  private lastKeyedTarget: DeliveryTarget | undefined = undefined;

  /** Where a path handler takes messages for `path` (see PathHandler.target), or undefined. */
  private handledTarget(path: string): DeliveryTarget | undefined {
    const targets = this.targetHandlers;
    for (let i = 0; i < targets.length; i++) {
      const { prefix, handler } = targets[i]!;
      if (path.startsWith(prefix)) {
        const own = handler.target!(path);
        if (own !== undefined) return own;
      }
    }
    return undefined;
  }

  /** The local actor at `path` (cached), or a stopped ref whose sends become dead letters. */
  private localTarget(path: string): ActorRef<unknown> {
    const cached = this.localRefs.get(path);
    if (cached !== undefined && !cached.isStopped) return cached;
    let found: ActorRef<unknown> | undefined;
    try {
      found = this.system.lookupLocal(path);
    } catch {
      found = undefined;
    }
    if (found instanceof LocalActorRef) {
      if (this.localRefs.size >= REF_CACHE_LIMIT) this.localRefs.clear();
      this.localRefs.set(path, found);
      return found;
    }
    if (found === undefined && this.pathHandlers.size > 0) {
      for (const [prefix, handler] of this.pathHandlers) {
        if (path.startsWith(prefix)) {
          found = handler.missingTarget?.(path);
          break;
        }
      }
    }
    return found ?? new StoppedActorRef(path, this.system);
  }

  // ---- peers ----

  // Only data-lane connections matter here: actor frames travel on them (the control lane is membership's).

  private peerUp(peer: PeerInfo): void {
    if (peer.lane === 'control') return;
    if (peer.direction === 'outbound' && !this.closed) this.watches.reconnected(peer.nodeId);
    if (!this.peers.up(peer) || this.closed) return;
    this.logger.debug(`Node '${peer.nodeId}' at ${formatAddress(peer.address)} is connected`);
  }

  /**
   * The transport dropped frames unsent (their node is gone, or refused them): tells become dead letters
   * (reason 'node-gone'), asks and lookups fail at once with NodeUnavailableError; nothing vanishes silently.
   */
  private dropped(dropped: DroppedFrames): void {
    const nodeId = dropped.nodeId ?? formatAddress(dropped.address);
    const why = dropped.reason.message;
    const reader = new EnvelopeReader();
    let handled = 0;
    for (const frame of dropped.payloads) {
      if (frame.protocolId !== ProtocolId.ACTOR) continue;
      try {
        reader.read(frame.payload);
      } catch {
        continue;
      }
      const path = `casty://${nodeId}@${formatAddress(dropped.address)}${reader.path}`;
      switch (reader.kind) {
        case EnvelopeKind.TELL: {
          let msg: unknown;
          try {
            msg = this.codec.decode(reader.body);
          } catch (error) {
            msg = new UndecodableMessage(this.nodeId, error);
          }
          this.system.events.publish(new DeadLetter(msg, path, 'node-gone'));
          handled++;
          break;
        }
        case EnvelopeKind.ASK:
        case EnvelopeKind.ASK_TRACED:
        case EnvelopeKind.LOOKUP:
          this.pending.reject(reader.id, new NodeUnavailableError(nodeId, dropped.address,
            reader.kind === EnvelopeKind.LOOKUP ? `the lookup of '${reader.path}'` : `the ask to ${path}`, why));
          handled++;
          break;
      }
    }
    const unreported = dropped.frames - dropped.payloads.length;
    this.logger.debug(`${dropped.frames} frame(s) for node '${nodeId}' were not sent (${why}): ${handled} became dead ` +
      `letters or failed asks${unreported > 0 ? `, ${unreported} more were only counted (transport stats framesDropped)` : ''}`);
  }

  private peerDown(peer: PeerInfo, reason: Error): void {
    if (peer.lane === 'control') return;
    const why = this.peers.down(peer, reason);
    if (peer.direction === 'outbound' && !this.closed && this.peers.unavailable(peer.nodeId)?.left !== true) {
      // Lost, not gone: redial it (its own address, bound to its id) so asks work again once it is back.
      // Membership declaring it down or left stops this (nodeGone disconnects).
      this.transport.connect({ nodeId: peer.nodeId, address: peer.address });
    }
    // Replies come on the connection the node opened to us (inbound). Closed cleanly by the node, every reply it
    // wrote before has arrived: asks keep waiting while our connection to it is up (later replies come on its next
    // connection). Our connection to it closed cleanly by the node (it is shutting down, say), while its own is
    // still up: its last replies may still be on their way there, so asks wait for that one to close. Lost any
    // other way (reset, or closed here: idle, stalled), replies may be lost with it: fail now.
    const cleanly = reason instanceof ConnectionLostError && reason.closedByPeer;
    if (cleanly && peer.direction === 'inbound' && this.peers.unavailable(peer.nodeId) === undefined) return;
    if (cleanly && peer.direction === 'outbound' && this.peers.hasInbound(peer.nodeId)) {
      // A node also closes a connection cleanly when it fails it (a bad frame, say) and may keep its own: then
      // what we wrote was dropped, and the asks would wait for their timeouts. So the asks waiting now wait a
      // moment only (those sent later, on the next connection, are not concerned).
      const waiting = this.pending.idsOf(peer.nodeId);
      if (waiting.length > 0) {
        this.system.clock.setTimeout(() => {
          if (!this.closed) this.failWaiting(peer, why, waiting);
        }, CLEAN_CLOSE_GRACE_MS);
      }
      return;
    }
    this.failWaiting(peer, why, this.pending.idsOf(peer.nodeId));
  }

  /** Fails the requests `ids` waiting on `peer`'s node, its connection lost (`why`). */
  private failWaiting(peer: PeerInfo, why: string, ids: readonly number[]): void {
    const failed = this.pending.rejectIds(ids, peer.nodeId, peer.address, why);
    if (failed > 0) this.logger.debug(`Failed ${failed} requests waiting on node '${peer.nodeId}': its connection was lost`);
  }

  /** How long a lookup waits for each node: the option, else askTimeoutMs capped at DEFAULT_LOOKUP_TIMEOUT_MS. */
  private lookupTimeoutMs(): number {
    const { lookupTimeoutMs, askTimeoutMs } = this.options;
    if (lookupTimeoutMs === undefined) return Math.min(askTimeoutMs, DEFAULT_LOOKUP_TIMEOUT_MS);
    if (!(lookupTimeoutMs > 0 && lookupTimeoutMs <= MAX_TIMER_DELAY_MS)) {
      throw new InvalidArgumentError(`RemoteMessaging: lookupTimeoutMs must be a number of milliseconds > 0 and at most ` +
        `${MAX_TIMER_DELAY_MS}, got ${String(lookupTimeoutMs)}`);
    }
    return lookupTimeoutMs;
  }
}
