// Swim: the SWIM failure detector with Lifeguard, over the SWIM protocol of a Transport (memberlist
// state.go). Each protocol period this node probes one member; a member that misses the direct ack and the
// indirect probes of k others is suspected; a suspect that does not refute (by raising its incarnation)
// before its suspicion timer fires is declared dead. Updates ride piggybacked on the probes and acks, and a
// periodic push-pull with a random member repairs whatever piggybacking missed.
//
// All time comes from the injected Clock and all randomness from the injected random source, so N engines
// over one InMemoryNetwork with a ManualClock are a deterministic simulation of a cluster.
//
// The rules for accepting a claim (alive, suspect, dead, left) are in MemberRules.ts; this file owns the
// protocol period, the probes, joining, push-pull and leaving.

import type { Clock, TimerHandle } from '@casty/core';
import { backoffDelay } from '../internal/backoff';
import { ProtocolId } from '../transport/frame';
import type { Logger } from '@casty/core';
import { consoleLogger } from '@casty/core';
import { describeTarget, formatAddress } from '../transport/Transport';
import type { BoundTarget, NodeAddress, NodeId, PeerTarget, Transport, Unsubscribe } from '../transport/Transport';

/** A member as a send target: frames for it reach that node or no one (not another node at its address). */
function at(m: Member): BoundTarget {
  return { nodeId: m.id, address: m.address };
}
import { Awareness } from './awareness';
import { TransmitLimitedQueue } from '../internal/broadcastQueue';
import type { MembershipEvent } from './events';
import { Listeners } from '../internal/Listeners';
import { MemberList } from './MemberList';
import { MemberRules } from './MemberRules';
import type { Member } from './MemberState';
import { isLive, MemberState } from './MemberState';
import { decodeFrame, encodeMessage, encodeFrame, encodePushPull, SwimKind } from './messages';
import type { PushPull, SwimMessage, SwimUpdate } from './messages';
import type { SwimConfig } from './SwimConfig';
import { WarningLimiter } from '../internal/WarningLimiter';

const BAD_FRAME_WARNING_INTERVAL_MS = 10_000;

/** What a Swim engine is built from. */
export interface SwimOptions {
  readonly transport: Transport;
  readonly clock: Clock;
  /** Numbers in [0, 1): probe order, indirect probers, push-pull partners, join jitter. Seed it for repeatable runs. */
  readonly random: () => number;
  readonly config: SwimConfig;
  /** This node: its id (unique in the cluster) and the address peers reach it at. */
  readonly self: { readonly id: NodeId; readonly address: NodeAddress };
  /**
   * Addresses to join through; any one reachable seed is enough. This node's own address may be listed (the
   * same seed list on every node); with no other seed, the node starts a cluster of its own.
   */
  readonly seeds?: readonly NodeAddress[];
  /**
   * Incarnation to start at. Default 0. A node that restarts learns its previous incarnation from the cluster
   * and refutes above it, so this is only needed to rejoin faster.
   */
  readonly incarnation?: number;
  readonly logger?: Logger;
}

/** Members beyond which push-pull slows down (memberlist's pushPullScaleThreshold). */
const PUSH_PULL_SCALE_THRESHOLD = 32;

/** memberlist's pushPullScale: the interval times ceil(log2(n) - log2(32)) + 1 beyond 32 members. */
export function pushPullScale(intervalMs: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  return intervalMs * (Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1);
}

/** Fraction of the probe timeout after which an indirect prober that got no ack sends its nack. */
const NACK_AT = 0.8;

/** See Swim.probeStats. */
export interface ProbeStats {
  readonly probes: number;
  readonly acked: number;
  readonly failed: number;
  readonly maxAckMs: number;
}

interface PendingAck {
  ack(): void;
  nack(): void;
}

type Status = 'new' | 'running' | 'leaving' | 'stopped';

