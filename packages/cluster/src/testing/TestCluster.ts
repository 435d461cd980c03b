// TestCluster: N clustered actor systems on one InMemoryNetwork and one ManualClock, every random choice
// drawn from one seed, for deterministic tests of what runs on a cluster (sharding, replication...).
//
//   await using cluster = await TestCluster.start({ nodes: ['a', 'b', 'c'], seed: 7 });
//   await cluster.converged();            // every live node sees every live node alive
//   cluster.crash('c');                   // silent: only probes notice
//   await cluster.advance(10_000);        // simulated time; deliveries and timers run
//
// Messages go through the wire codec even between actors of one node (serialize: true, the default), so a
// message class that could not cross the network fails at the send in a test, as Effect cluster's
// simulateRemoteSerialization and Akka's serialize-messages do.

import { InvalidArgumentError } from '@casty/core';
import { ManualClock } from '@casty/core/testing';
import { ClusterConfig } from '../ClusterConfig';
import type { ClusterConfigOptions } from '../ClusterConfig';
import { ClusteredActorSystem } from '../ClusteredActorSystem';
import type { ClusteredSystemOptions } from '../ClusteredActorSystem';
import type { ClusterEvent} from '../events';
import { MemberAlive, MemberDown, MemberLeft, MemberSuspect, MemberUp } from '../events';
import type { NodeId, Transport } from '../transport/Transport';
import { CapturingLogger } from './CapturingLogger';
import { InMemoryNetwork } from './InMemoryNetwork';
import { PausableClock } from './PausableClock';
import type { InMemoryTransport } from './InMemoryTransport';
import { seededRandom } from './seededRandom';

/** Options of `TestCluster.start`. */
export interface TestClusterOptions {
  /** How many nodes (ids 'n0', 'n1', ...) or their ids. The first is every other node's seed. */
  readonly nodes: number | readonly NodeId[];
  /** The clock of every node and of the network. Default: a new ManualClock at 0. */
  readonly clock?: ManualClock;
  /** Seed of every random choice (network, membership protocol). Default 1. */
  readonly seed?: number;
  /** Over ClusterConfig.development(), with each node's CapturingLogger as its logger unless one is given. */
  readonly config?: ClusterConfigOptions;
  /** Pass every message through the wire codec, even between actors of one node. Default true. */
  readonly serialize?: boolean;
  /** Milliseconds every frame takes on the network. Default 1. */
  readonly delayMs?: number;
  /**
   * Composes each node on its transport. Default `ClusteredActorSystem.start` (remote messaging and membership);
   * casty's `startNode` composes the whole node (sharding, replication) as `clustered()` does.
   */
  readonly start?: (transport: Transport, options: ClusteredSystemOptions) => Promise<ClusteredActorSystem>;
}

/** One node of a TestCluster. */
export interface TestClusterNode {
  readonly id: NodeId;
  readonly system: ClusteredActorSystem;
  readonly transport: InMemoryTransport;
  readonly logger: CapturingLogger;
  /** running; crashed (cut off without a word); left (shut down gracefully). */
  readonly status: 'running' | 'crashed' | 'left';
  /** True between `pause` and `resume`. */
  readonly paused: boolean;
}

/** A membership event as one node (the observer) saw it, at a time of the cluster's clock. */
export interface RecordedMembershipEvent {
  readonly at: number;
  readonly observer: NodeId;
  readonly type: 'up' | 'suspect' | 'alive' | 'down' | 'left';
  readonly member: NodeId;
  readonly incarnation: number;
}

interface NodeSlot {
  id: NodeId;
  index: number;
  port: number;
  system: ClusteredActorSystem;
  transport: InMemoryTransport;
  logger: CapturingLogger;
  status: 'running' | 'crashed' | 'left';
  starts: number;
  clock: PausableClock;
  paused: boolean;
  unsubscribe: () => void;
}

const EVENT_TYPES: ReadonlyArray<[abstract new (...args: never[]) => ClusterEvent, RecordedMembershipEvent['type']]> = [
  [MemberUp, 'up'], [MemberSuspect, 'suspect'], [MemberAlive, 'alive'], [MemberDown, 'down'], [MemberLeft, 'left'],
];

