// The measurements of a ClusterSimulation: the membership event log with each node's view as its events tell
// it, frame counts per node, gossip updates' arrival times, and the figures taken from them (how fast news
// spreads, false positives, convergence, the suspicion bound). The driver (ClusterSimulation) starts nodes,
// moves time and injects faults; it feeds this what happens and asks it what was seen.

import type { Gossip } from '../gossip/Gossip';
import type { MembershipEvent } from '../membership/events';
import { suspicionTimeout } from '../membership/suspicion';
import type { Swim } from '../membership/Swim';
import type { SwimConfig } from '../membership/SwimConfig';
import { SwimKind } from '../membership/messages';
import { ProtocolId } from '../transport/frame';
import type { NodeId } from '../transport/Transport';
import type { InMemoryTransport } from './InMemoryTransport';

/** One membership event as a node saw it, at a simulated time. */
export interface SimEvent {
  /** Simulated milliseconds since the simulation began. */
  readonly at: number;
  /** The node that saw it. */
  readonly observer: NodeId;
  readonly type: MembershipEvent['type'];
  /** The member it is about (absent for 'joined' and 'conflict'). */
  readonly member?: NodeId;
  readonly incarnation?: number;
}

/** Frames (and bytes) one node has sent, per protocol; SWIM frames also by what they are for. */
export interface SentCounts {
  /** Every SWIM frame. */
  swim: number;
  /** SWIM probes: ping, ping-req, ack, nack (with piggybacked updates). */
  swimProbes: number;
  /** SWIM gossip rounds (frames of updates only) and leave notices. */
  swimGossip: number;
  /** SWIM push-pull parts (periodic syncs, joins, reconnects). */
  swimPushPull: number;
  swimBytes: number;
  /** Every key-value gossip frame (deltas, digests, requests, entries). */
  gossip: number;
  gossipBytes: number;
}

/** Counts at zero. */
export const noneSent = (): SentCounts => ({ swim: 0, swimProbes: 0, swimGossip: 0, swimPushPull: 0, swimBytes: 0, gossip: 0, gossipBytes: 0 });

/** False positives: 'down' events about members that never crashed. */
export interface FalsePositives {
  /** Every such event, at any observer, about any member that was running (not crashed, not leaving). */
  readonly total: number;
  /** About healthy members (not degraded), seen by healthy observers: the headline figure. */
  readonly healthyAtHealthy: number;
  /**
   * The wrong declarations behind healthyAtHealthy: distinct member@incarnation (one node's wrong verdict
   * spreads to nearly every other as a dead notice, so one episode is about N events).
   */
  readonly episodes: number;
  /** About healthy members, seen by degraded observers. */
  readonly healthyAtDegraded: number;
  /** About degraded members (lossy or slow, but running), at any observer. */
  readonly aboutDegraded: number;
  /** Distinct members wrongly declared dead by someone. */
  readonly members: number;
  /** 'down' about members that had left gracefully (a missed leave notice, not a failure detection). */
  readonly aboutLeft: number;
}

/** How an update spread: when it was made and when each node had it. */
export interface Spread {
  readonly startedAt: number;
  /** Nodes that should have it (running, the originator excluded). */
  readonly population: number;
  /** Milliseconds from the update until each node that has it got it, ascending. */
  readonly delays: readonly number[];
}

/** The smallest number of nodes that is at least `fraction` of `population`. */
export function quorum(fraction: number, population: number): number {
  return Math.min(population, Math.ceil(fraction * population - 1e-9));
}

/** What the measurements need of a node (a SimNode). */
export interface MeasuredNode {
  readonly id: NodeId;
  readonly status: 'running' | 'crashed' | 'left';
  readonly stoppedAt: number | undefined;
  readonly degraded: boolean;
}

/** The key prefix of the updates the driver writes; every node subscribes to it to time their arrival. */
export const KEY_PREFIX = 'sim/';

/** Counts what `transport` sends into `sent` (per protocol, SWIM frames also by what they are for). */
export function countSends(transport: InMemoryTransport, sent: SentCounts): void {
  const send = transport.send.bind(transport);
  transport.send = (to, protocol, payload) => {
    send(to, protocol, payload);
    if (protocol === ProtocolId.SWIM) {
      // A frame's first byte is the kind of its first message, which says what the frame is for.
      const kind = payload[0] as number;
      if (kind === SwimKind.PUSH_PULL) sent.swimPushPull++;
      else if (kind <= SwimKind.NACK) sent.swimProbes++;
      else sent.swimGossip++;
      sent.swim++;
      sent.swimBytes += payload.length;
    } else if (protocol === ProtocolId.GOSSIP) {
      sent.gossip++;
      sent.gossipBytes += payload.length;
    }
  };
}