export class Swim {
  readonly id: NodeId;
  readonly address: NodeAddress;
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly config: SwimConfig;
  private readonly logger: Logger;
  /** A sender of malformed frames gets one warning per 10 s, the rest at debug: a peer cannot flood the log. */
  private readonly badFrames: WarningLimiter;
  private readonly seeds: readonly NodeAddress[];
  private readonly list: MemberList;
  private readonly queue: TransmitLimitedQueue;
  private readonly awareness: Awareness;
  private readonly rules: MemberRules;
  private readonly listeners: Listeners<MembershipEvent>;
  private readonly pendingAcks = new Map<number, PendingAck>();
  private probeCounts = { probes: 0, acked: 0, failed: 0, maxAckMs: 0 };
  /** Members declared dead, by id: tried by reconnect until reconnectTimeoutMs has passed. */
  private readonly failed = new Map<NodeId, { readonly address: NodeAddress; readonly at: number }>();
  /** When this node last answered a sender it holds dead or does not know (see noticeSender), so it is not a flood. */
  private readonly senderNotices = new Map<NodeId, number>();
  /** When this node last answered a sender's stale claim about it (see answerStaleClaim). */
  private readonly staleAnswers = new Map<NodeId, number>();
  /** Members with a probe in flight, so an out-of-band probe does not double one. */
  private readonly probing = new Set<NodeId>();
  /** Queue keys of the suspicions queued per member, one per suspecting node (see enqueue). */
  private readonly queuedSuspicions = new Map<NodeId, Set<string>>();
  private readonly timers = new Set<TimerHandle>();
  private unsubscribe: Unsubscribe | undefined;
  private status: Status = 'new';
  private seq = 0;
  private joined = false;
  private joinAttempt = 0;
  private leaveDone: (() => void) | undefined;

  constructor(options: SwimOptions) {
    this.transport = options.transport;
    this.clock = options.clock;
    this.random = options.random;
    this.config = options.config;
    this.logger = options.logger ?? consoleLogger;
    this.id = options.self.id;
    this.address = options.self.address;
    this.seeds = options.seeds ?? [];
    this.list = new MemberList(this.id, this.random);
    this.queue = new TransmitLimitedQueue(this.config.retransmitMult, () => this.list.liveCount());
    // Plain SWIM (Lifeguard off) has no local health: a score that can only be 0.
    this.awareness = new Awareness(this.config.lifeguard ? this.config.awarenessMaxMultiplier : 1);
    this.listeners = new Listeners(this.logger, 'membership');
    this.badFrames = new WarningLimiter(this.clock, this.logger, BAD_FRAME_WARNING_INTERVAL_MS);
    this.rules = new MemberRules({
      self: { id: this.id, address: this.address },
      incarnation: options.incarnation ?? 0,
      clock: this.clock,
      config: this.config,
      list: this.list,
      broadcast: (update) => this.enqueue(update),
      emit: (event) => this.emit(event),
      refuted: () => this.awareness.applyDelta(1),
      isLeaving: () => this.status === 'leaving',
      verify: (id) => this.probeSoon(id),
      hasQuorum: () => this.quorumGate(),
      suspectedByQuorum: (suspecting) => this.suspicionQuorum(suspecting),
    });
  }

  /** See gateOnQuorum. */
  private quorumGate: () => boolean = () => true;
  private suspicionQuorum: (suspecting: ReadonlySet<NodeId>) => boolean = () => false;

  /**
   * Split-brain protection: while `hasQuorum()` is false this node declares no suspect dead (the member stays
   * suspect) and holds back the refutation of its own death (see refuteHeld).
   */
  gateOnQuorum(hasQuorum: () => boolean, suspectedByQuorum?: (suspecting: ReadonlySet<NodeId>) => boolean): void {
    this.quorumGate = hasQuorum;
    if (suspectedByQuorum !== undefined) this.suspicionQuorum = suspectedByQuorum;
  }

  /**
   * Refutes the death this node was told of while it had no quorum, now that it has quorum again: the alive claim
   * goes to every live member at once (not only piggybacked), ahead of anything this node sends them next.
   */
  refuteHeld(): void {
    const alive = this.rules.refuteHeld();
    if (alive === undefined || !this.active) return;
    for (const m of this.list.all()) if (m.id !== this.id && isLive(m)) this.sendFrame(at(m), alive);
  }

  /** This node's current incarnation. */
  get incarnation(): number {
    return this.rules.incarnation;
  }

  /** Lifeguard's local health score (0 is healthy). */
  get healthScore(): number {
    return this.awareness.score;
  }