/** How often `converged`, `leave` and `shutdown` move the clock while they wait, in simulated ms. */
const STEP_MS = 50;

export class TestCluster implements AsyncDisposable {
  readonly clock: ManualClock;
  readonly network: InMemoryNetwork;
  readonly seed: number;
  readonly config: ClusterConfig;
  private readonly slots = new Map<NodeId, NodeSlot>();
  private readonly recorded: RecordedMembershipEvent[] = [];
  private readonly serialize: boolean;
  private readonly startSystem: (transport: Transport, options: ClusteredSystemOptions) => Promise<ClusteredActorSystem>;
  private readonly configOptions: ClusterConfigOptions;

  private constructor(options: TestClusterOptions) {
    this.clock = options.clock ?? new ManualClock();
    this.seed = options.seed ?? 1;
    this.serialize = options.serialize ?? true;
    this.startSystem = options.start ?? ((transport, systemOptions) => ClusteredActorSystem.start(transport, systemOptions));
    this.configOptions = options.config ?? {};
    this.config = ClusterConfig.development(this.configOptions);
    this.network = new InMemoryNetwork({ clock: this.clock, random: seededRandom(this.seed), logger: new CapturingLogger(),
      deliverOnClock: true });
    this.network.setFaults({ delayMs: options.delayMs ?? 1 });
  }

  /** Starts the nodes, the first as everyone's seed; resolves once all have started (see `converged`). */
  static async start(options: TestClusterOptions): Promise<TestCluster> {
    const ids = typeof options.nodes === 'number'
      ? Array.from({ length: options.nodes }, (_, i) => `n${i}`)
      : [...options.nodes];
    if (ids.length === 0 || (typeof options.nodes === 'number' && !Number.isInteger(options.nodes))) {
      throw new InvalidArgumentError(`TestCluster.start: nodes must be a positive integer or a non-empty list of ids, got ${String(options.nodes)}`);
    }
    if (new Set(ids).size !== ids.length) throw new InvalidArgumentError(`TestCluster.start: node ids must be unique, got ${ids.join(', ')}`);
    const cluster = new TestCluster(options);
    try {
      for (const [index, id] of ids.entries()) await cluster.startNode(id, index, undefined);
    } catch (error) {
      await cluster.shutdown();
      throw error;
    }
    return cluster;
  }

  /** The node `id` (whatever its status); throws for an unknown id. */
  node(id: NodeId): TestClusterNode {
    const slot = this.slots.get(id);
    if (slot === undefined) throw new InvalidArgumentError(`TestCluster: no node '${id}' (nodes: ${[...this.slots.keys()].join(', ')})`);
    return slot;
  }

  /** Every node, in start order, whatever its status. */
  get nodes(): readonly TestClusterNode[] {
    return [...this.slots.values()];
  }

  /** The nodes that are running (not crashed, not left). */
  get running(): readonly TestClusterNode[] {
    return this.nodes.filter((n) => n.status === 'running');
  }

  /** Membership events every node saw while running, in order (a crashed node's stop at the crash). */
  get events(): readonly RecordedMembershipEvent[] {
    return this.recorded;
  }

  /** Moves the clock `ms` forward, letting timers and in-memory deliveries run at their times. */
  async advance(ms: number): Promise<void> {
    await this.clock.advance(ms);
  }

  /**
   * Advances the clock until every running node sees exactly the running nodes, all alive, and has quorum; resolves with the
   * simulated milliseconds it took. Throws after `timeoutMs` simulated ms with every node's view and the
   * recent membership events.
   */
  async converged(timeoutMs = 30_000): Promise<number> {
    const start = this.clock.now();
    while (!this.isConverged()) {
      if (this.clock.now() - start >= timeoutMs) {
        throw new Error(`TestCluster: not converged within ${timeoutMs} ms (simulated)\n${this.describe()}`);
      }
      await this.clock.advance(STEP_MS);
    }
    return this.clock.now() - start;
  }

  /**
   * True when every running node sees the running nodes, and only them, all alive, and each has quorum (after a
   * partition heals, the minority hosts again only once its view has been stable a while: see ClusterConfig.downing).
   */
  isConverged(): boolean {
    const expected = this.running.map((n) => n.id).sort().join(',');
    return this.running.every((n) => {
      const members = n.system.members();
      return members.every((m) => m.state === 'alive') && members.map((m) => m.nodeId).sort().join(',') === expected &&
        n.system.hasQuorum;
    });
  }

