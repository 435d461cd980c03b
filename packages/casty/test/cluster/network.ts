// A real network that can be cut in two, for partition tests over real processes: two Linux network
// namespaces ("left" and "right"), each held open by a `cat` that exits when its stdin closes (so neither
// outlives the test), joined by a veth pair. Nodes started through prefix(side) live in that namespace and
// bind its address. partition() adds blackhole routes on both sides, so every packet between them vanishes
// (established connections go silent, new ones fail), as in a real partition; heal() removes the routes.
// Needs root (unshare -n, nsenter, ip from iproute2); availability() says why not when that is missing.
// Nothing outside the two namespaces is touched, so tests running alongside are unaffected.

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
    execFileSync('nsenter', ['-t', String(this.holders[side].pid), '-n', 'ip', ...args], { stdio: 'pipe' });
  }
}