  /** True once a member of the cluster has answered (or there was no other seed to join through). */
  /**
   * Probes this node sent since the last reset: how many, how many were answered (directly or through the
   * indirect probes) and how many not, and the longest time a probe waited for its answer, in milliseconds.
   * For benchmarks and diagnostics; `reset` starts a new window.
   */
  probeStats(reset = false): ProbeStats {
    const stats = { ...this.probeCounts };
    if (reset) this.probeCounts = { probes: 0, acked: 0, failed: 0, maxAckMs: 0 };
    return stats;
  }

  get isJoined(): boolean {
    return this.joined;
  }

  /** Every member this node knows, itself included, as values (a snapshot). */
  members(): Member[] {
    return this.list.all();
  }

  /** One member as this node sees it, if known. */
  member(id: NodeId): Member | undefined {
    return this.list.get(id);
  }

  /** Listens for membership events; returns the function that stops listening. */
  on(listener: (event: MembershipEvent) => void): Unsubscribe {
    return this.listeners.add(listener);
  }

  /** Starts probing and joins through the seeds (retrying with backoff until one answers). The transport must be started. */
  start(): void {
    if (this.status !== 'new') return;
    this.status = 'running';
    const offFrame = this.transport.onFrame(ProtocolId.SWIM, (from, payload) => this.receive(from, payload));
    // A lost connection is a hint, not a verdict: probe that member now instead of waiting for its turn.
    const offDown = this.transport.onPeerDown((peer) => this.probeSoon(peer.nodeId));
    this.unsubscribe = () => {
      offFrame();
      offDown();
    };
    this.rules.announceSelf();
    // A random first delay keeps nodes started together from probing in lockstep.
    this.after(this.random() * this.config.probeIntervalMs, () => this.probeTick());
    if (this.config.gossipNodes > 0) this.after(this.random() * this.config.gossipIntervalMs, () => this.gossipTick());
    this.after(this.config.reconnectIntervalMs * (0.5 + this.random()), () => this.reconnectTick());
    this.schedulePushPull();
    this.tryJoin();
  }

  /**
   * Leaves gracefully: announces it (piggybacked, and directly to a few members), keeps the protocol running
   * until the announcement has been sent its full retransmit count (memberlist's Leave waits for the same),
   * at most `leavePropagationMs`, then stops. Others see this node as left, not dead. A node with no live
   * peer stops at once.
   */
  async leave(): Promise<void> {
    if (this.status !== 'running') return;
    this.status = 'leaving';
    const left = this.rules.leaveSelf();
    const fanout = this.list.randomMembers(this.config.indirectChecks + 1, (m) => m.id !== this.id && m.state === MemberState.ALIVE);
    for (const m of fanout) this.sendFrame(at(m), left);
    const deadline = this.clock.now() + this.config.leavePropagationMs;
    await new Promise<void>((resolve) => {
      this.leaveDone = resolve;
      const check = (): void => {
        const spread = !this.queue.has(this.id) || this.list.liveCount() === 0;
        if (spread || this.clock.now() >= deadline) this.stop();
        else this.after(Math.min(this.config.gossipIntervalMs, deadline - this.clock.now()), check);
      };
      check();
    });
  }

  /** Stops at once, without announcing anything (to the others this looks like a crash). Idempotent. */
  stop(): void {
    if (this.status === 'stopped') return;
    this.status = 'stopped';
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.timers.clear();
    this.pendingAcks.clear();
    this.probing.clear();
    this.rules.stop();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.leaveDone?.();
    this.leaveDone = undefined;
  }

  /**
   * Pings member `id` once, outside the protocol period, and calls `acked` if its ack comes within `withinMs`
   * (nothing happens otherwise: no suspicion, no indirect probe). Split-brain protection's reachability check
   * (downing/Quorum.ts): SWIM probes one member per period, too slow to learn that most of them are gone.
   */
  ping(id: NodeId, withinMs: number, acked: () => void): void {
    const member = this.list.get(id);
    if (!this.active || member === undefined || id === this.id) return;
    const seq = this.nextSeq();
    let answered = false;
    this.pendingAcks.set(seq, {
      ack: () => {
        if (answered) return;
        answered = true;
        acked();
      },
      nack: () => undefined,
    });
    this.sendFrame(at(member), { kind: SwimKind.PING, seq, target: id });
    this.after(withinMs, () => this.pendingAcks.delete(seq));
  }

