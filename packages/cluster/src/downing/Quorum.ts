// Quorum: whether this node may host shards and singletons now (split-brain protection). SWIM lets both sides
// of a partition declare the other dead, and sharding would then run every entity and singleton on both sides;
// so a node hosts only while it can reach a quorum of the last agreed membership (see DowningConfig).
//
// - The last agreed membership is the set of alive members when the view was last stable: no member suspect and
//   no membership change for `stableAfterMs`. It is updated only while this node has quorum, so a minority never
//   shrinks it to itself; while the view is unstable, members that join are added (a larger membership only makes
//   quorum harder to hold) but none is removed.
// - The minority must stop before the majority declares it dead and takes over. SWIM probes one member per
//   period, so waiting for it to suspect every member of the majority takes several periods; instead, while any
//   member of the agreed membership is not alive in this node's view (or one of the few it samples each probe
//   interval did not answer: see sample), this node pings all of them every probe interval and counts the acks
//   that come within the probe timeout: it loses quorum when fewer than a quorum answered two rounds in a row
//   (an ack counts in the round it came in and the next one; see lastRound).
// - A node told that others declared it dead, or whose event loop stalled longer than the suspicion timeout
//   (the others may have declared it dead meanwhile: a SIGSTOP, a long GC), loses quorum at once. The stall is
//   seen by `hasQuorum` itself (the heartbeat timer is overdue), so nothing is served after a stall before it is
//   noticed, whatever order the overdue timers run in.
// - Quorum comes back once a round of pings after the loss was answered by a quorum of members alive in this
//   node's view, and the view has been stable for `stableAfterMs` (long enough for a refutation to spread, so
//   the others count this node in their rings again before it claims anything).

import type { Clock, Logger, TimerHandle } from '@casty/core';
import type { Swim } from '../membership/Swim';
import type { Member } from '../membership/MemberState';
import { isLive, MemberState } from '../membership/MemberState';
import type { MembershipEvent } from '../membership/events';
import { suspicionTimeout } from '../membership/suspicion';
import type { SwimConfig } from '../membership/SwimConfig';
import type { NodeId, Unsubscribe } from '../transport/Transport';
import type { DowningSettings } from './DowningConfig';
import type { QuorumLossReason } from '../events';


/** The rule: do `reachable` members (this node included) form a quorum of `agreed` under `downing`? */
export function isQuorum(downing: Pick<DowningSettings, 'strategy' | 'size'>, agreed: readonly NodeId[],
  reachable: readonly NodeId[]): boolean {
  if (downing.strategy === 'off') return true;
  if (downing.strategy === 'static-quorum') return reachable.length >= downing.size;
  const members = new Set(agreed);
  const inside = reachable.filter((id) => members.has(id));
  if (inside.length * 2 > members.size) return true;
  if (inside.length * 2 < members.size) return false;
  // an exact half: the side with the lowest node id of the agreed membership keeps it (the other half cannot)
  const lowest = [...members].sort()[0];
  return lowest !== undefined && inside.includes(lowest);
}

export interface QuorumOptions {
  readonly swim: Swim;
  readonly clock: Clock;
  readonly swimConfig: SwimConfig;
  readonly downing: DowningSettings;
  readonly logger: Logger;
  /**
   * How long the view must stay unchanged, with no member suspect, before it becomes the agreed membership (and
   * before a node that lost quorum regains it). Default: see defaultStableAfterMs.
   */
  readonly stableAfterMs?: number;
  /** Called when quorum is lost (with why, in words) and when it comes back. */
  readonly changed: (hasQuorum: boolean, reason?: QuorumLossReason, detail?: string) => void;
}

/**
 * The default stable period: the minimum suspicion timeout plus one probe interval (1 s with the development
 * preset, 5 s in production). Measured in the simulation (packages/cluster/test/Quorum.test.ts): the members of one
 * side of a partition are declared dead within one probe interval of each other, so a shorter period would still
 * not take an intermediate view, and this one leaves a refutation time to spread before a node hosts again.
 */
