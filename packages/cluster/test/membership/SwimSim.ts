// A deterministic SWIM cluster for tests: N Swim engines over one InMemoryNetwork on one ManualClock, every
// random choice drawn from sources seeded by one number. The same seed replays the same run, so a failure
// message prints the seed and each node's view of the cluster.

import { InMemoryNetwork, seededRandom } from '@casty/cluster/testing';
import type { InMemoryTransport } from '@casty/cluster/testing';
import { ManualClock } from '@casty/core/testing';
import type { Clock, TimerHandle } from '@casty/core';
import type { NodeAddress } from '../../src/transport/Transport';
import { ProtocolId } from '../../src/transport/frame';
import { SwimKind } from '../../src/membership/messages';
import { Swim } from '../../src/membership/Swim';
import { SwimConfig } from '../../src/membership/SwimConfig';
import type { MembershipEvent } from '../../src/membership/events';
import { CapturingLogger } from '../../src/testing/CapturingLogger';

/**
 * One node's view of the shared ManualClock, which can be stalled like a blocked event loop: while stalled,
 * the node's timers and incoming frames wait; when the stall ends, its overdue timers run first, then the
 * frames, as Node runs the timers phase before the poll phase.
 */
export class StallableClock implements Clock {
  private stalledUntil = -1;
  private held: Array<() => void> = [];

  constructor(private readonly base: ManualClock) {}

  now(): number {
    return this.base.now();
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const handle = { inner: undefined as TimerHandle, cancelled: false };
    handle.inner = this.base.setTimeout(() => {
      if (handle.cancelled) return;
      if (this.isStalled()) this.held.push(fn);
      else fn();
    }, delayMs);
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    const h = handle as { inner: TimerHandle; cancelled: boolean };
    h.cancelled = true;
    this.base.clearTimeout(h.inner);
  }

  isStalled(): boolean {
    return this.base.now() < this.stalledUntil;
  }

  /** Blocks this node for `ms`: `frames` collects the frames that arrive meanwhile, run after its timers. */
  stall(ms: number, frames: Array<() => void>): void {
    this.stalledUntil = this.base.now() + ms;
    this.base.setTimeout(() => {
      const timers = this.held;
      this.held = [];
      for (const fn of timers) fn();
      for (const deliver of frames.splice(0)) deliver();
    }, ms);
  }
}

export interface SimNode {
  readonly id: string;
  readonly clock: StallableClock;
  readonly transport: InMemoryTransport;
  readonly swim: Swim;
  readonly events: MembershipEvent[];
}

export interface SwimSimOptions {
  readonly config?: SwimConfig;
  /** Milliseconds every frame takes on the network. Default 2. */
  readonly delayMs?: number;
}

export class SwimSim {
  readonly clock = new ManualClock();
  readonly network: InMemoryNetwork;
  readonly nodes = new Map<string, SimNode>();
  readonly config: SwimConfig;
  readonly logger = new CapturingLogger(1_000);
  private nodeCount = 0;
  private readonly heldFrames = new Map<string, Array<() => void>>();
  /** Largest SWIM probe frame (ping, ack, ... with piggybacked updates) and push-pull part any node sent, in bytes. */
  readonly largest = { probe: 0, pushPull: 0 };

  constructor(readonly seed: number, options: SwimSimOptions = {}) {
    this.config = options.config ?? SwimConfig.production();
    this.network = new InMemoryNetwork({ clock: this.clock, random: seededRandom(seed), logger: this.logger });
    this.network.setFaults({ delayMs: options.delayMs ?? 2 });
  }

