// ClusterSimulation: a deterministic simulation of a whole cluster in one process. N nodes, each a real Swim
// engine (membership) and a real Gossip engine (key-value, its membership view the node's Swim), over one
// InMemoryNetwork on one ManualClock; every random choice (probe order, peers, drops, the scenario's own
// picks) comes from a source seeded from one number, so a seed replays exactly the same run.
//
// It injects the faults of the issue's scenarios (crash, packet loss, partition and heal, a slow node, churn),
// records every membership event with its simulated time and counts the frames each node sends, and measures
// from those: how fast a crash becomes known, how fast an update spreads, false positives. Time moves with
// ManualClock.advanceSync and frames are delivered on the clock, so nothing yields to the event loop and a
// thousand nodes simulate far faster than real time. A failed wait prints the seed and each node's view.

import { ManualClock } from '@casty/core/testing';
import { Gossip } from '../gossip/Gossip';
import { GossipConfig } from '../gossip/GossipConfig';
import type { MembershipEvent } from '../membership/events';
import { suspicionTimeout } from '../membership/suspicion';
import { Swim } from '../membership/Swim';
import { SwimConfig } from '../membership/SwimConfig';
import { SwimKind } from '../membership/messages';
import { ProtocolId } from '../transport/frame';
import type { TransportLogger } from '../transport/logger';
import type { NodeAddress, NodeId } from '../transport/Transport';
import { CapturingLogger } from './CapturingLogger';
import { InMemoryNetwork } from './InMemoryNetwork';
import type { InMemoryTransport } from './InMemoryTransport';
import { seededRandom } from './seededRandom';

/** How a ClusterSimulation is set up. */
export interface ClusterSimulationOptions {
  /** The one seed every random source of the run is derived from. */
  readonly seed: number;
  /** SWIM settings of every node. Default SwimConfig.production(). */
  readonly swim?: SwimConfig;
  /** Gossip settings of every node; null runs SWIM alone. Default GossipConfig.production(). */
  readonly gossip?: GossipConfig | null;
  /** Milliseconds every frame takes on the network (one way). Default 1. */
  readonly latencyMs?: number;
  /** Logger of every node and the network. Default: a CapturingLogger keeping the last 200 entries. */
  readonly logger?: TransportLogger;
}

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

const noneSent = (): SentCounts => ({ swim: 0, swimProbes: 0, swimGossip: 0, swimPushPull: 0, swimBytes: 0, gossip: 0, gossipBytes: 0 });

/** What the simulation knows about one node: its engines and what happened to it. */
export interface SimNode {
  readonly id: NodeId;
  readonly index: number;
  readonly address: NodeAddress;
  readonly transport: InMemoryTransport;
  readonly swim: Swim;
  readonly gossip: Gossip | undefined;
  /** running, crashed (stopped without a word) or left (gracefully). */
  status: 'running' | 'crashed' | 'left';
  readonly startedAt: number;
  /** When it crashed or began leaving. */
  stoppedAt: number | undefined;
  /** Faults were injected on its own links (loss, delay): it is not a healthy node while they last. */
  degraded: boolean;
  readonly sent: SentCounts;
}

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

/** Options of startNodes. */
export interface StartOptions {
  /** Nodes that start first, one after another through node 0, and that the others join through. Default 3. */
  readonly seedNodes?: number;
  /** Nodes started together after the seeds. Default 100. */
  readonly batchSize?: number;
  /** Simulated milliseconds between two batches. Default 1000. */
  readonly batchGapMs?: number;
}

