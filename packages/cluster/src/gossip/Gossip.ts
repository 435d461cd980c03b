// Gossip: disseminates a GossipState over the GOSSIP protocol of a Transport. Local writes and every change
// learned from others are queued as deltas and sent, a bounded number of times, to a few random members
// each round (epidemic spread). A periodic push-pull with one random member exchanges digests (key and
// version hash per key range) and then exactly the entries either side lacks (anti-entropy), which repairs
// whatever the bounded epidemic missed. Every frame stays under maxMessageBytes however large the map is.
//
// Peers come from a membership view (a Swim engine), so Gossip never probes or tracks failures itself.

import type { Clock, TimerHandle } from '@casty/core';
import { InvalidArgumentError } from '@casty/core';
import { TransmitLimitedQueue } from '../internal/broadcastQueue';
import type { Member } from '../membership/MemberState';
import { MemberState } from '../membership/MemberState';
import { shuffle } from '../internal/shuffle';
import { MAX_STRING_BYTES } from '../internal/bytes';
import { ProtocolId } from '../transport/frame';
import type { Logger } from '@casty/core';
import { consoleLogger } from '@casty/core';
import type { NodeId, PeerTarget, Transport, Unsubscribe } from '../transport/Transport';
import type { GossipConfig } from './GossipConfig';
import { decodeGossip, encodeDigest, encodeEntries, encodeEntry, encodeRequests, GossipKind, LIST_HEADER_BYTES } from './gossipMessages';
import type { DigestPart, GossipEntry } from './gossipMessages';
import { GossipState, winner } from './GossipState';
import { Subscriptions } from './patterns';
import type { GossipChange } from './patterns';
import { WarningLimiter } from '../internal/WarningLimiter';

const BAD_FRAME_WARNING_INTERVAL_MS = 10_000;

/** Who is in the cluster: a Swim engine, or anything listing members. */
export interface MembershipView {
  members(): readonly Member[];
}

/** What a Gossip engine is built from. */
export interface GossipOptions {
  readonly transport: Transport;
  readonly clock: Clock;
  /** Numbers in [0, 1) for choosing peers; seed it for repeatable runs. */
  readonly random: () => number;
  readonly config: GossipConfig;
  /** This node's id: stamped on the vector clock of its writes. */
  readonly selfId: NodeId;
  readonly membership: MembershipView;
  readonly logger?: Logger;
}

export class Gossip {
  private readonly state: GossipState;
  private readonly queue: TransmitLimitedQueue;
  private readonly subscriptions: Subscriptions;
  private readonly logger: Logger;
  /** A sender of malformed frames gets one warning per 10 s, the rest at debug: a peer cannot flood the log. */
  private readonly badFrames: WarningLimiter;
  private readonly timers = new Set<TimerHandle>();
  private unsubscribe: Unsubscribe | undefined;
  private running = false;

  constructor(private readonly options: GossipOptions) {
    this.logger = options.logger ?? consoleLogger;
    this.state = new GossipState(options.selfId);
    this.queue = new TransmitLimitedQueue(options.config.retransmitMult, () => Math.max(1, this.peers().length + 1));
    this.subscriptions = new Subscriptions(this.logger);
    this.badFrames = new WarningLimiter(options.clock, this.logger, BAD_FRAME_WARNING_INTERVAL_MS);
  }

  /** Starts gossiping (the transport must be started). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.options.transport.onFrame(ProtocolId.GOSSIP, (from, payload) => this.receive(from, payload));
    this.every(this.options.config.gossipIntervalMs, () => this.gossipRound());
    this.every(this.options.config.pushPullIntervalMs, () => this.pushPullRound());
  }

  /** Stops gossiping; the state stays readable. */
  stop(): void {
    this.running = false;
    for (const t of this.timers) this.options.clock.clearTimeout(t);
    this.timers.clear();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** The value of `key`, if set and not deleted. */
  get(key: string): Uint8Array | undefined {
    return this.state.get(key);
  }

  /** Every live key (deleted ones excluded). */
  keys(): string[] {
    return this.state.entries().filter((e) => winner(e).value !== undefined).map((e) => e.key);
  }

  /** Every version held, tombstones included (for diagnostics and tests). */
  entries(): GossipEntry[] {
    return this.state.entries();
  }

  /**
   * Sets `key` to `value` and spreads it.
   * @throws {InvalidArgumentError} for an empty or too long key, or an entry that cannot fit in one frame.
   */
  set(key: string, value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) throw new InvalidArgumentError(`Gossip.set('${key}'): value must be a Uint8Array, got ${typeof value}`);
    this.write(key, value);
  }

  /** Deletes `key` (a tombstone that spreads like a write). Returns false if there was no value. */
  delete(key: string): boolean {
    if (this.state.get(key) === undefined) return false;
    this.write(key, undefined);
    return true;
  }

  /** Calls `callback` for every change (local or learned) of a key matching the glob `pattern`, e.g. 'actors/*'. */
  subscribe(pattern: string, callback: (change: GossipChange) => void): Unsubscribe {
    return this.subscriptions.subscribe(pattern, callback);
  }