  // ---- the protocol period -------------------------------------------------------------------------------

  private probeTick(): void {
    if (!this.active) return;
    const target = this.list.nextProbeTarget(this.clock.now(), this.config.deadMemberRetentionMs);
    if (target !== undefined) this.probe(target);
    this.after(this.awareness.scale(this.config.probeIntervalMs), () => this.probeTick());
  }

  /** Probes `id` now, out of turn, unless it is not live or already being probed. */
  private probeSoon(id: NodeId): void {
    if (!this.active || id === this.id) return;
    const member = this.list.get(id);
    if (member !== undefined && isLive(member)) this.probe(member);
  }

  /** One probe: ping, then indirect pings with nacks after the timeout, then suspicion at the end of the period. */
  private probe(target: Member): void {
    if (this.probing.has(target.id)) return;
    this.probing.add(target.id);
    const seq = this.nextSeq();
    const periodMs = this.awareness.scale(this.config.probeIntervalMs);
    const started = this.clock.now();
    const lifeguard = this.config.lifeguard;
    let acked = false;
    let nacks = 0;
    let expectedNacks = 0;
    this.probeCounts.probes++;
    this.pendingAcks.set(seq, {
      ack: () => {
        if (acked) return;
        acked = true;
        this.probeCounts.acked++;
        this.probeCounts.maxAckMs = Math.max(this.probeCounts.maxAckMs, this.clock.now() - started);
      },
      nack: () => { nacks++; },
    });
    // Buddy system (Lifeguard): a suspect is told it is suspected with the probe itself, so it can refute at once.
    const buddy = lifeguard && target.state === MemberState.SUSPECT
      ? [encodeMessage({ kind: SwimKind.SUSPECT, id: target.id, incarnation: target.incarnation, from: this.id })]
      : [];
    this.sendFrame(at(target), { kind: SwimKind.PING, seq, target: target.id }, buddy);

    this.after(this.awareness.scale(this.config.probeTimeoutMs), () => {
      if (acked) return;
      const helpers = this.list.randomMembers(this.config.indirectChecks,
        (m) => m.id !== this.id && m.id !== target.id && m.state === MemberState.ALIVE);
      expectedNacks = helpers.length;
      for (const helper of helpers) {
        this.sendFrame(at(helper),
          { kind: SwimKind.PING_REQ, seq, target: target.id, targetAddress: target.address, wantNack: lifeguard });
      }
    });

    this.after(periodMs, () => {
      this.pendingAcks.delete(seq);
      this.probing.delete(target.id);
      if (acked) {
        this.awareness.applyDelta(-1);
        return;
      }
      // This timer fired far later than it was due: this process was stalled (a blocked event loop, SIGSTOP,
      // a long GC), and the ack may be sitting unread in a socket buffer. The probe says nothing about the
      // target; it says this node is unhealthy.
      if (this.clock.now() - (started + periodMs) > this.config.probeTimeoutMs) {
        this.logger.debug(`Probe of '${target.id}' ended ${this.clock.now() - started - periodMs} ms late; ` +
          'this node was stalled, so it does not suspect anyone for it');
        this.awareness.applyDelta(1);
        return;
      }
      this.probeCounts.failed++;
      // Lifeguard: missing nacks mean the problem is likely here, not at the target; with no helpers to
      // judge by, any failed probe counts against this node's health.
      this.awareness.applyDelta(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1);
      // A member already suspect is suspected again: that is this node's independent confirmation.
      const current = this.list.get(target.id);
      if (current !== undefined && isLive(current)) {
        this.rules.onSuspect({ kind: SwimKind.SUSPECT, id: current.id, incarnation: current.incarnation, from: this.id });
      }
    });
  }

  // ---- receiving -----------------------------------------------------------------------------------------

  private receive(from: NodeId, payload: Uint8Array): void {
    if (!this.active) return;
    this.noticeSender(from);
    let messages: SwimMessage[];
    try {
      messages = decodeFrame(payload);
    } catch (err) {
      this.badFrames.warn(from, `Dropped a SWIM frame from ${from}`, err, 'more dropped frames from it');
      return;
    }
    // Piggybacked updates first, so an ack this frame triggers already carries any refutation it caused.
    for (const message of messages.slice(1)) this.handle(from, message);
    this.handle(from, messages[0] as SwimMessage);
  }

