// The member table of one SWIM node and the order it probes in (memberlist's nodes slice and nodeMap).
// Probing walks a shuffled list round-robin, reshuffled each round: every member is probed once per round
// (a bounded, not just expected, detection time) in an order other nodes cannot predict or align with.
// New members are inserted at a random place, so a burst of joins is not probed last.

import { shuffle } from '../internal/shuffle';
import type { NodeId } from '../transport/Transport';
import type { Member } from './MemberState';
import { isLive, MemberState } from './MemberState';

/** randomMembers samples (instead of shuffling every member) when there are more than this many members per pick. */
const SAMPLE_ABOVE = 8;
/** Random draws per wanted member before randomMembers falls back to searching every member. */
const SAMPLE_DRAWS = 4;

export class MemberList {
  private readonly byId = new Map<NodeId, Member>();
  private probeOrder: NodeId[] = [];
  private probeIndex = 0;

  constructor(private readonly selfId: NodeId, private readonly random: () => number) {}

  get(id: NodeId): Member | undefined {
    return this.byId.get(id);
  }

  /** Adds or replaces a member; a new one joins the probe order at a random place. */
  set(member: Member): void {
    if (!this.byId.has(member.id) && member.id !== this.selfId) {
      const at = Math.floor(this.random() * (this.probeOrder.length + 1));
      this.probeOrder.splice(at, 0, member.id);
      if (at < this.probeIndex) this.probeIndex++;
    }
    this.byId.set(member.id, member);
  }

  /** Every member, this node included. */
  all(): Member[] {
    return [...this.byId.values()];
  }

  /** Members that are alive or suspect, this node included: the cluster size that timeouts and limits scale with. */
  liveCount(): number {
    let n = 0;
    for (const m of this.byId.values()) if (isLive(m)) n++;
    return n;
  }

  /**
   * The next member to probe: round-robin over the shuffled order, skipping dead and left members. At the
   * end of a round the order is reshuffled and members dead or left for longer than `retentionMs` are forgotten.
   */
  nextProbeTarget(now: number, retentionMs: number): Member | undefined {
    for (let checked = 0; checked <= this.probeOrder.length; checked++) {
      if (this.probeIndex >= this.probeOrder.length) this.newRound(now, retentionMs);
      const id = this.probeOrder[this.probeIndex++];
      const member = id === undefined ? undefined : this.byId.get(id);
      if (member !== undefined && isLive(member)) return member;
    }
    return undefined;
  }

  /**
   * Up to `k` distinct random members for which `accept` holds (memberlist's kRandomNodes). A large cluster
   * is sampled: random draws from the probe order until k are found, O(k) when most members qualify; when
   * the draws fall short (few qualify) or the cluster is small, every member is searched, in random order.
   */
  randomMembers(k: number, accept: (member: Member) => boolean): Member[] {
    const n = this.probeOrder.length;
    if (k > 0 && n > SAMPLE_ABOVE * k) {
      const out: Member[] = [];
      const drawn = new Set<NodeId>();
      for (let draws = 0; draws < SAMPLE_DRAWS * k && out.length < k; draws++) {
        const id = this.probeOrder[Math.floor(this.random() * n)] as NodeId;
        if (drawn.has(id)) continue;
        drawn.add(id);
        const member = this.byId.get(id);
        if (member !== undefined && accept(member)) out.push(member);
      }
      if (out.length === k) return out;
    }
    const candidates = [...this.byId.values()].filter(accept);
    shuffle(candidates, this.random);
    return candidates.slice(0, k);
  }

  private newRound(now: number, retentionMs: number): void {
    for (const [id, m] of this.byId) {
      const gone = m.state === MemberState.DEAD || m.state === MemberState.LEFT;
      if (gone && id !== this.selfId && now - m.since > retentionMs) this.byId.delete(id);
    }
    this.probeOrder = this.probeOrder.filter((id) => this.byId.has(id));
    shuffle(this.probeOrder, this.random);
    this.probeIndex = 0;
  }
}