  /**
   * Every node's view of every node of the cluster (state and incarnation, dead and left ones included
   * while remembered, 'unknown' otherwise) and the last `recentEvents` membership events.
   */
  describe(recentEvents = 30): string {
    const views = this.nodes.map((n) => {
      // A crashed node's system still runs, unheard: its view is shown too.
      const view = n.status === 'left'
        ? '(shut down)'
        : this.nodes.map((other) => {
          const m = n.system.membership.member(other.id);
          return m === undefined ? `${other.id}=unknown` : `${m.nodeId}=${m.state}@${m.incarnation}`;
        }).join(' ');
      return `  ${n.id} [${n.status}]: ${view}`;
    });
    const events = this.recorded.slice(-recentEvents).map((e) => `  t=${e.at} ${e.observer} saw ${e.member} ${e.type}@${e.incarnation}`);
    return [`seed ${this.seed}, t=${this.clock.now()} ms; views:`, ...views,
      `last ${events.length} of ${this.recorded.length} membership events:`, ...events].join('\n');
  }

  /**
   * Crashes node `id`: every frame to or from it is lost from now on, without a word (no peer-down; only the
   * others' probes notice, as with a machine that lost power). Its system stays up, unheard, until `restart`
   * or `shutdown`; its own membership events are no longer recorded.
   */
  crash(id: NodeId): void {
    const slot = this.runningSlot(id, 'crash');
    if (slot.paused) this.resumeQuietly(slot);
    slot.status = 'crashed';
    slot.unsubscribe();
    this.network.setFaults({ dropProbability: 1 }, { from: id });
    this.network.setFaults({ dropProbability: 1 }, { to: id });
  }

  /**
   * Pauses node `id` as SIGSTOP does: its timers and the frames to and from it wait (nothing is lost) until
   * `resume`. Time goes on for the others, which may declare it dead meanwhile.
   */
  pause(id: NodeId): void {
    const slot = this.runningSlot(id, 'pause');
    slot.paused = true;
    slot.clock.pause();
    this.network.pause(id);
  }

  /**
   * Resumes node `id` as SIGCONT does: first its overdue timers run (late), then the frames held for it and
   * from it go on, in order.
   */
  resume(id: NodeId): void {
    const slot = this.slots.get(id);
    if (slot === undefined || !slot.paused) throw new InvalidArgumentError(`TestCluster.resume(${id}): it is not paused`);
    slot.paused = false;
    slot.clock.resume();
    this.network.resume(id);
  }

  /** Shuts node `id` down gracefully (it announces that it leaves), advancing the clock until it is done. */
  async leave(id: NodeId): Promise<void> {
    await this.settle(this.beginLeave(id), `leave(${id})`);
  }

  /**
   * Starts node `id`'s graceful shutdown and returns its promise without moving the clock, so a test can go on
   * (sending, advancing with `settled`) while the node hands off and leaves.
   */
  beginLeave(id: NodeId): Promise<void> {
    const slot = this.runningSlot(id, 'leave');
    if (slot.paused) this.resume(id);
    slot.status = 'left';
    return slot.system.shutdown().finally(() => slot.unsubscribe());
  }

  /** Starts a new node `id`, joining through the first running node; resolves once it has started (not joined). */
  async join(id: NodeId): Promise<TestClusterNode> {
    if (this.slots.has(id)) throw new InvalidArgumentError(`TestCluster.join: there is a node '${id}' already; restart it instead`);
    return this.startNode(id, this.slots.size, undefined);
  }

  /**
   * Starts node `id` again, crashed or left, with the same id and port, joining through the first running
   * node. A crashed node's old system is shut down first (unheard).
   */
  async restart(id: NodeId): Promise<TestClusterNode> {
    const slot = this.slots.get(id);
    if (slot === undefined) throw new InvalidArgumentError(`TestCluster.restart: no node '${id}'`);
    if (slot.status === 'running') throw new InvalidArgumentError(`TestCluster.restart(${id}): it is running; crash or leave it first`);
    if (slot.status === 'crashed') {
      await this.settle(slot.system.shutdown(), `shutting down crashed ${id}`);
      this.network.clearFaults({ from: id });
      this.network.clearFaults({ to: id });
    }
    return this.startNode(id, slot.index, slot);
  }