  private handle(from: NodeId, message: SwimMessage): void {
    switch (message.kind) {
      case SwimKind.PING:
        if (message.target !== this.id) {
          this.logger.debug(`Ignored a ping from ${from} meant for '${message.target}' (this node is '${this.id}')`);
          return;
        }
        this.sendFrame(from, { kind: SwimKind.ACK, seq: message.seq });
        return;
      case SwimKind.PING_REQ:
        this.probeFor(from, message.seq, message.target, message.targetAddress, message.wantNack);
        return;
      case SwimKind.ACK:
        this.pendingAcks.get(message.seq)?.ack();
        return;
      case SwimKind.NACK:
        this.pendingAcks.get(message.seq)?.nack();
        return;
      case SwimKind.PUSH_PULL:
        this.receivePushPull(from, message);
        return;
      default:
        this.answerStaleClaim(from, message);
        this.handleUpdate(message);
    }
  }

  /**
   * A claim that this node is suspect or dead at an incarnation it has already refuted: whoever holds it
   * missed the refutation (its retransmits were spent before they reached it), and the rules rightly ignore a
   * stale claim, so nothing else would correct it until a push-pull (30 s in production): the suspecter's timer
   * fires and it declares this node dead, and its dead notices are ignored as stale too. Answer the sender with
   * this node's current alive, at most once per probe interval per sender.
   */
  private answerStaleClaim(from: NodeId, update: SwimUpdate): void {
    if (update.id !== this.id || (update.kind !== SwimKind.SUSPECT && update.kind !== SwimKind.DEAD)) return;
    if (update.incarnation >= this.rules.incarnation || this.status !== 'running') return;
    const now = this.clock.now();
    const last = this.staleAnswers.get(from);
    if (last !== undefined && now - last < this.config.probeIntervalMs) return;
    this.staleAnswers.set(from, now);
    this.sendFrame(from, { kind: SwimKind.ALIVE, id: this.id, address: this.address, incarnation: this.rules.incarnation });
  }

  private handleUpdate(update: SwimUpdate): void {
    switch (update.kind) {
      case SwimKind.ALIVE: this.rules.onAlive(update); break;
      case SwimKind.SUSPECT: this.rules.onSuspect(update); break;
      case SwimKind.DEAD: this.rules.onDead(update); break;
      case SwimKind.LEFT: this.rules.onLeft(update); break;
    }
    if (!this.joined && update.id !== this.id && this.list.liveCount() > 1) this.markJoined();
  }

  /** An indirect probe on `requester`'s behalf: relay the target's ack, or nack if none comes within the timeout. */
  private probeFor(requester: NodeId, requestSeq: number, target: NodeId, targetAddress: NodeAddress, wantNack: boolean): void {
    // Only a member this node knows is live, at the address this node knows: a ping-req must not make it dial
    // whatever address another node names (unknown targets are answered with a nack, as a probe that failed).
    const member = this.list.get(target);
    if (member === undefined || !isLive(member) || member.id === this.id) {
      this.logger.debug(`Ignored a ping-req from ${requester} for '${target}' at ${formatAddress(targetAddress)}, ` +
        'which is not a live member this node knows');
      if (wantNack) this.sendFrame(requester, { kind: SwimKind.NACK, seq: requestSeq });
      // Declared dead here: say so to the requester, which missed it (its retransmits were spent while the requester
      // was unreachable, or it knows the member at a newer incarnation and took the claim for stale). Without quorum
      // the requester needs a quorum of members that suspect the member before it declares it dead (MemberRules), and
      // members that hold it dead send no suspicions of it any more: the requester stayed without quorum until the heal.
      if (member !== undefined && member.state === MemberState.DEAD && member.id !== this.id) {
        this.sendFrame(requester, { kind: SwimKind.DEAD, id: member.id, incarnation: member.incarnation, from: this.id });
      }
      return;
    }
    const seq = this.nextSeq();
    let acked = false;
    this.pendingAcks.set(seq, {
      ack: () => {
        acked = true;
        this.sendFrame(requester, { kind: SwimKind.ACK, seq: requestSeq });
      },
      nack: () => undefined,
    });
    this.sendFrame(at(member), { kind: SwimKind.PING, seq, target });
    // The nack goes at 80% of the probe timeout (Lifeguard), so it reaches the requester before its period ends.
    this.after(this.config.probeTimeoutMs * NACK_AT, () => {
      this.pendingAcks.delete(seq);
      if (!acked && wantNack) this.sendFrame(requester, { kind: SwimKind.NACK, seq: requestSeq });
    });
  }

