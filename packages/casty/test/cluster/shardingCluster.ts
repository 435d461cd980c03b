// The cluster of child nodes the sharding and singleton multi-process tests run (Sharding.multiprocess.test.ts,
// Singleton.multiprocess.test.ts): each node its own process (fixtures/node.ts with `sharded: true`, development
// preset), commands to it, what each last answered, and every node's state for failure messages.

import { waitUntil } from '@casty/core/testing';
import { ChildNode } from './children';
import type { AccountView, Activation, NodeArgs } from './fixtures/protocol';

/** Now in epoch milliseconds, finer than Date.now(). */
export const now = () => performance.timeOrigin + performance.now();

/** `report` prints a figure as a `[prefix]` line; `timed` runs a test body and reports how long it took. */
export function reporter(prefix: string) {
  const report = (line: string) => process.stdout.write(`[${prefix}] ${line}\n`);
  const timed = async (name: string, body: () => Promise<void>) => {
    const started = now();
    await body();
    report(`${name}: ${((now() - started) / 1000).toFixed(1)} s`);
  };
  return { report, timed };
}

type Reply = Record<string, unknown>;
/** The answers of a command that asks each of several entities, and the errors, by id. */
/** What the senders of a load did to one entity: adds attempted, and acknowledged. */
export interface Tally { attempted: number; acked: number }

/** The senders' tallies (their 'load-stop' replies), summed per entity of `ids`. */
export function sumTallies(ids: readonly string[], stopped: ReadonlyArray<{ readonly tally?: unknown }>): Map<string, Tally> {
  const tally = new Map<string, Tally>(ids.map((id) => [id, { attempted: 0, acked: 0 }]));
  for (const reply of stopped) {
    for (const [id, t] of Object.entries(reply.tally as Record<string, Tally>)) {
      tally.get(id)!.attempted += t.attempted;
      tally.get(id)!.acked += t.acked;
    }
  }
  return tally;
}

export interface Asked<T> { answers: Record<string, T>; errors: Record<string, string> }

/** The child nodes, what each last answered (for failure messages), and the instances of nodes gone. */
export class Cluster {
  readonly nodes: ChildNode[] = [];
  /** Each node's last answer to each command. */
  private readonly last: Record<string, Record<string, unknown>> = {};
  /** Entity instances of nodes that have exited (from their shutdown answer), and lost with a SIGKILL: none. */
  readonly pastActivations: Activation[] = [];
  readonly startedAt = now();
  /** Nodes whose ring lagged their members (see allSee). */
  readonly ringLagged = new Set<string>();

  /** `replication`: the 'accounts' type's option on every node (see NodeArgs). */
  constructor(private readonly replication?: NodeArgs['replication']) {}

  async start(nodeId: string, where: { host?: string; secret?: string; prefix?: readonly string[]; logDebug?: boolean } = {}): Promise<ChildNode> {
    // the first node still running seeds the others (the first one started, unless it was killed or left)
    const seeds = this.running.length === 0 ? [] : [this.running[0]!.address];
    const node = await ChildNode.start({ nodeId, seeds, sharded: true, preset: 'development',
      ...(where.host === undefined ? {} : { host: where.host }), ...(where.secret === undefined ? {} : { secret: where.secret }),
      ...(where.logDebug ?? process.env.CHILD_LOG_DEBUG === '1' ? { logDebug: true } : {}),
      ...(this.replication === undefined ? {} : { replication: this.replication }) }, where.prefix === undefined ? {} : { prefix: where.prefix });
    this.nodes.push(node);
    return node;
  }

  /** The node `id` started last (a node killed and started again is a new process). */
  node(id: string): ChildNode {
    return this.nodes.filter((n) => n.nodeId === id).pop()!;
  }

  get running(): ChildNode[] {
    return this.nodes.filter((n) => n.alive);
  }