export function defaultStableAfterMs(swim: SwimConfig, members: number): number {
  return suspicionTimeout(swim.suspicionMult, members, swim.probeIntervalMs) + swim.probeIntervalMs;
}

/** Numbers in [0, 1) from a small generator (mulberry32) seeded by a hash of `id`: the same for a node id every run. */
function idRandom(id: string): () => number {
  let state = 2_166_136_261;
  for (let i = 0; i < id.length; i++) state = Math.imul(state ^ id.charCodeAt(i), 16_777_619);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Members pinged each probe interval while no check runs (see sample). */
const SAMPLE_SIZE = 3;

interface Round { readonly sentAt: number; readonly asked: ReadonlySet<NodeId>; readonly answered: Set<NodeId> }

export class Quorum {
  private readonly swim: Swim;
  private readonly clock: Clock;
  private readonly swimConfig: SwimConfig;
  private readonly downing: DowningSettings;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly stableAfterMsOption: number | undefined;
  private readonly changed: QuorumOptions['changed'];
  /** The last agreed membership (this node included); undefined until this node has joined. */
  private agreedSet: Set<NodeId> | undefined;
  private lost: { readonly reason: QuorumLossReason; readonly since: number } | undefined;
  /** When the membership view last changed (any event), on the clock. */
  private lastChange = 0;
  /** The ping round in flight. */
  private round: Round | undefined;
  /**
   * The members that answered the last round to close, with those that answered the one before it; undefined until
   * two rounds have closed since the checks began. One lost ack does not cost quorum, nor does one round during
   * which most members were busy: the first round decided alone before, and on 2 cores, a node joining a cluster
   * whose members each held 5,000 states of 10 KiB lost quorum in a third of the joins (its members' hand-offs held
   * their event loops 100-150 ms at once, past the 100 ms probe timeout of the development preset). Waiting for the
   * second round costs a partitioned minority one probe interval more (the simulated margin before the majority
   * declares it down, packages/cluster/test/downing/Quorum.test.ts, still leaves it more than twice that).
   */
  private lastRound: Round | undefined;
  /** The last round to close, with its own answers only. */
  private closed: Round | undefined;
  private checking = false;
  /** A sampled member did not answer: the checks run until a round is answered by every member asked. */
  private missedSample = false;
  /** Raised each time the checks start or stop, so an old chain of rounds ends. */
  private generation = 0;
  private lastBeat = 0;
  /** When this node joined (its first agreed membership), on the clock. */
  private joinedAt: number | undefined;
  private readonly timers = new Set<TimerHandle>();
  private off: Unsubscribe | undefined;
  private running = false;

  constructor(options: QuorumOptions) {
    this.swim = options.swim;
    this.clock = options.clock;
    this.swimConfig = options.swimConfig;
    this.downing = options.downing;
    this.logger = options.logger;
    // its own sequence (seeded by the node id), so SWIM's seeded choices in a simulation are not shifted by it
    this.random = idRandom(options.swim.id);
    this.stableAfterMsOption = options.stableAfterMs;
    this.changed = options.changed;
  }

  /** Starts the heartbeat (stall detector) and follows SWIM's events. */
  start(): void {
    if (this.running || this.downing.strategy === 'off') return;
    this.running = true;
    this.lastBeat = this.clock.now();
    this.lastChange = this.clock.now();
    this.off = this.swim.on((event) => this.onMembership(event));
    this.beat();
    this.after(this.swimConfig.probeIntervalMs, () => this.sample());
  }

  /**
   * Each probe interval (not scaled by Lifeguard's local health, as SWIM's own probes are: after trouble they slow
   * down as much as eightfold, and a partition would then be suspected too late), pings a few members of the agreed
   * membership; one that does not answer within the probe timeout starts the checks of all of them.
   */
  private sample(): void {
    this.after(this.swimConfig.probeIntervalMs, () => this.sample());
    if (this.checking || this.lost !== undefined || this.agreedSet === undefined) return;
    const others = [...this.agreedSet].filter((id) => id !== this.swim.id);
    const picked: NodeId[] = [];
    while (picked.length < SAMPLE_SIZE && others.length > 0) picked.push(others.splice(Math.floor(this.random() * others.length), 1)[0]!);
    if (picked.length === 0) return;
    const answered = new Set<NodeId>();
    // The ping waits a probe interval for its ack, and the sample is looked at a millisecond after the probe timeout,
    // in a later turn, as a round is closed (see pingRound): after a stall of this node, its overdue timers ran before
    // the acks that came meanwhile were read (a ping waiting only the probe timeout had dropped them by then).
    for (const id of picked) this.swim.ping(id, this.swimConfig.probeIntervalMs, () => answered.add(id));
    this.after(this.swimConfig.probeTimeoutMs, () => this.after(1, () => {
      if (this.checking || this.lost !== undefined || picked.every((id) => answered.has(id))) return;
      this.logger.debug(`Node '${this.swim.id}': ${picked.filter((id) => !answered.has(id)).join(', ')} did not answer a ` +
        `sample ping within ${this.swimConfig.probeTimeoutMs} ms: it pings every member each probe interval now`);
      this.missedSample = true; // the checks go on until a round is answered by every member asked
      this.startChecking();
    }));
  }

  stop(): void {
    this.running = false;
    this.off?.();
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
  }

  /**
   * True while this node may host: it has quorum (or has not joined yet: it hosts nothing then anyway). A stall
   * longer than the suspicion timeout is noticed here, at the first call after it.
   */
  get hasQuorum(): boolean {
    if (this.downing.strategy === 'off') return true;
    if (this.lost === undefined && this.running && this.clock.now() - this.lastBeat > this.beatMs + this.stallMs) {
      this.lose('stalled', `this node's event loop stalled for ${this.clock.now() - this.lastBeat} ms, longer than the ` +
        `suspicion timeout (${this.stallMs} ms): the others may have declared it dead and taken over what it hosts`);
    }
    return this.lost === undefined;
  }

  /** Do `members` (this node's included) form a quorum of the last agreed membership (see isQuorum)? */
  isQuorumOf(members: ReadonlySet<NodeId>): boolean {
    if (this.downing.strategy === 'off' || this.agreedSet === undefined) return false;
    return isQuorum(this.downing, this.agreed, [...members]);
  }

  /** The last agreed membership, sorted (empty before this node has joined). */
  get agreed(): NodeId[] {
    return [...(this.agreedSet ?? [])].sort();
  }

  /** Why quorum is lost, or undefined while it is held. */
  get lossReason(): QuorumLossReason | undefined {
    return this.lost?.reason;
  }

  /** See QuorumOptions.stableAfterMs. */
  get stableAfterMs(): number {
    return this.stableAfterMsOption ?? defaultStableAfterMs(this.swimConfig, this.agreedSet?.size ?? 1);
  }

  /** The heartbeat interval: half a probe interval. */
  private get beatMs(): number {
    return Math.max(1, Math.floor(this.swimConfig.probeIntervalMs / 2));
  }

  /** A stall at least this long may have let the others declare this node dead: the minimum suspicion timeout. */
  private get stallMs(): number {
    return suspicionTimeout(this.swimConfig.suspicionMult, Math.max(1, this.agreedSet?.size ?? 1), this.swimConfig.probeIntervalMs);
  }

  private onMembership(event: MembershipEvent): void {
    if (event.type === 'conflict' || event.type === 'joined') {
      this.evaluate();
      return;
    }
    if (event.type === 'declared-dead') {
      // Just started (not joined, or joined less than a stable period ago): the claim is about an earlier run of this
      // node id, which the others still hold dead; this run hosts nothing they count, and refutes it at once.
      if (this.joinedAt === undefined || this.clock.now() - this.joinedAt < this.stableAfterMs) return;
      this.lose('declared-dead', `member '${event.by ?? 'another member'}' declared this node dead: the others may have ` +
        'taken over what it hosts');
      return;
    }
    this.lastChange = this.clock.now();
    // a graceful leave is not a failure: the agreed membership shrinks at once
    if (event.type === 'left') this.agreedSet?.delete(event.member.id);
    this.evaluate();
  }

  private beat(): void {
    if (!this.running) return;
    // a stall noticed here if no call to hasQuorum noticed it first
    void this.hasQuorum;
    this.lastBeat = this.clock.now();
    this.evaluate();
    this.after(this.beatMs, () => this.beat());
  }

  /** Re-reads the view: starts or stops the ping rounds, loses or regains quorum, updates the agreed membership. */
  private evaluate(): void {
    if (!this.running) return;
    const now = this.clock.now();
    const view = new Map<NodeId, Member>(this.swim.members().map((m) => [m.id, m]));
    const self = this.swim.id;
    if (this.agreedSet === undefined) {
      if (!this.swim.isJoined) return;
      // the first view after joining is taken as it is: a join's push-pull brings every member at once
      this.joinedAt = now;
      this.agreedSet = new Set(this.swim.members().filter((m) => m.state === MemberState.ALIVE).map((m) => m.id));
    }
    const base = this.baseMembers(view);
    const allAlive = base.every((id) => id === self || view.get(id)?.state === MemberState.ALIVE);
    const wantChecking = !allAlive || this.lost !== undefined || this.missedSample;
    if (wantChecking && !this.checking) this.startChecking();
    else if (!wantChecking && this.checking) this.stopChecking();

    const stable = now - this.lastChange >= this.stableAfterMs &&
      this.swim.members().every((m) => m.state !== MemberState.SUSPECT);
    if (this.lost === undefined) {
      if (!this.checking && !isQuorum(this.downing, base, base.filter((id) => id === self || view.get(id)?.state === MemberState.ALIVE))) {
        // static-quorum: fewer members than its size (a node starting alone, or members gone)
        this.lose('minority', `${base.length} members are reachable, fewer than the static quorum of ${this.downing.size}`);
        return;
      }
      if (this.checking && this.lastRound !== undefined && !this.roundHasQuorum(this.lastRound, view, base)) {
        const answered = [...this.lastRound.answered].sort();
        this.lose('minority', `only ${answered.length + 1} of the ${base.length} members of the last agreed membership ` +
          `(${base.join(', ')}) answered (this node${answered.length > 0 ? `, ${answered.join(', ')}` : ''}): ` +
          `this node is on the minority side of a partition`);
        return;
      }
      if (this.downing.strategy === 'keep-majority') {
        // a member that joins counts at once (a larger membership only makes quorum harder to hold); one that is
        // gone leaves it only once the view is stable, so an intermediate view is never agreed
        if (stable) this.agree(view);
        else this.addJoined(view);
      }
      return;
    }
    const round = this.lastRound;
    if (round !== undefined && round.sentAt > this.lost.since && stable && this.roundHasQuorum(round, view, base) &&
      isQuorum(this.downing, base, base.filter((id) => id === self || view.get(id)?.state === MemberState.ALIVE))) {
      this.lost = undefined;
      this.logger.warn(`Node '${self}' has quorum again: it hosts shards and singletons again`);
      // its death (if it was told of one) is refuted now, before it claims anything: the others then count it in
      // their rings before its regions ask them for shards
      this.swim.refuteHeld();
      this.changed(true);
      if (this.downing.strategy === 'keep-majority') this.agree(view);
      this.evaluate();
    }
  }

  /** The members quorum is counted over: the agreed membership, or with static-quorum every live member. */
  private baseMembers(view: ReadonlyMap<NodeId, Member>): NodeId[] {
    if (this.downing.strategy === 'static-quorum') return [...view.values()].filter(isLive).map((m) => m.id).sort();
    return this.agreed;
  }

  /**
   * Did this round's answers (from members live in this node's view), with this node, make a quorum? A member that
   * joined the counted ones after the round was sent (it was not asked) counts while it is alive in the view.
   */
  private roundHasQuorum(round: Round, view: ReadonlyMap<NodeId, Member>, base: readonly NodeId[]): boolean {
    const reachable = [this.swim.id, ...base.filter((id) => {
      const m = view.get(id);
      if (m === undefined || id === this.swim.id) return false;
      return round.asked.has(id) ? round.answered.has(id) && isLive(m) : m.state === MemberState.ALIVE;
    })];
    return isQuorum(this.downing, base, reachable);
  }

  /** The stable view becomes the agreed membership (only while this node has quorum). */
  private agree(view: ReadonlyMap<NodeId, Member>): void {
    const alive = [...view.values()].filter((m) => m.state === MemberState.ALIVE).map((m) => m.id).sort();
    const before = this.agreed;
    if (alive.length === before.length && alive.every((id, i) => id === before[i])) return;
    this.agreedSet = new Set(alive);
    this.logger.debug(`Node '${this.swim.id}': agreed membership is now ${alive.join(', ')}`);
  }

  /** Members alive in the view but not in the agreed membership join it. */
  private addJoined(view: ReadonlyMap<NodeId, Member>): void {
    const agreed = this.agreedSet;
    if (agreed === undefined) return;
    for (const m of view.values()) {
      if (m.state === MemberState.ALIVE && !agreed.has(m.id)) {
        agreed.add(m.id);
        this.logger.debug(`Node '${this.swim.id}': '${m.id}' joins the agreed membership`);
      }
    }
  }

  private lose(reason: QuorumLossReason, detail: string): void {
    // already lost: the others repeat that this node is dead until it refutes, which it does only once stable
    if (this.lost !== undefined) return;
    this.lastChange = this.clock.now();
    this.lost = { reason, since: this.clock.now() };
    this.lastRound = undefined;
    this.closed = undefined;
    this.logger.warn(`Node '${this.swim.id}' lost quorum: ${detail}. It stops hosting shards and singletons until ` +
      'it reaches a quorum of the cluster again');
    this.changed(false, reason, detail);
    if (!this.checking && this.running) this.startChecking();
  }

  private startChecking(): void {
    this.checking = true;
    this.generation++;
    this.lastRound = undefined;
    this.closed = undefined;
    this.pingRound(this.generation);
  }

  private stopChecking(): void {
    this.checking = false;
    this.generation++;
    this.round = undefined;
    this.lastRound = undefined;
    this.closed = undefined;
  }

  /** Pings every member counted; closes the round after the probe timeout, and starts the next each probe interval. */
  private pingRound(generation: number): void {
    if (!this.checking || !this.running || generation !== this.generation) return;
    const sentAt = this.clock.now();
    const view = new Map<NodeId, Member>(this.swim.members().map((m) => [m.id, m]));
    const asked = new Set(this.baseMembers(view).filter((id) => id !== this.swim.id));
    const round: Round = { sentAt, asked, answered: new Set<NodeId>() };
    this.round = round;
    // An ack that comes after the round closed still counts, in the next window (see lastRound): the ping waits for
    // it two probe intervals.
    for (const id of asked) this.swim.ping(id, 2 * this.swimConfig.probeIntervalMs, () => round.answered.add(id));
    // Closed a millisecond after the probe timeout, in a later turn of the event loop: after a stall of this node (a
    // long GC, a restore's load), the overdue timers run before the acks that came meanwhile are read, and every
    // round then closed unanswered; the extra timer lets the loop read its sockets first. Majority nodes lost quorum
    // that way under load in real processes (not seen in the simulation, whose deliveries are timers too).
    this.after(this.swimConfig.probeTimeoutMs, () => this.after(1, () => {
      if (this.round !== round || generation !== this.generation) return;
      // the window: this round's answers and the previous round's
      const previous = this.closed;
      this.closed = round;
      if ([...round.asked].every((id) => round.answered.has(id))) this.missedSample = false;
      this.lastRound = previous === undefined ? undefined : { sentAt: previous.sentAt,
        asked: new Set([...previous.asked, ...round.asked]), answered: new Set([...previous.answered, ...round.answered]) };
      this.evaluate();
    }));
    this.after(this.swimConfig.probeIntervalMs, () => this.pingRound(generation));
  }

  private after(delayMs: number, fn: () => void): void {
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(handle);
      if (this.running) fn();
    }, delayMs);
    this.timers.add(handle);
  }
}