  // ---- push-pull and join --------------------------------------------------------------------------------

  private schedulePushPull(): void {
    this.after(pushPullScale(this.config.pushPullIntervalMs, this.list.liveCount()), () => {
      if (!this.active) return;
      const [peer] = this.list.randomMembers(1, (m) => m.id !== this.id && m.state === MemberState.ALIVE);
      if (peer !== undefined) this.sendPushPull(at(peer), false, true);
      this.schedulePushPull();
    });
  }

  private sendPushPull(to: PeerTarget, join: boolean, answer: boolean): void {
    const members = this.list.all().map(({ id, address, incarnation, state }) => ({ id, address, incarnation, state }));
    for (const part of encodePushPull(join, answer, members, this.config.pushPullChunkBytes)) this.sendRaw(to, part);
  }

  private receivePushPull(from: NodeId, message: PushPull): void {
    // Merge first, then answer: a refutation the merge caused (the sender thought this node dead, as after a
    // healed partition) is then in the answer, so the sender takes this node back at once.
    this.rules.mergeState(message.members);
    if (message.answer) this.sendPushPull(from, false, false);
    if (!this.joined) this.markJoined();
  }

  /**
   * Someone this node does not hold alive is talking to it; at most once per probe interval per sender:
   * - a member held dead (a partition healed, or it was wrongly declared dead) is told so, so it refutes with
   *   a higher incarnation and everyone takes it back;
   * - a sender this node does not know at all (it knows this node, so it has a newer view: nodes that joined
   *   together, or an update piggybacking missed) gets a push-pull, and the answer brings its whole view,
   *   instead of waiting for the periodic push-pull.
   */
  private noticeSender(from: NodeId): void {
    const member = this.list.get(from);
    if (member !== undefined && member.state !== MemberState.DEAD) return;
    const now = this.clock.now();
    const last = this.senderNotices.get(from);
    if (last !== undefined && now - last < this.config.probeIntervalMs) return;
    this.senderNotices.set(from, now);
    if (member === undefined) this.sendPushPull(from, false, true);
    else this.sendFrame(at(member), { kind: SwimKind.DEAD, id: member.id, incarnation: member.incarnation, from: this.id });
  }

  /** Gossip round (memberlist gossip()): pending updates to a few random members, recently dead ones included. */
  private gossipTick(): void {
    if (!this.active) return;
    this.after(this.config.gossipIntervalMs, () => this.gossipTick());
    // Nothing to gossip: no need to pick targets (an O(n) pick, five times a second, on every node).
    if (this.queue.size === 0) return;
    const now = this.clock.now();
    const targets = this.list.randomMembers(this.config.gossipNodes, (m) => m.id !== this.id &&
      (isLive(m) || (m.state === MemberState.DEAD && now - m.since < this.config.deadMemberRetentionMs)));
    for (const target of targets) {
      const updates = this.queue.take(0, this.config.maxPacketBytes);
      if (updates.length === 0) return;
      const [first, ...rest] = updates as [Uint8Array, ...Uint8Array[]];
      this.sendRaw(at(target), encodeFrame(first, rest));
    }
  }

  /**
   * Serf's reconnect: a push-pull to one random member declared dead within reconnectTimeoutMs, and to the
   * seeds when this node is alone, so both sides of a partition that outlasted the suspicion timeout merge
   * again (the answer carries the refutations the push-pull caused).
   */
  private reconnectTick(): void {
    if (!this.active) return;
    this.after(this.config.reconnectIntervalMs, () => this.reconnectTick());
    const now = this.clock.now();
    const candidates: BoundTarget[] = [];
    for (const [id, f] of this.failed) {
      const current = this.list.get(id);
      if (now - f.at > this.config.reconnectTimeoutMs || (current !== undefined && isLive(current))) this.failed.delete(id);
      else candidates.push({ nodeId: id, address: f.address });
    }
    const pick = candidates[Math.floor(this.random() * candidates.length)];
    if (pick !== undefined) this.sendPushPull(pick, true, true);
    if (this.list.liveCount() <= 1) {
      const own = formatAddress(this.address);
      for (const seed of this.seeds) if (formatAddress(seed) !== own) this.sendPushPull(seed, true, true);
    }
  }