  private write(key: string, value: Uint8Array | undefined): void {
    if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > MAX_STRING_BYTES) {
      throw new InvalidArgumentError(`A gossip key must be a non-empty string of at most ${MAX_STRING_BYTES} bytes, got ${String(key).slice(0, 64)}`);
    }
    const entry = this.state.nextVersion(key, value);
    const encoded = encodeEntry(entry);
    if (encoded.length + LIST_HEADER_BYTES > this.options.config.maxMessageBytes) {
      throw new InvalidArgumentError(`Gossip entry '${key.slice(0, 64)}' is ${encoded.length} bytes; a gossip frame carries at ` +
        `most ${this.options.config.maxMessageBytes - LIST_HEADER_BYTES}: store large values elsewhere and gossip a reference, ` +
        'or raise GossipConfig.maxMessageBytes');
    }
    this.state.apply(entry, this.options.clock.now());
    this.queue.enqueue(key, encoded);
    this.subscriptions.notify({ key, value, writer: this.options.selfId, origin: 'local' });
  }

  // ---- rounds --------------------------------------------------------------------------------------------

  private gossipRound(): void {
    const { gossipFanout, maxMessageBytes } = this.options.config;
    // No deltas waiting: no need to list and shuffle the members.
    if (this.queue.size === 0) return;
    for (const peer of this.randomPeers(gossipFanout)) {
      const deltas = this.queue.take(0, maxMessageBytes - LIST_HEADER_BYTES);
      if (deltas.length === 0) return;
      for (const frame of encodeEntries(deltas, maxMessageBytes)) this.send({ nodeId: peer.id, address: peer.address }, frame);
    }
  }

  private pushPullRound(): void {
    this.state.expireTombstones(this.options.clock.now(), this.options.config.tombstoneTtlMs);
    const [peer] = this.randomPeers(1);
    if (peer === undefined) return;
    for (const frame of encodeDigest(this.state.digest(), this.options.config.maxMessageBytes)) this.send({ nodeId: peer.id, address: peer.address }, frame);
  }

  // ---- receiving -----------------------------------------------------------------------------------------

  private receive(from: NodeId, payload: Uint8Array): void {
    if (!this.running) return;
    let message;
    try {
      message = decodeGossip(payload);
    } catch (err) {
      this.badFrames.warn(from, `Dropped a GOSSIP frame from ${from}`, err, 'more dropped frames from it');
      return;
    }
    switch (message.kind) {
      case GossipKind.ENTRIES:
        for (const entry of message.entries) this.merge(entry);
        return;
      case GossipKind.DIGEST:
        this.answerDigest(from, message);
        return;
      case GossipKind.REQUEST:
        this.sendEntries(from, message.keys);
        return;
    }
  }

  private merge(incoming: GossipEntry): void {
    const before = this.state.get(incoming.key);
    const merged = this.state.apply(incoming, this.options.clock.now());
    if (merged === undefined) return;
    this.queue.enqueue(merged.key, encodeEntry(merged));
    const now = winner(merged);
    if (!sameValue(before, now.value)) {
      this.subscriptions.notify({ key: merged.key, value: now.value, writer: now.writer, origin: 'remote' });
    }
  }

  /** Sends what the digest's sender lacks in its range, and asks for what this node lacks. */
  private answerDigest(from: NodeId, part: DigestPart): void {
    const theirs = new Map(part.items.map((i) => [i.key, i.hash]));
    const ours = this.state.digest(part);
    const ourHashes = new Map(ours.map((i) => [i.key, i.hash]));
    this.sendEntries(from, ours.filter((i) => theirs.get(i.key) !== i.hash).map((i) => i.key));
    const wanted = part.items.filter((i) => ourHashes.get(i.key) !== i.hash).map((i) => i.key);
    if (wanted.length > 0) for (const frame of encodeRequests(wanted, this.options.config.maxMessageBytes)) this.send(from, frame);
  }

  private sendEntries(to: PeerTarget, keys: readonly string[]): void {
    const encoded: Uint8Array[] = [];
    for (const key of keys) {
      const entry = this.state.entry(key);
      if (entry !== undefined) encoded.push(encodeEntry(entry));
    }
    if (encoded.length > 0) for (const frame of encodeEntries(encoded, this.options.config.maxMessageBytes)) this.send(to, frame);
  }

  // ---- plumbing ------------------------------------------------------------------------------------------

  private peers(): Member[] {
    return this.options.membership.members().filter((m) => m.id !== this.options.selfId && m.state === MemberState.ALIVE);
  }

  private randomPeers(k: number): Member[] {
    const peers = this.peers();
    shuffle(peers, this.options.random);
    return peers.slice(0, k);
  }

  /** A send that fails is a lost frame: push-pull repairs it. */
  private send(to: PeerTarget, payload: Uint8Array): void {
    try {
      this.options.transport.send(to, ProtocolId.GOSSIP, payload);
    } catch (err) {
      this.logger.debug('GOSSIP frame not sent', err as Error);
    }
  }

  private every(intervalMs: number, fn: () => void): void {
    const handle = this.options.clock.setTimeout(() => {
      this.timers.delete(handle);
      if (!this.running) return;
      fn();
      this.every(intervalMs, fn);
    }, intervalMs);
    this.timers.add(handle);
  }
}

function sameValue(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.compare(a, b) === 0;
}
