// Starting cluster nodes as real child processes (fixtures/node.ts run by tsx against the built `casty`),
// reading the port each one bound, and killing every one of them after each test.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitUntil } from '@casty/cluster/testing';

const root = join(__dirname, '..', '..', '..', '..');
const fixture = join(__dirname, 'fixtures', 'node.ts');

/** The JSON argument of fixtures/node.ts. */
export interface ChildArgs {
  readonly nodeId: string;
  readonly port?: number;
  readonly seeds?: string[];
  readonly secret?: string;
  readonly tls?: { readonly key: string; readonly cert: string; readonly ca: string };
}

const running = new Set<ChildNode>();

/** A node running in its own process. */
export class ChildNode {
  private stdout = '';
  private stderr = '';
  private exitCode: number | null | undefined = undefined;
  private readonly exited: Promise<void>;

  private constructor(readonly nodeId: string, private readonly process: ChildProcess) {
    process.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    process.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => process.once('exit', (code) => {
      this.exitCode = code;
      running.delete(this);
      resolve();
    }));
  }

  /** Starts a node and resolves once it prints the port it listens on. */
  static async start(args: ChildArgs): Promise<ChildNode> {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify({ port: 0, ...args })], {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'examples', 'tsconfig.json') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const node = new ChildNode(args.nodeId, child);
    running.add(node);
    await waitUntil(`node '${args.nodeId}' prints LISTENING`, () => {
      if (node.exitCode !== undefined) throw new Error(`node '${args.nodeId}' exited with ${node.exitCode}:\n${node.stderr}`);
      return /LISTENING \d+/.test(node.stdout);
    }, 30_000, () => ({ stdout: node.stdout, stderr: node.stderr }));
    return node;
  }

  /** The port the node bound. */
  get port(): number {
    return Number(/LISTENING (\d+)/.exec(this.stdout)?.[1]);
  }

  /** `127.0.0.1:<port>`, for seeds. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Sends `signal` and resolves once the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exitCode === undefined) this.process.kill(signal);
    await this.exited;
  }
}

/** Kills every child still running (call from afterEach). */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((node) => node.kill()));
}
