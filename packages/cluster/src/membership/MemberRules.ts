// The rules by which a SWIM node accepts claims about members (memberlist state.go: aliveNode, suspectNode,
// deadNode, mergeState). Incarnation numbers order claims: only the member raises its own, to refute a
// suspicion or to rejoin, so "alive at 5" beats "suspect at 4", and "suspect at 5" beats "alive at 5".
// Every state change goes through the transition table in MemberState.ts. Accepted claims are re-broadcast
// (piggybacked), which is how an update spreads epidemically.

import type { Clock } from '@casty/core';
import { formatAddress } from '../transport/Transport';
import type { NodeAddress, NodeId } from '../transport/Transport';
import { MemberIdConflictError } from './errors';
import type { MembershipEvent } from './events';
import type { MemberList } from './MemberList';
import type { Member } from './MemberState';
import { isLive, MemberState, transition } from './MemberState';
import { SwimKind } from './messages';
import type { Alive, Dead, Left, PushPullMember, Suspect, SwimUpdate } from './messages';
import { Suspicion, suspicionTimeout } from './suspicion';
import type { SwimConfig } from './SwimConfig';

/** What the rules need from the engine. */
export interface MemberRulesContext {
  readonly self: { readonly id: NodeId; readonly address: NodeAddress };
  readonly incarnation: number;
  readonly clock: Clock;
  readonly config: SwimConfig;
  readonly list: MemberList;
  /** Queues an accepted update for piggybacking. */
  broadcast(update: SwimUpdate): void;
  emit(event: MembershipEvent): void;
  /** This node had to refute a suspicion about itself (Lifeguard counts it against local health). */
  refuted(): void;
  /** True while this node is leaving: a claim that it is dead or left is then true, not to be refuted. */
  isLeaving(): boolean;
  /** Another node's view holds `id` suspect or dead where this node holds it alive: probe it now, out of turn. */
  verify(id: NodeId): void;
  /**
   * False while this node has no quorum (split-brain protection). It then declares no member dead (its verdict
   * would be the minority's, and spread to the majority after the heal it would down healthy members there), and
   * holds back the refutation of its own death until it has quorum again (so the others do not count it in their
   * rings, and hand it shards, while it may not host them).
   */
  hasQuorum(): boolean;
  /**
   * True when the members in `suspecting` (this node included) form a quorum of the cluster: then a suspect may be
   * declared dead even without quorum here (a majority whose members all lost quorum a moment, one of them stopped
   * during a partition, kept the minority suspect forever otherwise). A minority never suspects with a quorum, nor
   * does a node that cannot hear the others under one-way loss (they hear them).
   */
  suspectedByQuorum(suspecting: ReadonlySet<NodeId>): boolean;
}

const sameAddress = (a: NodeAddress, b: NodeAddress): boolean => a.host === b.host && a.port === b.port;

export class MemberRules {
  private own: number;
  private readonly suspicions = new Map<NodeId, Suspicion>();
  /** Conflicting claims already reported, so a repeated claim is one event, not one per frame. */
  private readonly reportedConflicts = new Set<string>();

  constructor(private readonly ctx: MemberRulesContext) {
    this.own = ctx.incarnation;
  }

  /** This node's incarnation. */
  get incarnation(): number {
    return this.own;
  }

  /** Puts this node in its own table as alive and queues the claim. */
  announceSelf(): void {
    const { id, address } = this.ctx.self;
    this.ctx.list.set({ id, address, incarnation: this.own, state: MemberState.ALIVE, since: this.ctx.clock.now() });
    this.ctx.broadcast({ kind: SwimKind.ALIVE, id, address, incarnation: this.own });
  }

  /** Marks this node left and queues the announcement; returns it, to be sent directly too. */
  leaveSelf(): Left {
    const left: Left = { kind: SwimKind.LEFT, id: this.ctx.self.id, incarnation: this.own };
    this.change(this.self(), MemberState.LEFT, this.own);
    this.ctx.broadcast(left);
    return left;
  }

  /** Cancels every suspicion timer. */
  stop(): void {
    for (const s of this.suspicions.values()) s.cancel();
    this.suspicions.clear();
  }

  onAlive(a: Alive): void {
    const known = this.ctx.list.get(a.id);
    if (a.id === this.ctx.self.id) {
      this.aliveAboutSelf(a);
      return;
    }
    if (known === undefined) {
      this.ctx.list.set({ id: a.id, address: a.address, incarnation: a.incarnation, state: MemberState.ALIVE, since: this.ctx.clock.now() });
      this.ctx.broadcast(a);
      this.ctx.emit({ type: 'up', member: this.member(a.id) });
      return;
    }
    if (!sameAddress(known.address, a.address) && isLive(known)) {
      // One id, two addresses, and the known one is not known to be gone: two nodes claim the id.
      this.conflict(a.id, known.address, a.address);
      return;
    }
    // A dead or left member's id may be reclaimed at a new address, but only by a newer incarnation.
    if (a.incarnation <= known.incarnation) return;
    this.ctx.broadcast(a);
    const before = known.state;
    this.change({ ...known, address: a.address }, MemberState.ALIVE, a.incarnation);
    if (before === MemberState.DEAD || before === MemberState.LEFT) this.ctx.emit({ type: 'up', member: this.member(a.id) });
    else if (before === MemberState.SUSPECT) this.ctx.emit({ type: 'alive', member: this.member(a.id) });
  }

