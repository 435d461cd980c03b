// A real network that can be cut in two, for partition tests over real processes: two Linux network
// namespaces ("left" and "right"), each held open by a `cat` that exits when its stdin closes (so neither
// outlives the test), joined by a veth pair. Nodes started through prefix(side) live in that namespace and
// bind its address. partition() adds blackhole routes on both sides, so every packet between them vanishes
// (established connections go silent, new ones fail), as in a real partition; heal() removes the routes.
// Needs root (unshare -n, nsenter, ip from iproute2); availability() says why not when that is missing.
// Nothing outside the two namespaces is touched, so tests running alongside are unaffected.
//
// NodeNetwork gives each node its own namespace and address instead, every one joined by a veth pair to a bridge
// in one more ("switch") namespace, so any grouping of the nodes can be cut apart, changed and healed while they run.

import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { waitUntil } from '@casty/cluster/testing';

export type Side = 'left' | 'right';

const ADDRESS: Record<Side, string> = { left: '10.77.0.1', right: '10.77.0.2' };
const other = (side: Side): Side => (side === 'left' ? 'right' : 'left');

/** A namespace held open by a process that exits when its stdin closes (so it never outlives the test). */
async function holder(): Promise<ChildProcess> {
  const child = spawn('unshare', ['-n', 'sh', '-c', 'echo READY; exec cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let exited = false;
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.once('exit', () => (exited = true));
  // Only once READY is printed is the process in its new namespace: entering it earlier would be the host's.
  await waitUntil('the namespace holder is ready', () => {
    if (exited) throw new Error(`unshare failed: ${out}`);
    return out.includes('READY');
  }, 10_000);
  return child;
}

export class TwoSidedNetwork {
  private constructor(private readonly holders: Record<Side, ChildProcess>) {}

  /** Undefined when this machine can make the namespaces; otherwise why not. */
  static availability(): string | undefined {
    try {
      execFileSync('unshare', ['-n', 'true'], { stdio: 'pipe' });
      execFileSync('nsenter', ['--version'], { stdio: 'pipe' });
      execFileSync('ip', ['-V'], { stdio: 'pipe' });
      return undefined;
    } catch (error) {
      return `network namespaces unavailable (needs root, unshare, nsenter and iproute2): ${String(error)}`;
    }
  }

  static async create(): Promise<TwoSidedNetwork> {
    const network = new TwoSidedNetwork({ left: await holder(), right: await holder() });
    network.ip('left', 'link', 'add', 'veth-left', 'type', 'veth', 'peer', 'name', 'veth-right', 'netns', String(network.holders.right.pid));
    for (const side of ['left', 'right'] as const) {
      network.ip(side, 'link', 'set', 'lo', 'up');
      network.ip(side, 'addr', 'add', `${ADDRESS[side]}/24`, 'dev', `veth-${side}`);
      network.ip(side, 'link', 'set', `veth-${side}`, 'up');
    }
    return network;
  }

  /** The address nodes on `side` bind. */
  host(side: Side): string {
    return ADDRESS[side];
  }

  /** The command prefix that runs a program in `side`'s namespace. */
  prefix(side: Side): string[] {
    return ['nsenter', '-t', String(this.holders[side].pid), '-n', '--'];
  }

  /** Drops every packet between the two sides. */
  partition(): void {
    for (const side of ['left', 'right'] as const) this.ip(side, 'route', 'add', 'blackhole', `${ADDRESS[other(side)]}/32`);
  }

  /** Lets packets between the two sides through again. */
  heal(): void {
    for (const side of ['left', 'right'] as const) this.ip(side, 'route', 'del', 'blackhole', `${ADDRESS[other(side)]}/32`);
  }

  /** Ends both namespaces (their processes must be gone first, or the namespace lives on with them). */
  close(): void {
    for (const h of Object.values(this.holders)) h.kill('SIGKILL');
  }

  private ip(side: Side, ...args: string[]): void {
    ip(this.holders[side], ...args);
  }
}

/** Runs `ip ...args` in the namespace `holder` keeps. */
function ip(holder: ChildProcess, ...args: string[]): void {
  execFileSync('nsenter', ['-t', String(holder.pid), '-n', 'ip', ...args], { stdio: 'pipe' });
}

/**
 * One namespace per node (its address 10.78.0.<n>, in the order of the ids given), all joined to a bridge in a
 * "switch" namespace. partition(...groups) drops every packet between nodes of different groups (a blackhole route
 * in each node's namespace for the address of each node outside its group); oneWay(from, to) only those from `from`
 * to `to` (over TCP that loses the connection both ways, as a half-broken link does); heal() removes every cut.
 * Availability: TwoSidedNetwork.availability().
 */
export class NodeNetwork {
  /** The blackhole routes in place: `<node> <address of the node it cannot reach>`. */
  private readonly cuts = new Set<string>();

  private constructor(private readonly switchHolder: ChildProcess, private readonly holders: ReadonlyMap<string, ChildProcess>,
    private readonly addresses: ReadonlyMap<string, string>) {}

  static async create(ids: readonly string[]): Promise<NodeNetwork> {
    const switchHolder = await holder();
    const holders = new Map<string, ChildProcess>();
    const network = new NodeNetwork(switchHolder, holders, new Map(ids.map((id, i) => [id, `10.78.0.${i + 1}`])));
    try {
      ip(switchHolder, 'link', 'add', 'bridge', 'type', 'bridge');
      ip(switchHolder, 'link', 'set', 'bridge', 'up');
      for (const [i, id] of ids.entries()) {
        const node = await holder();
        holders.set(id, node);
        ip(switchHolder, 'link', 'add', `port-${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(node.pid));
        ip(switchHolder, 'link', 'set', `port-${i}`, 'master', 'bridge');
        ip(switchHolder, 'link', 'set', `port-${i}`, 'up');
        ip(node, 'link', 'set', 'lo', 'up');
        ip(node, 'addr', 'add', `${network.host(id)}/24`, 'dev', 'eth0');
        ip(node, 'link', 'set', 'eth0', 'up');
      }
    } catch (error) {
      network.close();
      throw error;
    }
    return network;
  }

  /** The address node `id` binds. */
  host(id: string): string {
    const address = this.addresses.get(id);
    if (address === undefined) throw new Error(`no node '${id}' in this network`);
    return address;
  }

  /** The command prefix that runs a program in node `id`'s namespace. */
  prefix(id: string): string[] {
    return ['nsenter', '-t', String(this.holder(id).pid), '-n', '--'];
  }

  /** Drops every packet between nodes of different groups (nodes in no group keep every link). */
  partition(...groups: ReadonlyArray<readonly string[]>): void {
    for (const [g, group] of groups.entries()) {
      for (const [o, others] of groups.entries()) {
        if (o === g) continue;
        for (const from of group) for (const to of others) this.cut(from, to);
      }
    }
  }

  /** Drops every packet from `from` to `to` (not the other way). */
  oneWay(from: string, to: string): void {
    this.cut(from, to);
  }

  /** Removes every cut. */
  heal(): void {
    for (const cut of this.cuts) {
      const [from, address] = cut.split(' ') as [string, string];
      ip(this.holder(from), 'route', 'del', 'blackhole', `${address}/32`);
    }
    this.cuts.clear();
  }

  /** Ends every namespace (their processes must be gone first, or a namespace lives on with them). */
  close(): void {
    for (const h of [this.switchHolder, ...this.holders.values()]) h.kill('SIGKILL');
  }

  private cut(from: string, to: string): void {
    const cut = `${from} ${this.host(to)}`;
    if (this.cuts.has(cut)) return;
    ip(this.holder(from), 'route', 'add', 'blackhole', `${this.host(to)}/32`);
    this.cuts.add(cut);
  }

  private holder(id: string): ChildProcess {
    const h = this.holders.get(id);
    if (h === undefined) throw new Error(`no node '${id}' in this network`);
    return h;
  }
}