  private tryJoin(): void {
    if (this.joined || !this.active) return;
    const own = formatAddress(this.address);
    const seeds = this.seeds.filter((s) => formatAddress(s) !== own);
    if (seeds.length === 0) {
      this.markJoined();
      return;
    }
    for (const seed of seeds) this.sendPushPull(seed, true, true);
    const delay = backoffDelay(this.joinAttempt++, {
      initialDelayMs: this.config.joinRetryInitialMs, maxDelayMs: this.config.joinRetryMaxMs, multiplier: 2, jitter: 0.2,
    }, this.random);
    this.after(delay, () => this.tryJoin());
  }

  private markJoined(): void {
    this.joined = true;
    this.emit({ type: 'joined' });
  }

  // ---- sending and plumbing ------------------------------------------------------------------------------

  /** Sends `primary` with `extra` updates and as many queued updates as fit in maxPacketBytes. */
  private sendFrame(to: PeerTarget, primary: SwimMessage, extra: readonly Uint8Array[] = []): void {
    const head = encodeMessage(primary);
    let free = this.config.maxPacketBytes - head.length;
    const forced = extra.filter((u) => {
      if (u.length > free) return false;
      free -= u.length;
      return true;
    });
    this.sendRaw(to, encodeFrame(head, [...forced, ...this.queue.take(0, free)]));
  }

  /** A send that fails (peer unknown, transport closed, backpressure) is a lost packet to SWIM, not an error. */
  private sendRaw(to: PeerTarget, payload: Uint8Array): void {
    try {
      this.transport.send(to, ProtocolId.SWIM, payload);
    } catch (err) {
      this.logger.debug(`SWIM frame to ${describeTarget(to)} not sent`, err as Error);
    }
  }

  private get active(): boolean {
    return this.status === 'running' || this.status === 'leaving';
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  private after(delayMs: number, fn: () => void): void {
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(handle);
      if (this.status !== 'stopped') fn();
    }, delayMs);
    this.timers.add(handle);
  }

  /**
   * Queues an update for piggybacking. Suspicions of one member raised by different nodes are independent
   * confirmations (Lifeguard): each is queued under its own key, so passing on another node's suspicion does
   * not displace this node's own before it has been sent (when a lost connection makes every node suspect a
   * crashed member at once, displaced claims leave each node one confirmation short, and the suspicion runs
   * to its 1-confirmation timeout instead of the minimum). Any other update about the member (alive, dead,
   * left) supersedes them all, and a suspicion supersedes a queued alive.
   */
  private enqueue(update: SwimUpdate): void {
    const message = encodeMessage(update);
    if (update.kind === SwimKind.SUSPECT) {
      const key = `${update.id}\u0000suspect\u0000${update.from}`;
      let keys = this.queuedSuspicions.get(update.id);
      if (keys === undefined) this.queuedSuspicions.set(update.id, (keys = new Set()));
      for (const sent of keys) if (!this.queue.has(sent)) keys.delete(sent); // sent their retransmit count
      keys.add(key);
      this.queue.remove(update.id);
      this.queue.enqueue(key, message);
      return;
    }
    for (const key of this.queuedSuspicions.get(update.id) ?? []) this.queue.remove(key);
    this.queuedSuspicions.delete(update.id);
    this.queue.enqueue(update.id, message);
  }

  private emit(event: MembershipEvent): void {
    if (event.type === 'down') this.failed.set(event.member.id, { address: event.member.address, at: this.clock.now() });
    else if (event.type === 'up' || event.type === 'alive') this.failed.delete(event.member.id);
    // its control lane is made now, not at the first probe or quorum ping (see Transport.open)
    if (event.type === 'up' && event.member.id !== this.id) {
      try {
        this.transport.open?.(at(event.member), 'control');
      } catch (err) {
        this.logger.debug(`Could not open the control lane to ${event.member.id} ahead of time`, err as Error);
      }
    }
    this.listeners.emit(event);
  }
}
