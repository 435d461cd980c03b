// InMemoryNetwork: an in-process network of InMemoryTransports for deterministic protocol tests. It routes
// frames between transports and injects faults on command: drop (a probability drawn from an injected, seeded
// random source, or all), delay (per link, through the injected Clock, so a ManualClock controls it) and
// partitions (groups of nodes that cannot reach each other) until healed.
//
// Delivery is always asynchronous (a handler never runs inside `send`) and ordered per link (sender ->
// receiver), unless a link has `jitterMs`, which reorders on purpose. A partition is silent, like a real
// one: frames vanish but no peer-down is raised (TCP would not notice either); closing a transport does
// raise peer-down on the nodes linked with it.

import { InvalidArgumentError, SystemClock } from '@casty/core';
import type { Clock, TimerHandle } from '@casty/core';
import { AsyncFifo } from '../internal/AsyncFifo';
import { CLOSED_BY_PEER, ConnectionLostError, TransportBindError } from '../transport/errors';
import { formatAddress } from '../transport/Transport';
import type { NodeAddress, NodeId } from '../transport/Transport';
import type { Logger } from '@casty/core';
import { consoleLogger } from '@casty/core';
import { InMemoryTransport } from './InMemoryTransport';
import type { InMemoryTransportOptions } from './InMemoryTransport';

/** Faults of a link (or of all links). */
export interface LinkFaults {
  /** Probability in [0, 1] that a frame is lost; 1 drops all. Default 0. */
  readonly dropProbability?: number;
  /** Milliseconds every frame takes, on the network's Clock. Default 0 (next turn of the event loop). */
  readonly delayMs?: number;
  /** Up to this many extra random milliseconds per frame; frames then overtake each other. Default 0. */
  readonly jitterMs?: number;
}

/** Which links faults apply to: from one node, to one node, or both; omitted means any. */
export interface LinkSelector {
  readonly from?: NodeId;
  readonly to?: NodeId;
}

/** Options of an InMemoryNetwork. */
export interface InMemoryNetworkOptions {
  /** Clock for delays. Default SystemClock.instance; pass a ManualClock to control delays. */
  readonly clock?: Clock;
  /** Random numbers in [0, 1) for drops and jitter; pass a seeded one (see seededRandom) for repeatable runs. */
  readonly random?: () => number;
  /** Logger given to the transports. Default: console.warn. */
  readonly logger?: Logger;
  /**
   * Deliver frames and peer events on turns of the network's Clock (a zero-delay timer) instead of the event
   * loop's, so that `ManualClock.advanceSync` runs a whole simulation without yielding. Delivery is still
   * never inside `send`, and still ordered. Default false.
   */
  readonly deliverOnClock?: boolean;
}

/** Counters of the network's traffic. */
export interface InMemoryNetworkStats {
  readonly delivered: number;
  readonly dropped: number;
}

/** The host name of every in-memory address. */
export const IN_MEMORY_HOST = 'in-memory';

interface LinkQueue {
  readonly items: Array<{ readonly due: number; readonly deliver: () => void }>;
  timer: TimerHandle | undefined;
}

interface Link { readonly from: InMemoryTransport; readonly to: InMemoryTransport }

export class InMemoryNetwork {
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  private readonly running = new Map<string, InMemoryTransport>();
  private readonly addressByNode = new Map<NodeId, NodeAddress>();
  /** Open "connections" `from->to` by node id, so closing a node can raise peer-down on the others. */
  private readonly links = new Map<string, Link>();
  private readonly linkQueues = new Map<string, LinkQueue>();
  private readonly faults = new Map<string, LinkFaults>();
  /** Pairs of node groups that cannot reach each other. */
  private cuts: Array<[ReadonlySet<NodeId>, ReadonlySet<NodeId>]> = [];
  /** Paused nodes, with the frames to and from them held until they resume (a stopped process's socket buffers). */
  private readonly paused = new Map<NodeId, Array<() => void>>();
  private readonly fifo: AsyncFifo;
  private nextPort = 1;
  private readonly counters = { delivered: 0, dropped: 0 };

  constructor(options: InMemoryNetworkOptions = {}) {
    this.clock = options.clock ?? SystemClock.instance;
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? consoleLogger;
    this.fifo = options.deliverOnClock === true ? new AsyncFifo((fn) => this.clock.setTimeout(fn, 0)) : new AsyncFifo();
  }

  /** A new transport on this network; `port` reuses an address (a node restarting in place). */
  createTransport(options: InMemoryTransportOptions = {}): InMemoryTransport {
    const port = options.port ?? this.nextPort++;
    this.nextPort = Math.max(this.nextPort, port + 1);
    return new InMemoryTransport(this, { host: IN_MEMORY_HOST, port }, options);
  }