  /** Starts a node with transport and Swim; `seeds` default to the first node's address. */
  async add(id: string, options: { seeds?: readonly NodeAddress[]; port?: number; incarnation?: number } = {}): Promise<SimNode> {
    const transport = this.network.createTransport({ nodeId: id, ...(options.port === undefined ? {} : { port: options.port }) });
    const address = await transport.start();
    const send = transport.send.bind(transport);
    transport.send = (to, protocol, payload) => {
      if (protocol === ProtocolId.SWIM) {
        const which = payload[0] === SwimKind.PUSH_PULL ? 'pushPull' : 'probe';
        this.largest[which] = Math.max(this.largest[which], payload.length);
      }
      send(to, protocol, payload);
    };
    const clock = new StallableClock(this.clock);
    const heldFrames: Array<() => void> = [];
    const onFrame = transport.onFrame.bind(transport);
    transport.onFrame = (protocol, handler) => onFrame(protocol, (from, payload) => {
      if (clock.isStalled()) heldFrames.push(() => handler(from, payload));
      else handler(from, payload);
    });
    this.heldFrames.set(id, heldFrames);
    const first = [...this.nodes.values()][0];
    const seeds = options.seeds ?? (first === undefined ? [address] : [first.transport.boundAddress]);
    const swim = new Swim({
      transport, clock, random: seededRandom(this.seed * 7919 + ++this.nodeCount), config: this.config,
      self: { id, address }, seeds, logger: this.logger,
      ...(options.incarnation === undefined ? {} : { incarnation: options.incarnation }),
    });
    const node: SimNode = { id, clock, transport, swim, events: [] };
    swim.on((e) => node.events.push(e));
    this.nodes.set(id, node);
    swim.start();
    return node;
  }

  /** Starts `count` nodes named `${prefix}0..`, all joining through the first. */
  async addMany(count: number, prefix = 'n'): Promise<SimNode[]> {
    const out: SimNode[] = [];
    for (let i = 0; i < count; i++) out.push(await this.add(`${prefix}${i}`));
    return out;
  }

  /** Blocks node `id`'s event loop for `ms` (simulated): no timers, no frames, then all at once. */
  stall(id: string, ms: number): void {
    this.node(id).clock.stall(ms, this.heldFrames.get(id) as Array<() => void>);
  }

  node(id: string): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Crashes a node: its engine stops without a word and its transport closes. */
  async crash(id: string): Promise<void> {
    const n = this.node(id);
    n.swim.stop();
    await n.transport.close();
    this.nodes.delete(id);
  }

  /** The running nodes other than `except`. */
  others(...except: string[]): SimNode[] {
    return [...this.nodes.values()].filter((n) => !except.includes(n.id));
  }

  /** State of `memberId` as seen by `observer` ('state@incarnation'), or 'unknown'. */
  view(observer: string, memberId: string): string {
    const m = this.node(observer).swim.member(memberId);
    return m === undefined ? 'unknown' : `${m.state}@${m.incarnation}`;
  }

  /** Every running node's view of every member, for failure messages. */
  describe(): string {
    const lines = [...this.nodes.values()].map((n) =>
      `${n.id} (health ${n.swim.healthScore}): ` + n.swim.members().map((m) => `${m.id}=${m.state}@${m.incarnation}`).sort().join(' '));
    return `seed ${this.seed}, t=${this.clock.now()} ms\n${lines.join('\n')}`;
  }

  /** True when every running node sees exactly the running nodes, all alive. */
  converged(): boolean {
    const ids = [...this.nodes.keys()].sort();
    return [...this.nodes.values()].every((n) => {
      const alive = n.swim.members().filter((m) => m.state === 'alive').map((m) => m.id).sort();
      return alive.join() === ids.join();
    });
  }

  /** Advances the clock in `stepMs` steps until `predicate` holds; fails, printing seed and views, after `withinMs`. */
  async until(description: string, predicate: () => boolean, withinMs: number, stepMs = 100): Promise<number> {
    const start = this.clock.now();
    while (!predicate()) {
      if (this.clock.now() - start >= withinMs) {
        throw new Error(`Not ${description} within ${withinMs} ms (simulated)\n${this.describe()}`);
      }
      await this.clock.advance(stepMs);
    }
    return this.clock.now() - start;
  }

  /** Advances the clock by `ms`, checking `invariant` every `stepMs`; fails with seed and views when it breaks. */
  async holds(description: string, invariant: () => boolean, ms: number, stepMs = 100): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      await this.clock.advance(stepMs);
      if (!invariant()) throw new Error(`Broke: ${description}\n${this.describe()}`);
    }
  }

  /** Stops every engine (cancelling their timers). */
  stopAll(): void {
    for (const n of this.nodes.values()) n.swim.stop();
  }
}