  /** Sends a command to node `id` and keeps its answer; an answer with `error` rejects. */
  async ask(id: string, cmd: string, fields: Reply = {}, timeoutMs = 20_000): Promise<Reply> {
    const reply: Reply = await this.node(id).request(cmd, fields, timeoutMs).catch((e: unknown) => ({ error: String(e) }));
    // kept for failure messages, without the long lists (tallies and instances are checked, and named, apart)
    const { tally: _tally, activations: _activations, answers: _answers, ...kept } = reply;
    (this.last[id] ??= {})[cmd] = kept;
    if (reply.error !== undefined) throw new Error(`${id} ${cmd}: ${String(reply.error)}\n${this.describe()}`);
    return reply;
  }

  /**
   * True when every running node sees exactly `ids` alive, and has exactly `ids` in its ring (no entity message
   * needed to bring a ring up to date: ShardingCurrentRing.test.ts).
   */
  async allSee(ids: readonly string[]): Promise<boolean> {
    const expected = [...ids].sort().join();
    const answers = await Promise.all(this.running.map(async (n) => {
      const [members, owners] = await Promise.all([this.ask(n.nodeId, 'members', {}, 2_000), this.ask(n.nodeId, 'owners', {}, 2_000)]);
      const alive = (members.view as string[]).filter((m) => /=alive@/.test(m)).map((m) => m.split('=')[0]!);
      if ((members.view as string[]).length !== ids.length || alive.sort().join() !== expected) return false;
      if ([...(owners.ring as string[])].sort().join() === expected) return true;
      this.ringLagged.add(n.nodeId);
      return false;
    }).map((p) => p.catch(() => false)));
    return answers.every(Boolean);
  }

  async waitAllSee(ids: readonly string[], what: string): Promise<void> {
    await waitUntil(what, () => this.allSee(ids), 30_000, () => this.state());
  }

  /** Each node's last answers, membership events (s since the start) and stderr tail. */
  state(): object {
    return {
      last: this.last,
      events: Object.fromEntries(this.nodes.map((n) => [n.nodeId, n.events.map((e) =>
        `${((e.at - this.startedAt) / 1000).toFixed(2)} ${e.type}(${e.node})`)])),
      stderr: Object.fromEntries(this.nodes.map((n) => [n.nodeId, n.errors.slice(-(Number(process.env.STDERR_TAIL) || 800))])),
      logs: Object.fromEntries(this.nodes.map((n) => [n.nodeId, n.logs.slice(-(Number(process.env.LOG_TAIL) || 60))
        .map((l) => `${((l.at - this.startedAt) / 1000).toFixed(2)} ${l.level} ${l.message}`)])),
      exited: this.nodes.filter((n) => !n.alive).map((n) => n.nodeId),
    };
  }

  describe(): string {
    return `state of every node: ${JSON.stringify(this.state(), null, 2)}`;
  }

  /** Owner of each id by node `from`'s ring. */
  async owners(from: string, ids: readonly string[]): Promise<Record<string, string>> {
    return (await this.ask(from, 'owners', { ids })).owners as Record<string, string>;
  }

  /** Asks every entity of `ids` for its view from node `from`; fails on any error. */
  async get(from: string, ids: readonly string[]): Promise<Record<string, AccountView>> {
    const reply = await this.ask(from, 'entity-get', { ids }) as unknown as Asked<AccountView>;
    if (Object.keys(reply.errors).length > 0) throw new Error(`asks from ${from} failed: ${JSON.stringify(reply.errors)}\n${this.describe()}`);
    return reply.answers;
  }

  /** Every entity instance every node ran (and those of nodes that left), by entity id. */
  async activations(): Promise<Map<string, Activation[]>> {
    const all = [...this.pastActivations];
    for (const n of this.running) all.push(...(await this.ask(n.nodeId, 'activations')).activations as Activation[]);
    const byId = new Map<string, Activation[]>();
    for (const a of all) byId.set(a.id, [...(byId.get(a.id) ?? []), a]);
    return byId;
  }

  /** Throws, with every node's state, when there are problems. */
  fail(problems: readonly string[]): void {
    if (problems.length > 0) throw new Error(`${problems.length} problems:\n${problems.slice(0, 40).join('\n')}\n${this.describe()}`);
  }
}