/** Derives an independent 32-bit seed for `stream`/`index` from the run's seed (a murmur3-style mix). */
export function deriveSeed(seed: number, stream: number, index = 0): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul(stream + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f) ^ Math.imul(index + 1, 0x165667b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Random streams of a run. */
const Stream = { NETWORK: 0, SWIM: 1, GOSSIP: 2, SCENARIO: 3 } as const;

/** The key prefix of the updates `write` makes; every node subscribes to it to time their arrival. */
const KEY_PREFIX = 'sim/';

/** The smallest number of nodes that is at least `fraction` of `population`. */
export function quorum(fraction: number, population: number): number {
  return Math.min(population, Math.ceil(fraction * population - 1e-9));
}

export class ClusterSimulation {
  readonly seed: number;
  readonly clock = new ManualClock();
  readonly network: InMemoryNetwork;
  readonly swimConfig: SwimConfig;
  readonly gossipConfig: GossipConfig | undefined;
  readonly latencyMs: number;
  readonly logger: TransportLogger;
  /** Every node ever started, by id, in start order. */
  readonly nodes = new Map<NodeId, SimNode>();
  /** Every membership event since the last resetLog(), in order. */
  log: SimEvent[] = [];
  /** The scenario's own random source (which node to crash, to degrade, ...), seeded from the run's seed. */
  readonly random: () => number;
  /** Each node's view as its events tell it: member id -> state, and how many it sees alive, and alive or suspect. */
  private readonly views = new Map<NodeId, View>();
  /** When each node first had each written key. */
  private readonly arrivals = new Map<string, Map<NodeId, number>>();
  private readonly writes = new Map<string, { readonly at: number; readonly by: NodeId }>();
  private seedIds: NodeId[] = [];
  private nextIndex = 0;

  constructor(options: ClusterSimulationOptions) {
    this.seed = options.seed;
    this.swimConfig = options.swim ?? SwimConfig.production();
    this.gossipConfig = options.gossip === null ? undefined : options.gossip ?? GossipConfig.production();
    this.latencyMs = options.latencyMs ?? 1;
    this.logger = options.logger ?? new CapturingLogger(200);
    this.random = seededRandom(deriveSeed(this.seed, Stream.SCENARIO));
    this.network = new InMemoryNetwork({
      clock: this.clock, random: seededRandom(deriveSeed(this.seed, Stream.NETWORK)), logger: this.logger, deliverOnClock: true,
    });
    this.network.setFaults({ delayMs: this.latencyMs });
  }

  // ---- starting nodes ------------------------------------------------------------------------------------

  /**
   * Starts `count` nodes: the first `seedNodes` one after another through node 0, then the rest in batches
   * that join through those seeds. Does not wait for the cluster to converge: see warmUp.
   */
  startNodes(count: number, options: StartOptions = {}): SimNode[] {
    const seedNodes = Math.max(1, Math.min(count, options.seedNodes ?? 3));
    const batchSize = Math.max(1, options.batchSize ?? 100);
    const out: SimNode[] = [];
    for (let i = 0; i < seedNodes; i++) {
      const first = this.seedIds[0];
      out.push(this.addNode(first === undefined ? [] : [first]));
      this.seedIds.push((out[out.length - 1] as SimNode).id);
      this.run(this.swimConfig.probeIntervalMs);
    }
    for (let started = seedNodes; started < count;) {
      const n = Math.min(batchSize, count - started);
      for (let i = 0; i < n; i++) out.push(this.addNode(this.seedIds));
      started += n;
      this.run(options.batchGapMs ?? 1_000);
    }
    return out;
  }

  /**
   * Starts one node that joins through `seeds` (node ids; default the seed nodes still running, or any
   * running node when none is).
   */
  addNode(seeds?: readonly NodeId[]): SimNode {
    const index = this.nextIndex++;
    const id = `n${index}`;
    const transport = this.network.createTransport({ nodeId: id });
    void transport.start();
    const address = transport.boundAddress;
    const sent = noneSent();
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
    const seedAddresses = this.seedAddresses(seeds);
    const swim = new Swim({
      transport, clock: this.clock, random: seededRandom(deriveSeed(this.seed, Stream.SWIM, index)), config: this.swimConfig,
      self: { id, address }, seeds: seedAddresses.length === 0 ? [address] : seedAddresses, logger: this.logger,
    });
    const gossip = this.gossipConfig === undefined ? undefined : new Gossip({
      transport, clock: this.clock, random: seededRandom(deriveSeed(this.seed, Stream.GOSSIP, index)), config: this.gossipConfig,
      selfId: id, membership: swim, logger: this.logger,
    });
    const node: SimNode = {
      id, index, address, transport, swim, gossip, status: 'running', startedAt: this.clock.now(), stoppedAt: undefined,
      degraded: false, sent,
    };
    const view: View = { states: new Map(), alive: 0, live: 0 };
    this.views.set(id, view);
    swim.on((event) => this.record(id, view, event));
    gossip?.subscribe(`${KEY_PREFIX}**`, (change) => {
      const seen = this.arrivals.get(change.key);
      if (seen !== undefined && !seen.has(id)) seen.set(id, this.clock.now());
    });
    this.nodes.set(id, node);
    swim.start();
    gossip?.start();
    return node;
  }

  /** Runs until every running node sees exactly the running nodes, all alive; returns the simulated ms it took. */
  warmUp(withinMs = 600_000): number {
    return this.until('converged (warm-up)', () => this.converged(), withinMs, 1_000);
  }

  // ---- time ----------------------------------------------------------------------------------------------

  /** Simulated milliseconds since the simulation began. */
  get now(): number {
    return this.clock.now();
  }

  /** Moves simulated time forward by `ms`, firing every timer and delivering every frame due meanwhile. */
  run(ms: number): void {
    this.clock.advanceSync(ms);
  }

  /**
   * Runs in steps of `stepMs` until `predicate` holds (checked before each step); returns the simulated ms
   * it took, or undefined if it did not hold within `withinMs`.
   */
  waitFor(predicate: () => boolean, withinMs: number, stepMs = 100): number | undefined {
    const start = this.clock.now();
    for (;;) {
      if (predicate()) return this.clock.now() - start;
      if (this.clock.now() - start >= withinMs) return undefined;
      this.clock.advanceSync(Math.min(stepMs, start + withinMs - this.clock.now()));
    }
  }

  /** As waitFor, but throws, with the seed and every node's view, when `predicate` does not hold in time. */
  until(description: string, predicate: () => boolean, withinMs: number, stepMs = 100): number {
    const took = this.waitFor(predicate, withinMs, stepMs);
    if (took === undefined) throw new Error(`Not ${description} within ${withinMs} ms (simulated)\n${this.describe()}`);
    return took;
  }

  /** Runs `ms`, checking `invariant` every `stepMs`; throws, with the seed and views, when it breaks. */
  holds(description: string, invariant: () => boolean, ms: number, stepMs = 100): void {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.advanceSync(Math.min(stepMs, end - this.clock.now()));
      if (!invariant()) throw new Error(`Broke: ${description}\n${this.describe()}`);
    }
  }

  // ---- faults --------------------------------------------------------------------------------------------

  /**
   * Crashes a node: its engines stop without a word. By default it stays silent, like a machine that lost
   * power (peers notice only by probing); `closeConnections` closes its transport too, like a killed process
   * whose connections the OS resets (peers get peer-down at once).
   */
  crash(id: NodeId, options: { closeConnections?: boolean } = {}): void {
    const node = this.node(id);
    if (node.status !== 'running') throw new Error(`crash(${id}): it is ${node.status}`);
    node.status = 'crashed';
    node.stoppedAt = this.clock.now();
    node.swim.stop();
    node.gossip?.stop();
    if (options.closeConnections === true) void node.transport.close();
  }

  /** A graceful leave: the node announces it, keeps running leavePropagationMs, then stops and closes. */
  leave(id: NodeId): void {
    const node = this.node(id);
    if (node.status !== 'running') throw new Error(`leave(${id}): it is ${node.status}`);
    node.status = 'left';
    node.stoppedAt = this.clock.now();
    void node.swim.leave();
    this.clock.setTimeout(() => {
      node.gossip?.stop();
      void node.transport.close();
    }, this.swimConfig.leavePropagationMs);
  }

  /** Loses `probability` of the frames on every link (the default) or on every link from or to `ids`. */
  setLoss(probability: number, ids?: readonly NodeId[]): void {
    if (ids === undefined) {
      this.network.setFaults({ dropProbability: probability, delayMs: this.latencyMs });
      return;
    }
    for (const id of ids) {
      this.node(id).degraded = true;
      this.network.setFaults({ dropProbability: probability, delayMs: this.latencyMs }, { from: id });
      this.network.setFaults({ dropProbability: probability, delayMs: this.latencyMs }, { to: id });
    }
  }

  /** A slow node: every frame it sends (its replies included) takes `delayMs` more. */
  slow(id: NodeId, delayMs: number): void {
    this.node(id).degraded = true;
    this.network.setFaults({ delayMs: this.latencyMs + delayMs }, { from: id });
  }

  /** Cuts the links between the groups (node ids) until heal(). */
  partition(...groups: ReadonlyArray<readonly NodeId[]>): void {
    this.network.partition(...groups);
  }

  /** Removes every partition. */
  heal(): void {
    this.network.heal();
  }

  /** Removes every loss and delay (partitions stay); every node counts as healthy again. */
  clearFaults(): void {
    this.network.clearFaults();
    this.network.setFaults({ delayMs: this.latencyMs });
    for (const node of this.nodes.values()) node.degraded = false;
  }

  // ---- gossip updates ------------------------------------------------------------------------------------

  /** Writes key `sim/<name>` at node `id` (its Gossip engine) and starts timing its spread. Returns the key. */
  write(id: NodeId, name: string, value: Uint8Array = Uint8Array.of(1)): string {
    const node = this.node(id);
    if (node.gossip === undefined) throw new Error('write: this simulation runs without gossip');
    const key = `${KEY_PREFIX}${name}`;
    this.arrivals.set(key, new Map([[id, this.clock.now()]]));
    this.writes.set(key, { at: this.clock.now(), by: id });
    node.gossip.set(key, value);
    return key;
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

  // ---- what happened -------------------------------------------------------------------------------------

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** The running nodes, in start order. */
  running(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.status === 'running');
  }

  /** The logged events at or after simulated time `at`. */
  eventsSince(at: number): SimEvent[] {
    return this.log.slice(this.logIndexAt(at));
  }

  /** Forgets the event log (views are kept): what follows is measured from a clean slate. */
  resetLog(): void {
    this.log = [];
  }

  /** Resets every node's frame counters. */
  resetCounts(): void {
    for (const n of this.nodes.values()) Object.assign(n.sent, noneSent());
  }

  /** Frames sent by the running nodes since the last resetCounts, added up. */
  sentTotals(): SentCounts {
    const total = noneSent();
    for (const n of this.running()) {
      for (const field of Object.keys(total) as Array<keyof SentCounts>) total[field] += n.sent[field];
    }
    return total;
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
    for (let i = this.logIndexAt(since); i < this.log.length; i++) {
      const e = this.log[i] as SimEvent;
      if (e.type !== 'down' || e.member === undefined || ignore?.(e) === true) continue;
      const member = this.nodes.get(e.member);
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

  /**
   * Runs until a whole second passes in which no node sends a SWIM gossip-round frame: every queued update
   * has been sent its retransmit limit, so what follows is steady state. Returns the simulated ms it took,
   * or undefined if that did not happen within `withinMs`.
   */
  settle(withinMs = 120_000): number | undefined {
    let quietSince = this.clock.now();
    let last = this.sentTotals().swimGossip;
    return this.waitFor(() => {
      const now = this.sentTotals().swimGossip;
      if (now !== last) {
        last = now;
        quietSince = this.clock.now();
      }
      return this.clock.now() - quietSince >= 1_000;
    }, withinMs, 250);
  }

  /** How many running nodes see `member` as `state` ('alive', 'suspect', 'dead', 'left'; 'unknown' if never heard of). */
  seenAs(member: NodeId, state: string): number {
    let count = 0;
    for (const n of this.running()) {
      if (n.id !== member && ((this.views.get(n.id) as View).states.get(member) ?? 'unknown') === state) count++;
    }
    return count;
  }

  /** How `observer` sees `member` right now, from its engine: 'state@incarnation', or 'unknown'. */
  view(observer: NodeId, member: NodeId): string {
    const m = this.node(observer).swim.member(member);
    return m === undefined ? 'unknown' : `${m.state}@${m.incarnation}`;
  }

  /**
   * The seed, the time and a summary of every running node's view: what each sees of the cluster, and
   * where it differs from the truth (up to `maxNodes` nodes listed; the rest counted).
   */
  describe(maxNodes = 20): string {
    const running = this.running();
    const runningIds = new Set(running.map((n) => n.id));
    const stopped = [...this.nodes.values()].filter((n) => n.status !== 'running').map((n) => `${n.id}=${n.status}`);
    const lines: string[] = [];
    let differing = 0;
    for (const n of running) {
      const counts: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
      const wrong: string[] = [];
      for (const m of n.swim.members()) {
        if (m.id === n.id) continue;
        counts[m.state] = (counts[m.state] ?? 0) + 1;
        if (runningIds.has(m.id) !== (m.state === 'alive')) wrong.push(`${m.id}=${m.state}@${m.incarnation}`);
      }
      for (const id of runningIds) if (id !== n.id && n.swim.member(id) === undefined) wrong.push(`${id}=unknown`);
      if (wrong.length === 0 && lines.length >= 3) continue;
      if (wrong.length > 0) differing++;
      if (lines.length >= maxNodes) continue;
      const flags = `${n.degraded ? ', degraded' : ''}${n.swim.isJoined ? '' : ', not joined'}`;
      lines.push(`  ${n.id} (health ${n.swim.healthScore}, incarnation ${n.swim.incarnation}${flags}): ` +
        `${counts['alive']} alive, ${counts['suspect']} suspect, ${counts['dead']} dead, ${counts['left']} left` +
        (wrong.length === 0 ? '' : `; differs: ${wrong.sort().slice(0, 12).join(' ')}${wrong.length > 12 ? ` (+${wrong.length - 12})` : ''}`));
    }
    return [
      `seed ${this.seed}, t=${this.clock.now()} ms, ${running.length} running` +
        (stopped.length === 0 ? '' : `, stopped: ${stopped.slice(0, 20).join(' ')}${stopped.length > 20 ? ` (+${stopped.length - 20})` : ''}`),
      `${differing} of ${running.length} running nodes see the cluster differently from the truth` +
        (lines.length < running.length ? ` (${lines.length} shown)` : ''),
      ...lines,
    ].join('\n');
  }

  /** suspicionBoundMs for this simulation's SWIM settings. */
  suspicionBoundMs(n: number): number {
    return suspicionBoundMs(this.swimConfig, n);
  }

  /** Stops every engine (their timers with them). */
  stopAll(): void {
    for (const n of this.nodes.values()) {
      n.swim.stop();
      n.gossip?.stop();
    }
  }

  // ---- plumbing ------------------------------------------------------------------------------------------

  private seedAddresses(seeds: readonly NodeId[] | undefined): NodeAddress[] {
    let ids = seeds ?? this.seedIds.filter((id) => this.node(id).status === 'running');
    if (ids.length === 0 && seeds === undefined) {
      const running = this.running();
      const pick = running[Math.floor(this.random() * running.length)];
      ids = pick === undefined ? [] : [pick.id];
    }
    return ids.map((id) => this.node(id).address);
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
      ? { at: this.clock.now(), observer, type: event.type }
      : { at: this.clock.now(), observer, type: event.type, member: member.id, incarnation: member.incarnation });
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