/** The event log, each node's view and the arrivals of written keys, and the figures taken from them. */
export class SimulationMeasurements {
  /** Every membership event since the last resetLog(), in order. */
  log: SimEvent[] = [];
  /** Each node's view as its events tell it: member id -> state, and how many it sees alive, and alive or suspect. */
  private readonly views = new Map<NodeId, View>();
  /** When each node first had each written key. */
  private readonly arrivals = new Map<string, Map<NodeId, number>>();
  private readonly writes = new Map<string, { readonly at: number; readonly by: NodeId }>();

  /** `now`: the simulated time; `nodes`: every node, in start order; `node`: one node by id (throws if unknown). */
  constructor(private readonly now: () => number, private readonly nodes: () => Iterable<MeasuredNode>,
    private readonly node: (id: NodeId) => MeasuredNode) {}

  /** Starts recording node `id`: its membership events, and when written keys reach it. */
  watch(id: NodeId, swim: Swim, gossip: Gossip | undefined): void {
    const view: View = { states: new Map(), alive: 0, live: 0 };
    this.views.set(id, view);
    swim.on((event) => this.record(id, view, event));
    gossip?.subscribe(`${KEY_PREFIX}**`, (change) => {
      const seen = this.arrivals.get(change.key);
      if (seen !== undefined && !seen.has(id)) seen.set(id, this.now());
    });
  }

  /** Starts timing the spread of `key`, written now by node `by`. */
  written(key: string, by: NodeId): void {
    this.arrivals.set(key, new Map([[by, this.now()]]));
    this.writes.set(key, { at: this.now(), by });
  }

  /** How the gossip update `key` (from write) has spread to the running nodes so far. */
  keySpread(key: string): Spread {
    const write = this.writes.get(key);
    const seen = this.arrivals.get(key);
    if (write === undefined || seen === undefined) throw new Error(`keySpread: ${key} was not written with write()`);
    return this.spread(write.at, write.by, (id) => seen.get(id));
  }

  /**
   * How news of member `member` (a membership event of `type`, e.g. 'up' for a join, 'down' for a crash)
   * has spread to the running nodes since `since`, from the event log.
   */
  memberSpread(member: NodeId, type: SimEvent['type'], since: number): Spread {
    const first = new Map<NodeId, number>();
    for (let i = this.logIndexAt(since); i < this.log.length; i++) {
      const e = this.log[i] as SimEvent;
      if (e.member === member && e.type === type && !first.has(e.observer)) first.set(e.observer, e.at);
    }
    return this.spread(since, member, (id) => first.get(id));
  }

  /** The logged events at or after simulated time `at`. */
  eventsSince(at: number): SimEvent[] {
    return this.log.slice(this.logIndexAt(at));
  }

  /** Forgets the event log (views are kept): what follows is measured from a clean slate. */
  resetLog(): void {
    this.log = [];
  }

  /**
   * 'down' events in the log (from `since` on) about members that had not crashed: see FalsePositives.
   * `ignore` leaves out events that are not false positives in a scenario (across a partition, say).
   */
  falsePositives(since = 0, ignore?: (event: SimEvent) => boolean): FalsePositives {
    let total = 0;
    let healthyAtHealthy = 0;
    let healthyAtDegraded = 0;
    let aboutDegraded = 0;
    let aboutLeft = 0;
    const members = new Set<NodeId>();
    const episodes = new Set<string>();
    const known = new Map([...this.nodes()].map((n) => [n.id, n]));
    for (let i = this.logIndexAt(since); i < this.log.length; i++) {
      const e = this.log[i] as SimEvent;
      if (e.type !== 'down' || e.member === undefined || ignore?.(e) === true) continue;
      const member = known.get(e.member);
      if (member === undefined) continue;
      const stopped = member.stoppedAt !== undefined && member.stoppedAt <= e.at;
      if (stopped && member.status === 'crashed') continue;
      if (stopped) {
        aboutLeft++;
        continue;
      }
      total++;
      members.add(e.member);
      if (member.degraded) aboutDegraded++;
      else if (this.node(e.observer).degraded) healthyAtDegraded++;
      else {
        healthyAtHealthy++;
        episodes.add(`${e.member}@${e.incarnation}`);
      }
    }
    return { total, healthyAtHealthy, episodes: episodes.size, healthyAtDegraded, aboutDegraded, members: members.size, aboutLeft };
  }