  /** Sets the faults of the links `selector` picks (all links when omitted); the most specific setting wins. */
  setFaults(faults: LinkFaults, selector: LinkSelector = {}): void {
    const check = (field: keyof LinkFaults, max: number) => {
      const v = faults[field];
      if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= max)) {
        throw new InvalidArgumentError(`setFaults: ${field} must be a number from 0 to ${max}, got ${String(v)}`);
      }
    };
    check('dropProbability', 1);
    check('delayMs', Number.MAX_SAFE_INTEGER);
    check('jitterMs', Number.MAX_SAFE_INTEGER);
    this.faults.set(`${selector.from ?? '*'}->${selector.to ?? '*'}`, faults);
  }

  /**
   * Removes every fault setting (partitions stay; see heal), or only the one set with exactly `selector`
   * (e.g. `{ from: 'a' }`), so the others stay.
   */
  clearFaults(selector?: LinkSelector): void {
    if (selector === undefined) this.faults.clear();
    else this.faults.delete(`${selector.from ?? '*'}->${selector.to ?? '*'}`);
  }

  /**
   * Cuts every link between nodes of different groups, both ways (adds to earlier partitions). Nodes in no
   * group are unaffected. Frames already in flight on a cut link are lost.
   */
  partition(...groups: ReadonlyArray<readonly NodeId[]>): void {
    if (groups.length < 2) throw new InvalidArgumentError('partition: give at least two groups of node ids');
    const sets = groups.map((g) => new Set(g));
    for (let i = 0; i < sets.length; i++) {
      for (let j = i + 1; j < sets.length; j++) {
        this.cuts.push([sets[i] as Set<NodeId>, sets[j] as Set<NodeId>]);
      }
    }
  }

  /** Removes every partition. */
  heal(): void {
    this.cuts = [];
  }

  /**
   * Pauses node `id`, as SIGSTOP does: frames to it and from it are held (not lost: TCP buffers them) until
   * `resume`, which delivers them in order. Its timers are the caller's to hold (see PausableClock).
   */
  pause(id: NodeId): void {
    if (!this.paused.has(id)) this.paused.set(id, []);
  }

  /** Resumes node `id`: what was held for it and from it goes on, in order, on later turns. */
  resume(id: NodeId): void {
    const held = this.paused.get(id);
    this.paused.delete(id);
    for (const fn of held ?? []) this.fifo.push(fn);
  }

  /** True when `from` can currently reach `to` (no partition between them). */
  canReach(from: NodeId, to: NodeId): boolean {
    return !this.cuts.some(([a, b]) => (a.has(from) && b.has(to)) || (b.has(from) && a.has(to)));
  }

  stats(): InMemoryNetworkStats {
    return { ...this.counters };
  }

  /** @internal Registers a started transport at its address. */
  bind(transport: InMemoryTransport): void {
    const key = formatAddress(transport.boundAddress);
    if (this.running.has(key)) {
      throw new TransportBindError(key, new Error('address already in use by a running in-memory transport'));
    }
    this.running.set(key, transport);
    this.addressByNode.set(transport.nodeId, transport.boundAddress);
  }

  /** @internal Removes a closed transport; every node linked with it gets peer-down. */
  unbind(transport: InMemoryTransport, reason: Error): void {
    this.running.delete(formatAddress(transport.boundAddress));
    for (const [key, link] of [...this.links]) {
      if (link.from === transport) this.closeLinkCleanly(key, link);
      else if (link.to === transport) this.dropLink(key, reason, new ConnectionLostError(formatAddress(transport.boundAddress), CLOSED_BY_PEER));
    }
  }

  /**
   * The link `key` from a node that closes its transport, as TCP closes it: the other end sees the close after
   * every frame already on the link (FIN after data), as a clean close by the peer.
   */
  private closeLinkCleanly(key: string, link: Link): void {
    this.links.delete(key);
    const { from, to } = link;
    const closed = new ConnectionLostError(formatAddress(from.boundAddress), CLOSED_BY_PEER);
    this.enqueueOnLink(key, this.clock.now(), () => {
      // a node that restarted meanwhile on the same id has a new link of the same key: this close is not its
      if (this.links.has(key)) return;
      to.peerEvent('down', { nodeId: from.nodeId, address: from.boundAddress, direction: 'inbound' }, closed);
    });
  }

  /** @internal The address of a node that has started on this network, if any. */
  addressOf(nodeId: NodeId): NodeAddress | undefined {
    return this.addressByNode.get(nodeId);
  }

  /** @internal Opens the link `from -> to` if it is not open (peer-up on both ends); false if `to` is not running. */
  link(from: InMemoryTransport, to: NodeAddress): InMemoryTransport | undefined {
    const target = this.running.get(formatAddress(to));
    if (target === undefined) return undefined;
    const key = `${from.nodeId}->${target.nodeId}`;
    if (!this.links.has(key)) {
      this.links.set(key, { from, to: target });
      this.fifo.push(() => {
        from.peerEvent('up', { nodeId: target.nodeId, address: target.boundAddress, direction: 'outbound' });
        target.peerEvent('up', { nodeId: from.nodeId, address: from.boundAddress, direction: 'inbound' });
      });
    }
    return target;
  }

  /** @internal Closes the link `from -> to`; peer-down on both ends. */
  unlink(from: InMemoryTransport, to: NodeAddress, reason: Error): void {
    const target = this.running.get(formatAddress(to));
    if (target !== undefined) this.dropLink(`${from.nodeId}->${target.nodeId}`, reason);
  }

  /** @internal Sends one frame `from -> to` through the link's faults. */
  route(from: InMemoryTransport, to: NodeAddress, deliver: (target: InMemoryTransport) => void): void {
    const heldFrom = this.paused.get(from.nodeId);
    if (heldFrom !== undefined) {
      heldFrom.push(() => this.route(from, to, deliver));
      return;
    }
    const target = this.link(from, to);
    if (target === undefined || !this.canReach(from.nodeId, target.nodeId)) {
      this.counters.dropped++;
      return;
    }
    const faults = this.faultsOf(from.nodeId, target.nodeId);
    if ((faults.dropProbability ?? 0) > 0 && this.random() < (faults.dropProbability ?? 0)) {
      this.counters.dropped++;
      return;
    }
    const arrive = () => {
      // Re-checked on arrival: the node may have closed, or a partition begun, while the frame was in flight.
      if (this.running.get(formatAddress(to)) !== target || !this.canReach(from.nodeId, target.nodeId)) {
        this.counters.dropped++;
        return;
      }
      const heldTo = this.paused.get(target.nodeId);
      if (heldTo !== undefined) {
        heldTo.push(arrive);
        return;
      }
      this.counters.delivered++;
      deliver(target);
    };
    const jitter = faults.jitterMs ?? 0;
    if (jitter > 0) {
      this.clock.setTimeout(() => this.fifo.push(arrive), (faults.delayMs ?? 0) + this.random() * jitter);
      return;
    }
    this.enqueueOnLink(`${from.nodeId}->${target.nodeId}`, this.clock.now() + (faults.delayMs ?? 0), arrive);
  }

  /** @internal Runs `fn` on a later turn, after everything queued before it (a node sending to itself). */
  later(fn: () => void): void {
    this.fifo.push(fn);
  }

  private faultsOf(from: NodeId, to: NodeId): LinkFaults {
    return this.faults.get(`${from}->${to}`) ?? this.faults.get(`${from}->*`) ?? this.faults.get(`*->${to}`) ??
      this.faults.get('*->*') ?? {};
  }

  /** Keeps a link FIFO: a frame is never due before the one queued ahead of it. */
  private enqueueOnLink(key: string, due: number, deliver: () => void): void {
    let queue = this.linkQueues.get(key);
    if (queue === undefined) {
      queue = { items: [], timer: undefined };
      this.linkQueues.set(key, queue);
    }
    const last = queue.items[queue.items.length - 1];
    queue.items.push({ due: Math.max(due, last?.due ?? due), deliver });
    if (queue.items.length === 1) this.pump(key, queue);
  }

  private pump(key: string, queue: LinkQueue): void {
    queue.timer = undefined;
    const now = this.clock.now();
    while (queue.items.length > 0 && (queue.items[0] as { due: number }).due <= now) {
      this.fifo.push((queue.items.shift() as { deliver: () => void }).deliver);
    }
    const head = queue.items[0];
    if (head === undefined) {
      this.linkQueues.delete(key);
      return;
    }
    queue.timer = this.clock.setTimeout(() => this.pump(key, queue), head.due - now);
  }

  /** Closes the link `key`: peer-down on both ends, with `reason` (its opening end sees `openerReason` when given). */
  private dropLink(key: string, reason: Error, openerReason: Error = reason): void {
    const link = this.links.get(key);
    if (link === undefined) return;
    this.links.delete(key);
    const { from, to } = link;
    this.fifo.push(() => {
      from.peerEvent('down', { nodeId: to.nodeId, address: to.boundAddress, direction: 'outbound' }, openerReason);
      to.peerEvent('down', { nodeId: from.nodeId, address: from.boundAddress, direction: 'inbound' }, reason);
    });
  }
}