  onSuspect(s: Suspect): void {
    const known = this.ctx.list.get(s.id);
    if (known === undefined || s.incarnation < known.incarnation) return;
    const suspicion = this.suspicions.get(s.id);
    if (suspicion !== undefined) {
      // Already suspect: an independent confirmation shortens the timer, and is worth passing on.
      if (suspicion.confirm(s.from)) this.ctx.broadcast(s);
      return;
    }
    if (known.state !== MemberState.ALIVE) return;
    if (s.id === this.ctx.self.id) {
      this.refute(s.incarnation);
      return;
    }
    this.ctx.broadcast(s);
    const member = this.change(known, MemberState.SUSPECT, s.incarnation);
    this.startSuspicion(member, s.from);
    this.ctx.emit({ type: 'suspect', member });
  }

  onDead(d: Dead): void {
    this.gone(d, MemberState.DEAD);
  }

  onLeft(l: Left): void {
    this.gone(l, MemberState.LEFT);
  }

  /**
   * Merges a member list from a push-pull (memberlist mergeState). A member the other node thinks dead is
   * never taken for dead second-hand. Where this node holds it alive at the same incarnation, the claim is
   * hearsay against this node's own evidence (typically the other side of a healing partition): this node
   * probes it at once instead of suspecting it, so hundreds of merges do not become hundreds of "independent"
   * confirmations that rush a healthy member's suspicion to its minimum (memberlist suspects here; at 1,000
   * nodes that declared healthy nodes dead while a partition healed). The member still learns the claim and
   * refutes it: the other node tells it. A newer claim (a higher incarnation) is suspected as memberlist does.
   */
  mergeState(members: readonly PushPullMember[]): void {
    for (const r of members) {
      switch (r.state) {
        case MemberState.ALIVE:
          this.onAlive({ kind: SwimKind.ALIVE, id: r.id, address: r.address, incarnation: r.incarnation });
          break;
        case MemberState.SUSPECT:
        case MemberState.DEAD: {
          const known = this.ctx.list.get(r.id);
          if (r.id === this.ctx.self.id && r.state === MemberState.DEAD && r.incarnation >= this.own && !this.ctx.isLeaving()) {
            this.ctx.emit({ type: 'declared-dead', by: undefined });
            if (!this.ctx.hasQuorum()) {
              this.holdRefutation(r.incarnation);
              break;
            }
          }
          if (r.id !== this.ctx.self.id && known?.state === MemberState.ALIVE && r.incarnation === known.incarnation) {
            this.ctx.verify(r.id);
            break;
          }
          this.onSuspect({ kind: SwimKind.SUSPECT, id: r.id, incarnation: r.incarnation, from: this.ctx.self.id });
          break;
        }
        case MemberState.LEFT:
          this.onLeft({ kind: SwimKind.LEFT, id: r.id, incarnation: r.incarnation });
          break;
      }
    }
  }

  private gone(claim: Dead | Left, to: typeof MemberState.DEAD | typeof MemberState.LEFT): void {
    const known = this.ctx.list.get(claim.id);
    if (known === undefined) return;
    if (claim.incarnation < known.incarnation) {
      // Stale: the sender holds the member dead at an incarnation before the one this node knows, so it never heard
      // the refutation, and cannot reach the member either. Where this node suspects it, the sender counts as one
      // more member that does (it sends no suspicion of a member it holds dead): without quorum, this node declares
      // a suspect dead only when a quorum suspects it, and waited for suspicions that never came.
      if (to === MemberState.DEAD && known.state === MemberState.SUSPECT && (claim as Dead).from !== this.ctx.self.id) {
        this.suspicions.get(claim.id)?.confirm((claim as Dead).from);
      }
      return;
    }
    if (known.state === MemberState.DEAD || known.state === MemberState.LEFT) return;
    if (claim.id === this.ctx.self.id) {
      if (this.ctx.isLeaving()) return;
      // Told it is dead at its current incarnation: the others may have moved what it hosts (see downing/Quorum).
      if (to === MemberState.DEAD) {
        this.ctx.emit({ type: 'declared-dead', by: (claim as Dead).from });
        if (!this.ctx.hasQuorum()) {
          this.holdRefutation(claim.incarnation);
          return;
        }
      }
      this.refute(claim.incarnation);
      return;
    }
    this.ctx.broadcast(claim);
    const member = this.change(known, to, claim.incarnation);
    this.ctx.emit({ type: to === MemberState.DEAD ? 'down' : 'left', member });
  }