  /**
   * True when every running node sees exactly the running nodes (itself aside) alive, and no other member
   * alive or suspect; with `groups` (node ids, as for a partition), exactly the running nodes of its own group.
   */
  converged(groups?: ReadonlyArray<readonly NodeId[]>): boolean {
    const running = this.running();
    const parts = groups === undefined ? [running] : groups.map((g) => g.map((id) => this.node(id)).filter((n) => n.status === 'running'));
    for (const part of parts) {
      for (const n of part) {
        const view = this.views.get(n.id) as View;
        if (view.alive !== part.length - 1 || view.live !== part.length - 1) return false;
      }
    }
    for (const part of parts) {
      for (const n of part) {
        const states = (this.views.get(n.id) as View).states;
        for (const m of part) if (m !== n && states.get(m.id) !== 'alive') return false;
      }
    }
    return true;
  }

  /** How many running nodes see `member` as `state` ('alive', 'suspect', 'dead', 'left'; 'unknown' if never heard of). */
  seenAs(member: NodeId, state: string): number {
    let count = 0;
    for (const n of this.running()) {
      if (n.id !== member && ((this.views.get(n.id) as View).states.get(member) ?? 'unknown') === state) count++;
    }
    return count;
  }

  private running(): MeasuredNode[] {
    return [...this.nodes()].filter((n) => n.status === 'running');
  }

  /** The index of the first logged event at or after `at` (the log is in time order). */
  private logIndexAt(at: number): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.log[mid] as SimEvent).at < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private spread(startedAt: number, origin: NodeId, arrival: (id: NodeId) => number | undefined): Spread {
    const delays: number[] = [];
    let population = 0;
    for (const n of this.running()) {
      if (n.id === origin) continue;
      population++;
      const at = arrival(n.id);
      if (at !== undefined) delays.push(at - startedAt);
    }
    delays.sort((a, b) => a - b);
    return { startedAt, population, delays };
  }

  private record(observer: NodeId, view: View, event: MembershipEvent): void {
    const member = 'member' in event ? event.member : undefined;
    this.log.push(member === undefined
      ? { at: this.now(), observer, type: event.type }
      : { at: this.now(), observer, type: event.type, member: member.id, incarnation: member.incarnation });
    if (member === undefined) return;
    const state = STATE_AFTER[event.type];
    if (state === undefined) return;
    const before = view.states.get(member.id);
    if (before === 'alive') view.alive--;
    if (before === 'alive' || before === 'suspect') view.live--;
    if (state === 'alive') view.alive++;
    if (state === 'alive' || state === 'suspect') view.live++;
    view.states.set(member.id, state);
  }
}

/** One node's view of the others, kept from its membership events. */
interface View {
  readonly states: Map<NodeId, string>;
  alive: number;
  /** Alive or suspect. */
  live: number;
}

/** A member's state in its observer's view after each membership event about it. */
const STATE_AFTER: Partial<Record<MembershipEvent['type'], string>> = {
  up: 'alive', alive: 'alive', suspect: 'suspect', down: 'dead', left: 'left',
};

/** The longest a suspicion can last in a cluster of `n` before the suspect is declared dead (no confirmations). */
export function maxSuspicionMs(config: SwimConfig, n: number): number {
  const min = suspicionTimeout(config.suspicionMult, n, config.probeIntervalMs);
  return config.lifeguard ? config.suspicionMaxTimeoutMult * min : min;
}

/**
 * The suspicion bound for a cluster of `n`: one protocol period (with n members each probing one member a
 * period, a crashed member is probed about once a period) plus the longest a suspicion can run
 * (maxSuspicionMs). A crash should be known to every member within it.
 */
export function suspicionBoundMs(config: SwimConfig, n: number): number {
  return config.probeIntervalMs + maxSuspicionMs(config, n);
}

/** When `fraction` of the population had the update (ms after it was made), or undefined if not yet. */
export function timeToFraction(spread: Spread, fraction: number): number | undefined {
  const needed = quorum(fraction, spread.population);
  if (needed === 0) return 0;
  return spread.delays[needed - 1];
}
