// ClusterSimulation: a deterministic simulation of a whole cluster in one process. N nodes, each a real Swim
// engine (membership) and a real Gossip engine (key-value, its membership view the node's Swim), over one
// InMemoryNetwork on one ManualClock; every random choice (probe order, peers, drops, the scenario's own
// picks) comes from a source seeded from one number, so a seed replays exactly the same run.
//
// It injects the faults of the issue's scenarios (crash, packet loss, partition and heal, a slow node, churn),
// records every membership event with its simulated time and counts the frames each node sends, and measures
// from those (simulationMeasurements.ts): how fast a crash becomes known, how fast an update spreads, false positives. Time moves with
// ManualClock.advanceSync and frames are delivered on the clock, so nothing yields to the event loop and a
// thousand nodes simulate far faster than real time. A failed wait prints the seed and each node's view.

import { ManualClock } from '@casty/core/testing';
import { Gossip } from '../gossip/Gossip';
import { GossipConfig } from '../gossip/GossipConfig';
import { Swim } from '../membership/Swim';
import { SwimConfig } from '../membership/SwimConfig';
import type { Logger } from '@casty/core';
import type { NodeAddress, NodeId } from '../transport/Transport';
import { CapturingLogger } from './CapturingLogger';
import { InMemoryNetwork } from './InMemoryNetwork';
import type { InMemoryTransport } from './InMemoryTransport';
import { seededRandom } from './seededRandom';
import { countSends, KEY_PREFIX, noneSent, SimulationMeasurements, suspicionBoundMs } from './simulationMeasurements';
import type { FalsePositives, SentCounts, SimEvent, Spread } from './simulationMeasurements';

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
  readonly logger?: Logger;
}

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

export class ClusterSimulation {
  readonly seed: number;
  readonly clock = new ManualClock();
  readonly network: InMemoryNetwork;
  readonly swimConfig: SwimConfig;
  readonly gossipConfig: GossipConfig | undefined;
  readonly latencyMs: number;
  readonly logger: Logger;
  /** Every node ever started, by id, in start order. */
  readonly nodes = new Map<NodeId, SimNode>();
  /** What happened and the figures from it: the event log, views, frame counts, spreads. */
  readonly measurements: SimulationMeasurements;
  /** The scenario's own random source (which node to crash, to degrade, ...), seeded from the run's seed. */
  readonly random: () => number;
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
    this.measurements = new SimulationMeasurements(() => this.clock.now(), () => this.nodes.values(), (id) => this.node(id));
  }

  /** Every membership event since the last resetLog(), in order. */
  get log(): SimEvent[] {
    return this.measurements.log;
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
    countSends(transport, sent);
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
    this.measurements.watch(id, swim, gossip);
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
    this.measurements.written(key, id);
    node.gossip.set(key, value);
    return key;
  }

  /** How the gossip update `key` (from write) has spread to the running nodes so far. */
  keySpread(key: string): Spread {
    return this.measurements.keySpread(key);
  }

  /**
   * How news of member `member` (a membership event of `type`, e.g. 'up' for a join, 'down' for a crash)
   * has spread to the running nodes since `since`, from the event log.
   */
  memberSpread(member: NodeId, type: SimEvent['type'], since: number): Spread {
    return this.measurements.memberSpread(member, type, since);
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
    return this.measurements.eventsSince(at);
  }

  /** Forgets the event log (views are kept): what follows is measured from a clean slate. */
  resetLog(): void {
    this.measurements.resetLog();
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
    return this.measurements.falsePositives(since, ignore);
  }

  /**
   * True when every running node sees exactly the running nodes (itself aside) alive, and no other member
   * alive or suspect; with `groups` (node ids, as for a partition), exactly the running nodes of its own group.
   */
  converged(groups?: ReadonlyArray<readonly NodeId[]>): boolean {
    return this.measurements.converged(groups);
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
    return this.measurements.seenAs(member, state);
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
}