  /** Cuts every link between nodes of different groups (silently, both ways) until `heal`. */
  partition(...groups: ReadonlyArray<readonly NodeId[]>): void {
    for (const id of groups.flat()) this.node(id);
    this.network.partition(...groups);
  }

  /** Removes every partition (crashed nodes stay crashed). */
  heal(): void {
    this.network.heal();
  }

  /** Shuts every node down (the crashed ones too), advancing the clock until all are done. */
  async shutdown(): Promise<void> {
    const slots = [...this.slots.values()].filter((s) => s.status !== 'left');
    for (const s of slots) if (s.paused) this.resumeQuietly(s);
    for (const s of slots) {
      s.status = 'left';
      s.unsubscribe();
    }
    await this.settle(Promise.all(slots.map((s) => s.system.shutdown())), 'shutdown');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  private async startNode(id: NodeId, index: number, previous: NodeSlot | undefined): Promise<TestClusterNode> {
    const starts = (previous?.starts ?? 0) + 1;
    const logger = previous?.logger ?? new CapturingLogger(2_000);
    const config = ClusterConfig.development({ logger, ...this.configOptions });
    const seedNode = [...this.slots.values()].find((s) => s.status === 'running' && s.id !== id);
    const transport = this.network.createTransport({ nodeId: id, logger, maxFrameBytes: config.maxFrameBytes,
      ...(previous === undefined ? {} : { port: previous.port }) });
    const clock = new PausableClock(this.clock);
    const system = await this.startSystem(transport, {
      config, name: id, clock, serializeMessages: this.serialize,
      seeds: seedNode === undefined ? [] : [seedNode.system.address],
      random: seededRandom(this.seed * 31 + index + 1_000 * (starts - 1)),
    });
    const offs = EVENT_TYPES.map(([eventClass, type]) => system.events.subscribe(eventClass, (e: ClusterEvent) => {
      this.recorded.push({ at: this.clock.now(), observer: id, type, member: e.member.nodeId, incarnation: e.member.incarnation });
    }));
    const slot: NodeSlot = { id, index, port: transport.boundAddress.port, system, transport, logger, status: 'running', starts,
      clock, paused: false,
      unsubscribe: () => offs.forEach((off) => off()) };
    this.slots.set(id, slot);
    return slot;
  }

  /** A paused node that crashes or shuts down: its timers run again (a killed process's do not matter). */
  private resumeQuietly(slot: NodeSlot): void {
    slot.paused = false;
    slot.clock.resume();
    this.network.resume(slot.id);
  }

  private runningSlot(id: NodeId, what: string): NodeSlot {
    const slot = this.slots.get(id);
    if (slot === undefined) throw new InvalidArgumentError(`TestCluster.${what}: no node '${id}'`);
    if (slot.status !== 'running') throw new InvalidArgumentError(`TestCluster.${what}(${id}): it is ${slot.status}`);
    return slot;
  }

  /**
   * Advances the clock, a few simulated milliseconds at a time, until `work` settles (an ask across nodes, a
   * shutdown); resolves with its value or rejects with its error. Throws if it has not settled after
   * `withinMs` simulated ms: `await cluster.settled(ref.ask(new Get()))`.
   */
  async settled<T>(work: Promise<T>, withinMs = 60_000, what = 'the work'): Promise<T> {
    let done = false;
    const watched = work.then((value) => { done = true; return value; }, (error: unknown) => { done = true; throw error; });
    watched.catch(() => undefined); // observed below; not an unhandled rejection while the clock runs
    const start = this.clock.now();
    while (!done) {
      if (this.clock.now() - start > withinMs) throw new Error(`TestCluster: ${what} did not finish within ${withinMs} ms (simulated)`);
      await this.clock.advance(STEP_MS);
    }
    return watched;
  }

  /** Advances the clock until `work` settles (shutdowns wait leavePropagationMs of simulated time). */
  private async settle(work: Promise<unknown>, what: string, withinMs = 60_000): Promise<void> {
    await this.settled(work, withinMs, what);
  }
}