  private aliveAboutSelf(a: Alive): void {
    const { id, address } = this.ctx.self;
    if (!sameAddress(a.address, address)) {
      this.conflict(id, address, a.address);
      // Keep this node's claim ahead of the other's, so its peers do not switch to the impostor's address.
      if (a.incarnation >= this.own) this.refute(a.incarnation);
      return;
    }
    // Our own claim echoed back changes nothing; a newer one at our address is a previous run of this node
    // (a restart): rejoin above it.
    if (a.incarnation > this.own) this.refute(a.incarnation);
  }

  /** The highest incarnation this node was declared dead at while it had no quorum, not refuted yet. */
  private heldRefutation: number | undefined;

  private holdRefutation(accused: number): void {
    this.heldRefutation = Math.max(this.heldRefutation ?? accused, accused);
  }

  /** Refutes a death held back while this node had no quorum; returns the alive claim it made, if any. */
  refuteHeld(): Alive | undefined {
    const accused = this.heldRefutation;
    if (accused === undefined) return undefined;
    this.heldRefutation = undefined;
    if (accused < this.own) return undefined; // refuted meanwhile
    this.refute(accused);
    const { id, address } = this.ctx.self;
    return { kind: SwimKind.ALIVE, id, address, incarnation: this.own };
  }

  /** Raises this node's incarnation above `accused` and announces it alive (memberlist refute). */
  private refute(accused: number): void {
    this.own = Math.max(this.own + 1, accused + 1);
    const { id, address } = this.ctx.self;
    const self = this.self();
    this.ctx.list.set({ ...self, incarnation: this.own });
    this.ctx.broadcast({ kind: SwimKind.ALIVE, id, address, incarnation: this.own });
    this.ctx.refuted();
  }

  private startSuspicion(member: Member, from: NodeId): void {
    const { config, clock, list } = this.ctx;
    const n = list.liveCount();
    // Confirmations to reach the minimum: suspicionMult - 2, or none when the cluster is too small to give
    // them (n - 2: not counting this node and the suspect).
    let k = config.suspicionMult - 2;
    if (n - 2 < k || !config.lifeguard) k = 0;
    const min = suspicionTimeout(config.suspicionMult, n, config.probeIntervalMs);
    // Plain SWIM (Lifeguard off): one fixed timeout, the minimum.
    const max = config.lifeguard ? config.suspicionMaxTimeoutMult * min : min;
    const since = member.since;
    const timedOut = (): void => {
      const current = list.get(member.id);
      if (current === undefined || current.state !== MemberState.SUSPECT || current.since !== since) return;
      const suspecting = new Set([...(this.suspicions.get(member.id)?.confirmers ?? []), this.ctx.self.id]);
      if (!this.ctx.hasQuorum() && !this.ctx.suspectedByQuorum(suspecting)) {
        // Without quorum: the member stays suspect, and is looked at again each probe interval (with who suspects it).
        const again = new Suspicion(clock, this.ctx.self.id, 0, config.probeIntervalMs, config.probeIntervalMs, timedOut);
        again.absorb(suspecting);
        this.suspicions.set(member.id, again);
        return;
      }
      this.onDead({ kind: SwimKind.DEAD, id: current.id, incarnation: current.incarnation, from: this.ctx.self.id });
    };
    this.suspicions.set(member.id, new Suspicion(clock, from, k, min, max, timedOut, config.probeTimeoutMs));
  }

  /** Moves `member` to `to` (through the transition table when the state changes) at `incarnation`. */
  private change(member: Member, to: MemberState, incarnation: number): Member {
    const changed = member.state !== to;
    if (changed) transition(member.state, to, member.id);
    if (member.state === MemberState.SUSPECT && to !== MemberState.SUSPECT) {
      this.suspicions.get(member.id)?.cancel();
      this.suspicions.delete(member.id);
    }
    const next: Member = { ...member, state: to, incarnation, since: changed ? this.ctx.clock.now() : member.since };
    this.ctx.list.set(next);
    return next;
  }

  private conflict(id: NodeId, known: NodeAddress, claimed: NodeAddress): void {
    const key = `${id}@${formatAddress(claimed)}`;
    if (this.reportedConflicts.has(key)) return;
    this.reportedConflicts.add(key);
    this.ctx.emit({ type: 'conflict', error: new MemberIdConflictError(id, known, claimed) });
  }

  private self(): Member {
    return this.member(this.ctx.self.id);
  }

  private member(id: NodeId): Member {
    return this.ctx.list.get(id) as Member;
  }
}
